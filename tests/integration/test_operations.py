"""Operations users perform while tasks are due (issue 11): pause, resume,
edit, trigger, and host clocks that disagree. Each test reproduces a way the
first version lost, doubled or moved an occurrence, checked against the run
records and the ready streams."""
import concurrent.futures
import json
import os
import signal
import threading
import time
import unittest

from dtstest import DtsCase, Http, api_up, free_port, parse_time, fmt_time, wait_for


def now_ms():
    return int(time.time() * 1000)


class OperationsCase(DtsCase):
    def fleet(self, executor=True, scheduler_env=None, **kw):
        self.start_api()
        self.sched = self.start("scheduler", env=scheduler_env)
        if executor:
            self.start("executor", "--recovery-timeout-ms", "2000")

    def task(self, tid):
        status, body, headers = self.api.get(f"/api/v1/tasks/{tid}")
        self.assertEqual(status, 200, body)
        return body

    def put(self, task, **changes):
        spec = {k: v for k, v in task.items() if k in ("name", "labels", "schedule", "action", "timeout_s")}
        spec.update(changes)
        status, body, _ = self.api.request("PUT", f"/api/v1/tasks/{task['id']}", spec,
                                           headers={"If-Match": f'"{task["version"]}"'})
        self.assertEqual(status, 200, body)
        return body

    def finished(self, tid, n):
        return wait_for(lambda: [r for r in self.runs(tid) if r["status"] != "running"] if
                        len([r for r in self.runs(tid) if r["status"] != "running"]) >= n else None,
                        timeout=30, what=f"{n} finished runs of {tid}")


