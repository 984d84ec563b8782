"""Jitter: a cron task's occurrences fire at a stable offset in [0, jitter_s)
after their cron times, derived from the task id; never early, lateness
measured against the shifted time, the task's next_run_at and the preview
show the shifted times. Real api, scheduler and executor, real Redis."""
import unittest

from dtstest import DtsCase, parse_time, wait_for

CRON = "*/2 * * * * *"  # every 2 s: the offset is in [0, 2000) ms


class JitterTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()

    def finished(self, task_id, n):
        return wait_for(lambda: (lambda r: r if len([x for x in r if x["status"] == "succeeded"]) >= n else None)(
            self.runs(task_id)), timeout=30, what=f"{n} runs")

    def test_fires_at_the_task_offset_never_early(self):
        self.start("scheduler")
        self.start("executor")
        t = self.create({"name": "spread", "schedule": {"cron": CRON}, "jitter_s": 2, "action": {"type": "noop"}})
        self.assertEqual(t["jitter_s"], 2)
        offset = parse_time(t["next_run_at"]) % 2000
        status, preview, _ = self.api.post("/api/v1/cron/preview", {"cron": CRON, "count": 3, "jitter_s": 2,
                                                                    "task_id": t["id"]})
        self.assertEqual(status, 200, preview)
        self.assertEqual(preview["offset_ms"], offset)
        for item in preview["items"]:
            self.assertEqual(parse_time(item["utc"]) % 2000, offset)
        runs = [r for r in self.finished(t["id"], 3) if r["status"] == "succeeded"]
        for r in runs:
            sched, started = parse_time(r["scheduled_at"]), parse_time(r["started_at"])
            self.assertEqual(sched % 2000, offset, r)         # the same offset every time
            self.assertGreaterEqual(started, sched, r)        # never early
            self.assertEqual(r["lateness_ms"] >= 0, True, r)  # measured against the shifted time
            self.assertLess(r["lateness_ms"], 1000, r)
            self.assertEqual(r["occurrence_id"], f"{t['id']}:{sched}")
        _, now, _ = self.api.get(f"/api/v1/tasks/{t['id']}")
        self.assertEqual(parse_time(now["next_run_at"]) % 2000, offset)

    def test_an_edit_of_jitter_reschedules_and_bad_values_are_400(self):
        t = self.create({"name": "edit", "schedule": {"cron": "0 0 * * *"}, "action": {"type": "noop"}})
        self.assertEqual(parse_time(t["next_run_at"]) % 86400000, 0)
        spec = {"name": "edit", "schedule": {"cron": "0 0 * * *"}, "action": {"type": "noop"}, "jitter_s": 3600}
        status, body, _ = self.api.request("PUT", f"/api/v1/tasks/{t['id']}", spec)
        self.assertEqual(status, 200, body)
        shifted = parse_time(body["next_run_at"]) % 86400000
        self.assertLess(shifted, 3600000)
        self.assertEqual(shifted, parse_time(self.api.get(f"/api/v1/tasks/{t['id']}")[1]["next_run_at"]) % 86400000)
        for bad in [{"jitter_s": 61, "schedule": {"cron": "* * * * *"}},   # larger than the period
                    {"jitter_s": 0, "schedule": {"cron": "* * * * *"}},
                    {"jitter_s": "5", "schedule": {"cron": "* * * * *"}},
                    {"jitter_s": 5}]:                                      # not a cron task
            status, problem, _ = self.api.post("/api/v1/tasks", dict({"name": "bad", "action": {"type": "noop"}}, **bad))
            self.assertEqual((status, problem["field"]), (400, "jitter_s"), (bad, problem))
        status, problem, _ = self.api.post("/api/v1/cron/preview", {"cron": CRON, "jitter_s": 2})
        self.assertEqual((status, problem["field"]), (400, "task_id"))
        self.assertEqual(len(self.api.get("/api/v1/tasks")[1]["items"]), 1)


if __name__ == "__main__":
    unittest.main()
