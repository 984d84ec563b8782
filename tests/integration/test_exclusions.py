"""Exclusions: a cron task's "exclude" ranges (instants, or dates as whole
days in its zone) and "exclude_cron" (matched by the minute) skip the
occurrences inside: none is dispatched or run, each is counted (runs.excluded,
dts_occurrences_excluded_total), the preview marks them, and bad input is a
400 naming the field. Real api, scheduler and executor, real Redis."""
import time
import unittest
import urllib.request

from dtstest import DtsCase, fmt_time, free_port, parse_time, wait_for

EVERY_SECOND = "* * * * * *"


class ExclusionsTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()

    def task(self, task_id):
        status, body, _ = self.api.get(f"/api/v1/tasks/{task_id}")
        self.assertEqual(status, 200, body)
        return body

    def test_excluded_seconds_never_run_and_are_counted(self):
        port = free_port()
        self.start("scheduler", "--listen", f"127.0.0.1:{port}")
        self.start("executor")
        base = (int(time.time()) + 3) * 1000
        ranges = [{"from": fmt_time(base + 2000 * k), "to": fmt_time(base + 2000 * k + 1000)} for k in range(6)]
        t = self.create({"name": "odd seconds", "schedule": {"cron": EVERY_SECOND}, "exclude": ranges,
                         "action": {"type": "noop"}})
        self.assertEqual(t["exclude"], ranges)
        end = base + 12000
        wait_for(lambda: any(parse_time(r["scheduled_at"]) >= end + 1000 for r in self.runs(t["id"])),
                 timeout=40, what="runs past the excluded ones")
        runs = self.runs(t["id"])
        scheds = sorted(parse_time(r["scheduled_at"]) for r in runs)
        for s in scheds:
            self.assertFalse(base <= s < end and (s - base) % 2000 == 0, f"excluded {s} ran")
        self.assertTrue(all(s + 1000 in scheds for s in range(base, end, 2000)), scheds)  # the others did
        self.assertEqual(len(scheds), len(set(scheds)))
        view = self.task(t["id"])
        self.assertEqual(view["runs"]["excluded"], 6, view["runs"])
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        self.assertIn("dts_occurrences_excluded_total 6", text)

    def test_a_task_excluded_for_ever_runs_nothing_and_does_not_spin(self):
        self.start("scheduler")
        self.start("executor")
        t = self.create({"name": "never", "schedule": {"cron": EVERY_SECOND}, "exclude_cron": "* * * * *",
                         "action": {"type": "noop"}})
        # The first due is passed over with the next thousand fires, in one bounded plan.
        view = wait_for(lambda: (lambda v: v if v["runs"]["excluded"] > 0 else None)(self.task(t["id"])),
                        timeout=15, what="the excluded count")
        self.assertEqual(view["runs"]["excluded"], 1001, view["runs"])
        self.assertGreater(parse_time(view["next_run_at"]), time.time() * 1000 + 900 * 1000)
        time.sleep(2)  # nothing may run meanwhile: not a wait for a condition
        self.assertEqual(self.runs(t["id"]), [])
        self.assertEqual(self.task(t["id"])["runs"]["dispatched"], 0)
        self.assertEqual(self.task(t["id"])["runs"]["excluded"], 1001)  # planned once, not again and again

    def test_dates_are_whole_days_in_the_zone_and_the_preview_marks_them(self):
        body = {"cron": "0 9 * * *", "timezone": "Europe/Paris", "count": 4, "from": "2026-12-23T12:00:00Z",
                "exclude": [{"from": "2026-12-24", "to": "2026-12-25"}], "exclude_cron": "* * 26 12 *"}
        status, preview, _ = self.api.post("/api/v1/cron/preview", body)
        self.assertEqual(status, 200, preview)
        marks = [(i["local"][:10], i["excluded"]) for i in preview["items"]]
        self.assertEqual(marks, [("2026-12-24", True), ("2026-12-25", True), ("2026-12-26", True),
                                 ("2026-12-27", False)])
        del body["exclude"], body["exclude_cron"]
        status, preview, _ = self.api.post("/api/v1/cron/preview", body)
        self.assertNotIn("excluded", preview["items"][0])

    def test_bad_exclusions_are_400_naming_the_field_and_store_nothing(self):
        day = {"from": "2026-12-24", "to": "2026-12-25"}
        cron = {"cron": "0 9 * * *"}
        cases = [({"exclude": [day, day, day, {"from": "2026-12-24T10:00:00Z", "to": "2026-12-24T09:00:00Z"}]},
                  "exclude[3].to"),
                 ({"exclude": [{"from": "christmas", "to": "2026-12-25"}]}, "exclude[0].from"),
                 ({"exclude": [day] * 101}, "exclude"),
                 ({"exclude_cron": "* * * *"}, "exclude_cron"),
                 ({"exclude_cron": "* * * * *", "schedule": {"at": "2030-01-01T00:00:00Z"}}, "exclude_cron")]
        for extra, field in cases:
            spec = dict({"name": "bad", "schedule": cron, "action": {"type": "noop"}}, **extra)
            status, problem, _ = self.api.post("/api/v1/tasks", spec)
            self.assertEqual((status, problem.get("field")), (400, field), problem)
        status, problem, _ = self.api.post("/api/v1/cron/preview", {"cron": "* * * * *", "exclude_cron": "x"})
        self.assertEqual((status, problem.get("field")), (400, "exclude_cron"), problem)
        self.assertEqual(self.api.get("/api/v1/tasks")[1]["items"], [])


if __name__ == "__main__":
    unittest.main()
