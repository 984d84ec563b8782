"""The scheduler's due read (src/scripts/due_take.lua): plain one-time members
are dispatched inside the read itself, every other member goes through the
compare-and-set, and a new task's record holds no default fields. Checked
against the ready streams and the due sets, with no executor running, so
every dispatched occurrence is still there to count."""
import time
import unittest

from dtstest import DtsCase, fmt_time, parse_time, wait_for


def now_ms():
    return int(time.time() * 1000)


class DueTakeTest(DtsCase):
    def due_left(self):
        return sum(self.redis.cmd("ZCARD", f"dts:{{{s}}}:due") for s in range(self.shards))

    def shard_of(self, tid):
        return next(s for s in range(self.shards) if self.redis.cmd("EXISTS", f"dts:{{{s}}}:task:{tid}"))

    def test_a_mixed_batch_dispatches_each_occurrence_once(self):
        """One-time tasks, recurring ones and a deleted task's member, due
        together, read in batches smaller than what is due: every one-time
        occurrence is in a ready stream exactly once, as attempt 1 of kind
        schedule at its due time; the recurring ones run and move on; the
        member whose task is gone is dropped, never dispatched."""
        self.start_api()
        at = now_ms() + 2500
        once = [self.create({"name": f"once-{i}", "schedule": {"at": fmt_time(at + i % 3)},
                             "action": {"type": "noop"}})["id"] for i in range(60)]
        crons = [self.create({"name": f"tick-{i}", "schedule": {"cron": "* * * * * *"},
                              "action": {"type": "noop"}})["id"] for i in range(5)]
        gone = self.create({"name": "gone", "schedule": {"at": fmt_time(at)}, "action": {"type": "noop"}})["id"]
        shard = self.shard_of(gone)
        self.redis.cmd("DEL", f"dts:{{{shard}}}:task:{gone}")  # its due member stays behind
        self.start("scheduler", "--batch", "3")
        wait_for(lambda: self.due_left() == len(crons) and
                 len([e for e in self.ready_entries() if e[0] in once]) >= len(once),
                 timeout=30, what="every one-time occurrence dispatched")
        wait_for(lambda: all(any(e[0] == c for e in self.ready_entries()) for c in crons),
                 timeout=10, what="the recurring tasks' fires")
        entries = self.ready_entries()
        for tid in once:
            mine = [e for e in entries if e[0] == tid]
            self.assertEqual(len(mine), 1, f"{tid} dispatched {len(mine)} times")
            self.assertEqual(mine[0][2], 1)
        self.assertFalse(any(e[0] == gone for e in entries), "a deleted task's member was dispatched")
        self.assertIsNone(self.redis.cmd("ZSCORE", f"dts:{{{shard}}}:due", gone))
        for s in range(self.shards):
            for _id, fields in self.redis.cmd("XRANGE", f"dts:{{{s}}}:ready", "-", "+") or []:
                f = dict(zip(fields[::2], fields[1::2]))
                if f["task"] in once:
                    self.assertEqual(f["kind"], "schedule")
                    self.assertIn(int(f["sched"]), (at, at + 1, at + 2))
                    self.assertGreaterEqual(int(_id.split("-")[0]), int(f["sched"]), "dispatched early")
        t = self.api.get(f"/api/v1/tasks/{once[0]}")[1]
        self.assertEqual(t["runs"]["dispatched"], 1)
        self.assertIsNone(t["next_run_at"])

    def test_a_skipped_misfire_of_a_one_time_task_is_counted_not_run(self):
        """A one-time task later than its threshold with misfire skip is
        left to the planner: not dispatched, counted, and the task completes."""
        self.start_api()
        t = self.create({"name": "late", "schedule": {"at": fmt_time(now_ms() + 60000)}, "misfire": "skip",
                         "misfire_threshold_s": 1, "action": {"type": "noop"}})
        shard = self.shard_of(t["id"])
        self.redis.cmd("ZADD", f"dts:{{{shard}}}:due", now_ms() - 10000, t["id"])
        self.start("scheduler")
        wait_for(lambda: self.api.get(f"/api/v1/tasks/{t['id']}")[1]["state"] == "completed",
                 timeout=20, what="the skipped task completing")
        body = self.api.get(f"/api/v1/tasks/{t['id']}")[1]
        self.assertEqual(body["runs"]["misfires_skipped"], 1)
        self.assertEqual(body["runs"]["dispatched"], 0)
        self.assertFalse(any(e[0] == t["id"] for e in self.ready_entries()), "a skipped misfire ran")

    def test_a_new_task_stores_no_default_fields_and_reads_the_same(self):
        self.start_api()
        t = self.create({"name": "lean", "schedule": {"at": fmt_time(now_ms() + 3600000)},
                         "action": {"type": "noop"}})
        h = self.redis.cmd("HGETALL", f"dts:{{{self.shard_of(t['id'])}}}:task:{t['id']}")
        fields = set(h[::2])
        for absent in ("runs_succeeded", "runs_failed", "dispatched", "misfires_skipped", "misfires_coalesced",
                       "overlap_skipped", "last_run", "updated", "cron", "tz", "overlap", "misfire",
                       "misfire_ms", "end_at", "max_runs"):
            self.assertNotIn(absent, fields)
        body = self.api.get(f"/api/v1/tasks/{t['id']}")[1]
        self.assertEqual(body["runs"], {"succeeded": 0, "failed": 0, "dispatched": 0, "misfires_skipped": 0,
                                        "misfires_coalesced": 0, "overlap_skipped": 0, "excluded": 0})
        self.assertEqual(body["updated_at"], body["created_at"])
        self.assertIsNone(body["last_run"])
        self.assertEqual(body["overlap"], "allow")
        self.assertEqual(body["misfire"], "run_once")
        self.api.post(f"/api/v1/tasks/{t['id']}/pause")
        paused = self.api.get(f"/api/v1/tasks/{t['id']}")[1]
        self.assertGreaterEqual(parse_time(paused["updated_at"]), parse_time(body["created_at"]))
        self.assertEqual(paused["state"], "paused")


if __name__ == "__main__":
    unittest.main()