class PauseResumeTest(OperationsCase):
    def test_one_time_task_paused_and_resumed_before_its_time_still_runs_at_it(self):
        self.fleet()
        at = now_ms() + 3000
        t = self.create({"name": "once", "schedule": {"at": fmt_time(at)}, "action": {"type": "noop"}})
        self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/pause")[0], 200)
        status, body, _ = self.api.post(f"/api/v1/tasks/{t['id']}/resume")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["state"], "active")
        self.assertEqual(parse_time(body["next_run_at"]), at, "resume lost the pending occurrence")
        runs = self.finished(t["id"], 1)
        self.assertEqual(len(runs), 1)
        self.assertGreaterEqual(parse_time(runs[0]["started_at"]), at, "ran before its time")
        self.assertEqual(wait_for(lambda: self.task(t["id"])["state"] == "completed" or None), True)

    def test_one_time_task_due_while_paused_runs_after_resume_never_during(self):
        self.fleet()
        at = now_ms() + 1500
        t = self.create({"name": "once", "schedule": {"at": fmt_time(at)}, "action": {"type": "noop"}})
        self.api.post(f"/api/v1/tasks/{t['id']}/pause")
        time.sleep(3)  # the window under test: its time passes while it is paused
        self.assertEqual(self.runs(t["id"]), [], "a paused task ran")
        resumed = now_ms()
        self.api.post(f"/api/v1/tasks/{t['id']}/resume")
        runs = self.finished(t["id"], 1)
        self.assertEqual(len(runs), 1)
        self.assertGreaterEqual(parse_time(runs[0]["started_at"]), resumed - 50)
        self.assertEqual(parse_time(runs[0]["scheduled_at"]), at, "the occurrence lost its identity")

    def test_resume_applies_the_misfire_policy_to_what_fell_due(self):
        self.fleet()
        specs = {"run_once": None, "skip": None}
        for policy in specs:
            specs[policy] = self.create({"name": policy, "schedule": {"cron": "* * * * * *"},
                                         "misfire": policy, "misfire_threshold_s": 1,
                                         "action": {"type": "noop"}})
        for t in specs.values():
            self.api.post(f"/api/v1/tasks/{t['id']}/pause")
        paused = {t["id"]: len(self.runs(t["id"])) for t in specs.values()}
        time.sleep(5)  # the window under test: five fires while paused
        for t in specs.values():
            self.assertEqual(len(self.runs(t["id"])), paused[t["id"]], "a paused task ran")
            self.api.post(f"/api/v1/tasks/{t['id']}/resume")
        wait_for(lambda: all(self.task(t["id"])["runs"]["misfires_coalesced"] +
                             self.task(t["id"])["runs"]["misfires_skipped"] >= 3 for t in specs.values()),
                 what="the misfire counts")
        once = self.task(specs["run_once"]["id"])["runs"]
        skip = self.task(specs["skip"]["id"])["runs"]
        self.assertGreaterEqual(once["misfires_coalesced"], 3)
        self.assertEqual(once["misfires_skipped"], 0)
        self.assertGreaterEqual(skip["misfires_skipped"], 4)
        self.assertEqual(skip["misfires_coalesced"], 0)


    def test_a_fire_due_just_after_a_resume_runs(self):
        """Past a pause longer than the misfire threshold, the fire due a few
        milliseconds after the resume is on time: it runs, never coalesced."""
        self.fleet()
        t = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "misfire_threshold_s": 1,
                         "action": {"type": "noop"}})
        for _ in range(2):
            self.api.post(f"/api/v1/tasks/{t['id']}/pause")
            time.sleep(2.2)  # the window under test: a pause past the threshold
            while time.time() % 1 < 0.990:
                time.sleep(0.002)
            self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/resume")[0], 200)
            boundary = (now_ms() // 1000 + 1) * 1000
            wait_for(lambda: boundary in {parse_time(r["scheduled_at"]) for r in self.runs(t["id"])},
                     timeout=5, what=f"the fire at {boundary}, due just after the resume")


class EditTest(OperationsCase):
    def test_label_edit_during_a_scheduler_gap_loses_nothing(self):
        self.fleet()
        t = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        self.finished(t["id"], 1)
        os.kill(self.sched.pid, signal.SIGSTOP)
        stopped = now_ms()
        time.sleep(4)  # the gap under test: four occurrences come due, undispatched
        self.put(self.task(t["id"]), labels={"team": "ops"})
        os.kill(self.sched.pid, signal.SIGCONT)
        time.sleep(3)
        scheds = sorted({parse_time(r["scheduled_at"]) for r in self.runs(t["id"])})
        gap = [s for s in range(stopped - stopped % 1000 + 1000, stopped + 4000, 1000)]
        self.assertEqual([s for s in gap if s not in scheds], [], "the edit dropped due occurrences")
        self.assertEqual(self.task(t["id"])["runs"]["misfires_coalesced"], 0)

    def test_an_edit_keeps_the_every_grid_and_a_schedule_change_keeps_its_anchor(self):
        self.fleet(executor=False)
        t = self.create({"name": "grid", "schedule": {"cron": "@every 7s"}, "action": {"type": "noop"}})
        created, first = parse_time(t["created_at"]), parse_time(t["next_run_at"])
        time.sleep(1.2)
        t2 = self.put(self.task(t["id"]), labels={"a": "b"})
        self.assertEqual(parse_time(t2["next_run_at"]), first, "a label edit moved the schedule")
        t3 = self.put(t2, schedule={"cron": "@every 5s"})
        self.assertEqual((parse_time(t3["next_run_at"]) - created) % 5000, 0, "the grid was re-anchored")

    def test_a_schedule_change_settles_the_old_schedules_due_occurrences(self):
        self.fleet()
        t = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        self.finished(t["id"], 1)
        os.kill(self.sched.pid, signal.SIGSTOP)
        pending = parse_time(self.task(t["id"])["next_run_at"])
        time.sleep(3)  # due but undispatched, within the misfire threshold
        edited = now_ms()
        self.put(self.task(t["id"]), schedule={"cron": "0 0 1 1 *"})
        os.kill(self.sched.pid, signal.SIGCONT)
        owed = set(range(pending, edited + 1, 1000))
        wait_for(lambda: owed <= {parse_time(r["scheduled_at"]) for r in self.runs(t["id"])},
                 what="the old schedule's due occurrences")

    def test_editing_a_completed_one_time_task_does_not_run_it_again(self):
        self.fleet()
        t = self.create({"name": "once", "action": {"type": "noop"}})
        wait_for(lambda: self.task(t["id"])["state"] == "completed" or None, what="completion")
        done = self.put(self.task(t["id"]), labels={"x": "y"})
        self.assertEqual(done["state"], "completed")
        time.sleep(1.5)
        self.assertEqual(len(self.runs(t["id"])), 1, "a label edit ran a completed task again")
        self.assertEqual(self.ready_entries(), [])


class TriggerTest(OperationsCase):
    def test_concurrent_triggers_each_get_their_own_occurrence(self):
        self.fleet(executor=False)
        t = self.create({"name": "manual", "schedule": {"cron": "0 0 1 1 *"}, "action": {"type": "noop"}})
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: self.api.post(f"/api/v1/tasks/{t['id']}/trigger"), range(80)))
        self.assertTrue(all(a[0] == 202 for a in answers), answers[:3])
        occurrences = [a[1]["occurrence_id"] for a in answers]
        self.assertEqual(len(set(occurrences)), 80, "two triggers shared an occurrence id")
        scheds = sorted(s for _, s, _ in self.ready_entries())
        self.assertEqual(len(set(scheds)), 80)

    def test_trigger_of_a_paused_task_is_a_conflict_and_runs_nothing(self):
        self.fleet()
        t = self.create({"name": "p", "schedule": {"cron": "0 0 1 1 *"}, "action": {"type": "noop"}})
        self.api.post(f"/api/v1/tasks/{t['id']}/pause")
        status, body, _ = self.api.post(f"/api/v1/tasks/{t['id']}/trigger")
        self.assertEqual(status, 409, body)
        self.assertEqual(self.ready_entries(), [])


