"""Occurrences run on time, once: one-time, immediate and every-second tasks,
and pause, resume and delete taking effect. Real api, scheduler, executors."""
import time
import unittest

from dtstest import DtsCase, fmt_time, parse_time, percentile, wait_for

LATENESS = []  # (kind, ms) of every run seen, summarised at the end


class TimingTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()
        self.start("scheduler")
        self.start("executor", "--concurrency", "8")
        self.start("executor", "--concurrency", "8")

    def wait_runs(self, task_id, n, timeout=10, status="succeeded"):
        return wait_for(lambda: (lambda r: r if len([x for x in r if x["status"] == status]) >= n else None)(
            self.runs(task_id)), timeout=timeout, what=f"{n} {status} runs of {task_id}")

    def test_one_time_task_starts_within_a_second_of_its_time(self):
        at = (int(time.time() * 1000) // 1000 + 3) * 1000  # a whole second, 2 to 3 s ahead
        task = self.create({"name": "once", "schedule": {"at": fmt_time(at)},
                            "action": {"type": "shell", "command": ["echo", "once"]}})
        run = self.wait_runs(task["id"], 1, timeout=8)[0]
        started = parse_time(run["started_at"])
        self.assertGreaterEqual(started, at, "started early")
        self.assertLess(started - at, 1000)
        self.assertEqual(run["output"], "once\n")
        self.assertEqual(run["lateness_ms"], started - at)
        LATENESS.append(("at", run["lateness_ms"]))
        wait_for(lambda: self.api.get(f"/api/v1/tasks/{task['id']}")[1]["state"] == "completed",
                 what="one-time task to complete")

    def test_immediate_task_starts_within_a_second(self):
        before = int(time.time() * 1000)
        task = self.create({"name": "now", "action": {"type": "shell", "command": ["sh", "-c", "echo $DTS_RUN_ID"]}})
        run = self.wait_runs(task["id"], 1, timeout=5)[0]
        self.assertLess(parse_time(run["started_at"]) - before, 1000)
        self.assertEqual(run["output"].strip(), run["id"])
        self.assertEqual(run["attempt"], 1)
        self.assertEqual(run["exit_code"], 0)
        LATENESS.append(("now", run["lateness_ms"]))

    def test_every_second_cron_has_no_gaps_and_no_doubles(self):
        task = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"},
                            "action": {"type": "shell", "command": ["true"]}})
        first = parse_time(task["next_run_at"])
        runs = self.wait_runs(task["id"], 11, timeout=20)
        self.api.post(f"/api/v1/tasks/{task['id']}/pause")
        scheduled = sorted(parse_time(r["scheduled_at"]) for r in self.runs(task["id"]))
        self.assertEqual(len(scheduled), len(set(scheduled)), "an occurrence ran twice")
        self.assertEqual(scheduled[0], first)
        self.assertEqual(scheduled, list(range(first, scheduled[-1] + 1, 1000)), "a second was skipped")
        self.assertGreaterEqual(len(scheduled), 11)
        for r in runs:
            self.assertGreaterEqual(r["lateness_ms"], 0, "started early")
            self.assertLess(r["lateness_ms"], 1000)
            LATENESS.append(("cron", r["lateness_ms"]))

    def test_pause_stops_and_resume_restarts(self):
        task = self.create({"name": "pausable", "schedule": {"cron": "* * * * * *"},
                            "action": {"type": "noop"}})
        path = f"/api/v1/tasks/{task['id']}"
        self.wait_runs(task["id"], 2)
        self.assertEqual(self.api.post(path + "/pause")[0], 200)
        paused_at = int(time.time() * 1000)
        # Wait until the run history stops growing: nothing may be scheduled after the pause.
        count = len(self.runs(task["id"]))
        wait_for(lambda: self.runs(task["id"])[0]["status"] != "running", what="last run to finish")
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            for r in self.runs(task["id"]):
                self.assertLess(parse_time(r["scheduled_at"]), paused_at + 5, "ran while paused")
            time.sleep(0.25)
        self.assertLessEqual(len(self.runs(task["id"])), count + 1)
        self.assertEqual(self.api.post(path + "/resume")[0], 200)
        resumed_at = int(time.time() * 1000)
        wait_for(lambda: any(parse_time(r["scheduled_at"]) > resumed_at for r in self.runs(task["id"])),
                 timeout=5, what="a run after resume")

    def test_delete_stops_it(self):
        task = self.create({"name": "doomed", "schedule": {"cron": "* * * * * *"},
                            "action": {"type": "noop"}})
        self.wait_runs(task["id"], 1)
        self.assertEqual(self.api.request("DELETE", f"/api/v1/tasks/{task['id']}")[0], 204)
        deleted_at = time.time()
        # Nothing of the task may come back: no key, no ready entry, for 2.5 s.
        while time.time() < deleted_at + 2.5:
            self.assertEqual(self.redis.cmd("KEYS", f"*{task['id']}*"), [])
            self.assertNotIn(task["id"], [e[0] for e in self.ready_entries()])
            time.sleep(0.25)

    @classmethod
    def tearDownClass(cls):
        if LATENESS:
            ms = [v for _, v in LATENESS]
            print(f"\nlateness over {len(ms)} runs: p50={percentile(ms, 50)} ms "
                  f"p99={percentile(ms, 99)} ms max={max(ms)} ms")


