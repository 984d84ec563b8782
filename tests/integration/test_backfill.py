"""Backfill: POST /api/v1/tasks/{id}/backfill {"from", "to"} runs each
occurrence of a cron schedule in [from, to) once, in time order, with the
occurrence id of its scheduled time and kind backfill; excluded occurrences
are left out; a repeated or overlapping range runs nothing twice (checked
against a ledger the action writes); an executor killed mid-backfill loses
nothing. Real api, scheduler and executors, real Redis."""
import time
import unittest

from dtstest import DtsCase, fmt_time, ledger_action, read_ledger, wait_for

MIN = 60000


class BackfillTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()
        # A whole minute at least 30 minutes ago: the ranges below are past.
        self.base = (int(time.time() * 1000) // MIN - 40) * MIN

    def backfill(self, task_id, frm, to, expect=202):
        status, body, _ = self.api.post(f"/api/v1/tasks/{task_id}/backfill", {"from": fmt_time(frm), "to": fmt_time(to)})
        self.assertEqual(status, expect, body)
        return body

    def backfilled(self, task_id, n):
        """The succeeded backfill runs, once N occurrences have one."""
        def done():
            ok = [x for x in self.runs(task_id) if x["kind"] == "backfill" and x["status"] == "succeeded"]
            return ok if len({x["occurrence_id"] for x in ok}) >= n else None
        return wait_for(done, timeout=40, what=f"{n} backfilled runs")

    def test_each_occurrence_runs_once_in_order_and_repeats_run_nothing_twice(self):
        ledger = self.ledger_file()
        self.start("executor", "--concurrency", "1")  # one at a time: the start order is the queue order
        t = self.create({"name": "minutely", "schedule": {"cron": "* * * * *"}, "action": ledger_action(ledger),
                         "exclude": [{"from": fmt_time(self.base + 3 * MIN), "to": fmt_time(self.base + 4 * MIN)}]})
        body = self.backfill(t["id"], self.base, self.base + 10 * MIN)
        self.assertEqual((body["occurrences"], body["queued"], body["already"]), (9, 9, 0))  # minute 3 excluded
        runs = self.backfilled(t["id"], 9)
        want = [self.base + i * MIN for i in range(10) if i != 3]
        self.assertEqual(sorted(r["occurrence_id"] for r in runs), sorted(f"{t['id']}:{s}" for s in want))
        self.assertTrue(all(r["attempt"] == 1 for r in runs))
        again = self.backfill(t["id"], self.base, self.base + 10 * MIN)
        self.assertEqual((again["queued"], again["already"]), (0, 9))
        more = self.backfill(t["id"], self.base + 5 * MIN, self.base + 15 * MIN)
        self.assertEqual((more["queued"], more["already"]), (5, 5))
        self.backfilled(t["id"], 14)
        starts, _ = read_ledger(ledger)
        occs = [s["occ"] for s in starts]
        self.assertEqual(len(occs), 14)
        self.assertEqual(len(set(occs)), 14, "an occurrence ran twice")
        first = [s["sched"] for s in starts[:9]]
        self.assertEqual(first, want, "not in time order")

    def test_bad_ranges_paused_and_one_time_tasks_are_refused(self):
        t = self.create({"name": "c", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        now = int(time.time() * 1000)
        for frm, to in [(now - 5000, now - 6000), (now - 5000, now - 5000),  # reversed, empty
                        (now - 3 * 3600 * 1000, now - 3600),                   # 10,796 occurrences
                        (now - 5000, now + 60000)]:                           # the future
            problem = self.backfill(t["id"], frm, to, expect=400)
            self.assertEqual(problem["field"], "to", problem)
        status, problem, _ = self.api.post(f"/api/v1/tasks/{t['id']}/backfill", {"from": "yesterday", "to": fmt_time(now)})
        self.assertEqual((status, problem["field"]), (400, "from"))
        self.assertEqual(self.backfill(t["id"], now - 10000 * 1000 - 1000, now - 1000)["queued"], 10000)  # the cap
        self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/pause")[0], 200)
        self.assertIn("paused", self.backfill(t["id"], now - 5000, now - 1000, expect=409)["detail"])
        once = self.create({"name": "o", "schedule": {"at": fmt_time(now + 3600000)}, "action": {"type": "noop"}})
        self.assertIn("cron", self.backfill(once["id"], now - 5000, now - 1000, expect=409)["detail"])
        self.backfill("0123456789abcdef01234567", now - 5000, now - 1000, expect=404)

    def test_an_executor_killed_mid_backfill_loses_nothing_and_doubles_nothing(self):
        ledger = self.ledger_file()
        slots = 2
        flags = ["--concurrency", str(slots), "--recovery-timeout-ms", "2000"]
        e1 = self.start("executor", *flags, name="e1")
        t = self.create({"name": "slow", "schedule": {"cron": "* * * * *"}, "action": ledger_action(ledger, 0.4)})
        self.assertEqual(self.backfill(t["id"], self.base, self.base + 12 * MIN)["queued"], 12)
        wait_for(lambda: len(read_ledger(ledger)[0]) >= 3, timeout=20, what="some backfilled runs to start")
        e1.kill9()
        killed_at = len(read_ledger(ledger)[0])
        self.start("executor", *flags, name="e2")
        self.backfilled(t["id"], 12)
        starts, ends = read_ledger(ledger)
        occs = [s["occ"] for s in starts]
        self.assertEqual(sorted(set(occs)), sorted(f"{t['id']}:{self.base + i * MIN}" for i in range(12)))
        # Only those in flight at the kill run again, as their next attempt (one killed before its
        # action wrote its line shows only that next attempt): at most the actions running in the
        # slots and as many more whose action was over but whose result was not yet recorded.
        runs = [s["run"] for s in starts]
        self.assertEqual(len(runs), len(set(runs)), "a run started twice")
        again = {s["occ"] for s in starts if s["attempt"] > 1}
        self.assertLessEqual(len(again), 2 * slots, (killed_at, starts))
        self.assertLessEqual(len(starts), 12 + len(again), (killed_at, starts))
        finished = {e["run"].rsplit(":", 1)[0] for e in ends}
        self.assertEqual(len(finished), 12)

    def key(self, task_id):
        h = 2166136261  # the task's shard: FNV-1a of its id (src/store.c)
        for c in task_id.encode():
            h = ((h ^ c) * 16777619) & 0xFFFFFFFF
        return f"dts:{{{h % self.shards}}}:backfill:{task_id}"

    def test_the_backfill_set_goes_with_the_task_deleted_or_swept(self):
        self.start("scheduler", "--sweep-interval-ms", "300", "--completed-retention-s", "2")
        self.start("executor")
        gone = self.create({"name": "deleted", "schedule": {"cron": "* * * * *"}, "action": {"type": "noop"}})
        self.backfill(gone["id"], self.base, self.base + 2 * MIN)
        self.assertEqual(self.redis.cmd("ZCARD", self.key(gone["id"])), 2)
        self.assertEqual(self.api.request("DELETE", f"/api/v1/tasks/{gone['id']}")[0], 204)
        self.assertEqual(self.redis.cmd("EXISTS", self.key(gone["id"])), 0)
        # A cron task that ran its max_runs is completed; a backfill still runs its past.
        done = self.create({"name": "done", "schedule": {"cron": "* * * * * *"}, "max_runs": 1,
                            "action": {"type": "noop"}})
        wait_for(lambda: self.api.get(f"/api/v1/tasks/{done['id']}")[1]["state"] == "completed", timeout=15,
                 what="the task to complete")
        self.assertEqual(self.backfill(done["id"], self.base, self.base + 3000)["queued"], 3)
        wait_for(lambda: self.api.get(f"/api/v1/tasks/{done['id']}")[0] == 404, timeout=20,
                 what="retention to delete the completed task")
        self.assertEqual(self.redis.cmd("EXISTS", self.key(done["id"])), 0)


if __name__ == "__main__":
    unittest.main()