class ResendTest(OperationsCase):
    def test_a_write_whose_reply_timed_out_is_not_applied_twice(self):
        port = free_port()
        self.start("api", "--listen", f"127.0.0.1:{port}", "--threads", "1",
                   env={"DTS_REDIS_TIMEOUT_MS": "300"})
        self.api = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(self.api), what="api")
        t = self.create({"name": "m", "schedule": {"cron": "0 0 1 1 *"}, "action": {"type": "noop"}})
        time.sleep(1.3)  # the connection is now idle long enough to look stale
        os.kill(self.redis.proc.pid, signal.SIGSTOP)
        threading.Timer(0.8, os.kill, (self.redis.proc.pid, signal.SIGCONT)).start()
        status, _, _ = self.api.post(f"/api/v1/tasks/{t['id']}/trigger")
        self.assertIn(status, (202, 503))
        wait_for(lambda: self.redis.cmd("PING") == "PONG", what="redis back")
        # A resend would land once Redis reads its sockets again: watch for it.
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            entries = [e for e in self.ready_entries() if e[0] == t["id"]]
            self.assertLessEqual(len(entries), 1, f"a trigger answered {status} was applied twice")
            time.sleep(0.05)
        if status == 202:
            self.assertEqual(len(entries), 1, "an acknowledged trigger was lost")


class ClockTest(OperationsCase):
    def test_a_fast_scheduler_dispatches_nothing_early_and_coalesces_nothing(self):
        self.fleet(scheduler_env={"DTS_CLOCK_SKEW_MS": "20000"})
        at = now_ms() + 3000
        once = self.create({"name": "once", "schedule": {"at": fmt_time(at)}, "action": {"type": "noop"}})
        tick = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        runs = self.finished(once["id"], 1)
        self.assertGreaterEqual(parse_time(runs[0]["started_at"]), at, "a fast clock ran it early")
        time.sleep(3)
        for r in self.runs(tick["id"]):
            self.assertGreaterEqual(parse_time(r["started_at"]), parse_time(r["scheduled_at"]))
        self.assertEqual(self.task(tick["id"])["runs"]["misfires_coalesced"], 0)

    def test_a_dead_fast_scheduler_is_replaced_within_the_lease_ttl(self):
        self.start_api()
        fast = self.start("scheduler", env={"DTS_CLOCK_SKEW_MS": "20000"})
        self.start("scheduler")
        self.start("executor")
        t = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        wait_for(lambda: len({self.redis.cmd("GET", f"dts:{{{s}}}:lease") for s in range(self.shards)}) == 2,
                 what="both schedulers holding leases")
        fast.kill9()
        time.sleep(8)
        late = [parse_time(r["started_at"]) - parse_time(r["scheduled_at"]) for r in self.runs(t["id"])]
        self.assertLess(max(late), 5000, f"occurrences waited {max(late)} ms for a dead scheduler")
        self.assertEqual(self.task(t["id"])["runs"]["misfires_coalesced"], 0)


class MisfireTest(OperationsCase):
    def backdate(self, tid, ms):
        shard = next(s for s in range(self.shards) if self.redis.cmd("ZSCORE", f"dts:{{{s}}}:due", tid))
        self.redis.cmd("ZADD", f"dts:{{{shard}}}:due", ms, tid)
        self.redis.cmd("HSET", f"dts:{{{shard}}}:task:{tid}", "next", ms)

    def test_an_hours_backlog_is_counted_without_stalling_the_scheduler(self):
        self.start_api()
        hour_ago = now_ms() - 3600 * 1000
        hour_ago -= hour_ago % 1000
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(lambda i: self.create({"name": f"t{i}", "schedule": {"cron": "* * * * * *"},
                                                       "action": {"type": "noop"}})["id"], range(300)))
        for tid in ids:
            self.backdate(tid, hour_ago)
        sched = self.start("scheduler", "--lease-ttl-ms", "300")
        other = self.start("scheduler", "--lease-ttl-ms", "300")
        wait_for(lambda: all(self.task(tid)["runs"]["misfires_coalesced"] >= 3590 for tid in ids[::15]),
                 timeout=60, what="every backlog counted")
        for p in (sched, other):
            self.assertNotIn("lease lost", p.logs(), "a pass outlived the lease")
        counts = {self.task(tid)["runs"]["misfires_coalesced"] for tid in ids[::15]}
        # the fires more than the 5 s threshold late, nothing more (an hour is 3600)
        self.assertTrue(all(3590 <= c <= 3600 for c in counts), counts)

    def test_run_all_runs_at_most_the_cap(self):
        self.start_api()
        t = self.create({"name": "all", "schedule": {"cron": "* * * * * *"}, "misfire": "run_all",
                         "action": {"type": "noop"}})
        start = now_ms() - 200 * 1000
        start -= start % 1000
        self.backdate(t["id"], start)
        self.start("scheduler")
        wait_for(lambda: self.task(t["id"])["runs"]["misfires_skipped"] > 0 and
                 parse_time(self.task(t["id"])["next_run_at"]) > now_ms(), what="the replay")
        skipped = self.task(t["id"])["runs"]["misfires_skipped"]
        self.assertIn(skipped, range(94, 99), "the oldest beyond the cap of 100 late ones are skipped")
        replayed = sorted(s for task, s, _ in self.ready_entries() if task == t["id"])
        self.assertEqual(replayed[0], start + skipped * 1000, "run_all ran one more than its cap")
        self.assertEqual(replayed[:100], list(range(replayed[0], replayed[0] + 100000, 1000)))


if __name__ == "__main__":
    unittest.main()