if __name__ == "__main__":
    unittest.main()


class HistoryTrimTest(DtsCase):
    def test_trimming_never_drops_a_running_run(self):
        self.start_api()
        self.start("scheduler")
        self.start("executor", "--concurrency", "4", "--runs-kept", "2")
        marker = f"{self.tmp}/slow-once"
        task = self.create({"name": "slow-first", "schedule": {"cron": "* * * * * *"}, "action": {
            "type": "shell", "command": ["sh", "-c", f"[ -f {marker} ] || {{ touch {marker}; sleep 3; }}"]}})
        # The slow first run finishes after several fast ones were trimmed around it.
        first = wait_for(lambda: (lambda r: r[-1] if len(r) >= 2 else None)(self.runs(task["id"])), what="runs")
        wait_for(lambda: self.api.get(f"/api/v1/tasks/{task['id']}")[1]["runs"]["succeeded"] >= 6,
                 timeout=15, what="six runs")
        self.api.post(f"/api/v1/tasks/{task['id']}/pause")
        wait_for(lambda: all(r["status"] != "running" for r in self.runs(task["id"])), what="runs to finish")
        shard = [s for s in range(self.shards) if self.redis.cmd("EXISTS", f"dts:{{{s}}}:task:{task['id']}")][0]
        records = self.redis.cmd("HGETALL", f"dts:{{{shard}}}:runs:{task['id']}")
        indexed = self.redis.cmd("ZRANGE", f"dts:{{{shard}}}:runidx:{task['id']}", 0, -1)
        self.assertEqual(sorted(records[::2]), sorted(indexed), "a run record outside the index")
        self.assertLessEqual(len(indexed), 2)
        self.assertNotIn(first["id"], indexed)  # trimmed once it had finished
        for raw in records[1::2]:
            run = __import__("json").loads(raw)
            self.assertIn("scheduled_ms", run)  # times inside Redis are ms
            self.assertIn("attempt", run)


class SchedulerMetricsTest(DtsCase):
    def test_scheduler_serves_probes_and_backlog_gauges(self):
        import urllib.request
        from dtstest import free_port
        self.start_api()
        port = free_port()
        self.start("scheduler", "--listen", f"127.0.0.1:{port}")
        # No executor: two immediate tasks stay in a ready stream.
        for i in range(2):
            self.create({"name": f"waiting{i}", "action": {"type": "noop"}})

        def metrics():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
            except OSError:
                return ""
        text = wait_for(lambda: (lambda t: t if "dts_leases_held 16" in t and "dts_ready_entries" in t else None)(
            metrics()), timeout=10, what="scheduler metrics")
        entries = sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("dts_ready_entries{"))
        self.assertEqual(entries, 2)
        self.assertIn('dts_ready_pending{shard="0"} 0', text)
        self.assertEqual(urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz").status, 200)


class ClockJumpTest(DtsCase):
    def test_a_scheduler_whose_clock_jumps_ahead_dispatches_nothing_early(self):
        """The failure seam DTS_CLOCK_SKEW_MS: due times are judged by Redis's
        clock, never the scheduler's own, so a host clock an hour ahead runs
        nothing early (it once ran the hour-ahead task at once)."""
        self.start_api()
        later = self.create({"name": "in-an-hour", "schedule": {"at": fmt_time(int(time.time() * 1000) + 3_600_000)},
                             "action": {"type": "noop"}})
        soon = self.create({"name": "soon", "schedule": {"at": fmt_time(int(time.time() * 1000) + 1500)},
                            "action": {"type": "noop"}})
        self.start("scheduler", env={"DTS_CLOCK_SKEW_MS": str(3_600_000 + 60_000)})
        wait_for(lambda: [e for e in self.ready_entries() if e[0] == soon["id"]], what="the due occurrence")
        time.sleep(0.5)  # a second pass must not dispatch it again, nor the hour-ahead task
        self.assertEqual([e[0] for e in self.ready_entries()], [soon["id"]])
        self.assertIsNotNone(self.api.get(f"/api/v1/tasks/{later['id']}")[1]["next_run_at"])