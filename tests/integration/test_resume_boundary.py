"""A resume just before a fire: the fire due right after the resume is on
time and runs, even though the task's held occurrence is a misfire (found by
the property test: run_once once dispatched the oldest overdue fire and
coalesced every later one up to now, the on-time one too)."""
import time
import unittest

from dtstest import DtsCase, ledger_action, read_ledger, wait_for


class ResumeBoundaryTest(DtsCase):
    def test_the_fire_due_just_after_a_resume_runs(self):
        ledger = self.ledger_file()
        self.start_api()
        self.start("scheduler")
        self.start("executor", "--run-as", "root")
        tid = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"},
                           "action": ledger_action(ledger)})["id"]
        lost = []
        for _ in range(3):
            self.assertEqual(self.api.post(f"/api/v1/tasks/{tid}/pause")[0], 200)
            time.sleep(6.2)  # past the 5 s misfire threshold
            while time.time() % 1 < 0.993:  # resume a few ms before a second (this host is Redis's)
                time.sleep(0.001)
            self.assertEqual(self.api.post(f"/api/v1/tasks/{tid}/resume")[0], 200)
            fire = (int(time.time() * 1000) // 1000 + 1) * 1000
            try:
                wait_for(lambda: any(s["sched"] == fire for s in read_ledger(ledger)[0]), timeout=3,
                         what=f"the fire at {fire}")
            except AssertionError:
                lost.append(fire)
        self.assertEqual(lost, [], f"fires due just after a resume were not run; task: "
                                   f"{self.api.get(f'/api/v1/tasks/{tid}')[1]['runs']}")


if __name__ == "__main__":
    unittest.main()
