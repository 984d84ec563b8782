"""Lateness SLO (issue 16, item 8): "slo_ms" is validated; each run records
whether it started within slo_ms of its time (judged by the start script on
Redis's clock); the task view shows the late count and the lateness p50/p99
over its kept runs; executors count dts_runs_late_total. Real processes, real
Redis."""
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

import yaml

from dtstest import DtsCase, free_port, wait_for


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


class SloCase(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()

    def spec(self, **extra):
        return dict({"name": "slo", "action": {"type": "noop"}}, **extra)

    def test_bad_slo_ms_is_a_400_naming_the_field(self):
        for bad in (0, -5, 1.5, "100", True, 24 * 3600 * 1000 + 1):
            status, body, _ = self.api.post("/api/v1/tasks", self.spec(slo_ms=bad))
            self.assertEqual(status, 400, (bad, body))
            self.assertEqual(body["field"], "slo_ms", body)
        status, body, _ = self.api.get("/api/v1/tasks")
        self.assertEqual(body["items"], [], "nothing stored")

    def test_late_runs_are_flagged_counted_and_summarized(self):
        # No executor yet: both "now" occurrences wait in the ready stream.
        late = self.create(self.spec(name="tight", slo_ms=300))
        fine = self.create(self.spec(name="loose", slo_ms=600000))
        plain = self.create(self.spec(name="none"))
        self.assertEqual(late["slo_ms"], 300)
        self.assertNotIn("slo_ms", plain)
        wait_for(lambda: len(self.ready_entries()) == 3, what="three waiting entries")
        t0 = self.redis.cmd("TIME")
        wait_for(lambda: int(self.redis.cmd("TIME")[0]) >= int(t0[0]) + 2, timeout=5, what="2 s on Redis's clock")
        port = free_port()
        self.start("executor", "--listen", f"127.0.0.1:{port}")
        for t in (late, fine, plain):
            wait_for(lambda t=t: [r["status"] for r in self.runs(t["id"])] == ["succeeded"], timeout=20,
                     what=f"{t['name']} ran")
        run = self.runs(late["id"])[0]
        self.assertTrue(run["late"], run)
        self.assertEqual(run["slo_ms"], 300)
        self.assertGreater(run["lateness_ms"], 1000, run)
        run = self.runs(fine["id"])[0]
        self.assertIs(run["late"], False, run)
        run = self.runs(plain["id"])[0]
        self.assertNotIn("late", run, "no objective, no verdict")

        _, view, _ = self.api.get(f"/api/v1/tasks/{late['id']}")
        lat = view["lateness"]
        self.assertEqual((lat["late_total"], lat["runs"], lat["late"]), (1, 1, 1), lat)
        self.assertEqual(lat["p50_ms"], run_lateness := self.runs(late["id"])[0]["lateness_ms"])
        self.assertEqual(lat["p99_ms"], run_lateness)
        _, view, _ = self.api.get(f"/api/v1/tasks/{fine['id']}")
        self.assertEqual((view["lateness"]["late_total"], view["lateness"]["late"]), (0, 0), view["lateness"])
        _, view, _ = self.api.get(f"/api/v1/tasks/{plain['id']}")
        self.assertNotIn("lateness", view)
        wait_for(lambda: metric(scrape(port), "dts_runs_late_total") == 1, what="dts_runs_late_total 1")
        self.assertNotIn('dts_runs_late_total{', scrape(port), "no per-task label")

    def test_percentiles_over_kept_runs_and_edit_clears_the_objective(self):
        port = free_port()
        self.start("executor", "--listen", f"127.0.0.1:{port}")
        task = self.create(self.spec(slo_ms=60000))
        for _ in range(4):
            status, _, _ = self.api.post(f"/api/v1/tasks/{task['id']}/trigger")
            self.assertEqual(status, 202)
        wait_for(lambda: len([r for r in self.runs(task["id"]) if r["status"] == "succeeded"]) == 5,
                 timeout=20, what="five runs")
        values = sorted(r["lateness_ms"] for r in self.runs(task["id"]))
        _, view, _ = self.api.get(f"/api/v1/tasks/{task['id']}")
        lat = view["lateness"]
        self.assertEqual((lat["runs"], lat["late"]), (5, 0), lat)
        self.assertEqual(lat["p50_ms"], values[2])  # nearest rank: the 3rd of 5
        self.assertEqual(lat["p99_ms"], values[4])
        status, body, _ = self.api.request("PUT", f"/api/v1/tasks/{task['id']}", view)
        self.assertEqual(status, 200, body)  # a GET's body, lateness included, goes back as it is
        spec = {k: view[k] for k in ("name", "action")}
        status, body, _ = self.api.request("PUT", f"/api/v1/tasks/{task['id']}", spec)
        self.assertEqual(status, 200, body)
        self.assertNotIn("slo_ms", body)
        self.assertEqual(self.redis.cmd("HGET", self._task_key(task["id"]), "slo_ms"), "0")

    def test_retries_are_not_judged(self):
        self.start("scheduler")
        self.start("executor")
        task = self.create(self.spec(action={"type": "shell", "command": ["false"]}, slo_ms=60000,
                                     retry={"max_attempts": 2, "initial_s": 0.1, "jitter": False}))
        wait_for(lambda: len([r for r in self.runs(task["id"]) if r["status"] == "failed"]) == 2, timeout=20,
                 what="both attempts")
        by_attempt = {r["attempt"]: r for r in self.runs(task["id"])}
        self.assertIs(by_attempt[1]["late"], False)
        self.assertNotIn("late", by_attempt[2], "a retry's lateness includes its backoff: not judged")
        _, view, _ = self.api.get(f"/api/v1/tasks/{task['id']}")
        self.assertEqual(view["lateness"]["runs"], 1)

    def _task_key(self, task_id):
        for s in range(self.shards):
            if self.redis.cmd("EXISTS", f"dts:{{{s}}}:task:{task_id}") == 1:
                return f"dts:{{{s}}}:task:{task_id}"
        self.fail("no task hash")


RULES = os.path.join(os.path.dirname(__file__), "../../deploy/k8s/base/prometheus-rules.yaml")

# promtool's rule unit test: late runs every minute fire DtsRunsLate after its
# 10 minutes; a counter that stopped rising does not.
RULE_TEST = """
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
- interval: 1m
  input_series:
  - series: 'dts_runs_late_total{pod="executor-a"}'
    values: '0+1x30'
  - series: 'dts_runs_late_total{pod="executor-b"}'
    values: '0+0x30'
  alert_rule_test:
  - {eval_time: 5m, alertname: DtsRunsLate, exp_alerts: []}
  - eval_time: 20m
    alertname: DtsRunsLate
    exp_alerts:
    - exp_labels: {severity: warning}
      exp_annotations:
        summary: "Runs have kept starting later than their tasks' slo_ms for 10 minutes; the task pages show which."
- interval: 1m
  input_series:
  - series: 'dts_runs_late_total{pod="executor-a"}'
    values: '5+0x30'
  alert_rule_test:
  - {eval_time: 20m, alertname: DtsRunsLate, exp_alerts: []}
"""


class SloAlertCase(unittest.TestCase):
    def test_bundled_alert_fires_on_persistent_lateness_only(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool is missing: scripts/deps.sh installs Debian's prometheus")
        with open(RULES) as f:
            groups = yaml.safe_load(f)["spec"]["groups"]
        names = [r.get("alert") for g in groups for r in g["rules"]]
        self.assertIn("DtsRunsLate", names)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "rules.yaml"), "w") as f:
                yaml.safe_dump({"groups": groups}, f)
            with open(os.path.join(d, "test.yaml"), "w") as f:
                f.write(RULE_TEST)
            p = subprocess.run([promtool, "test", "rules", "test.yaml"], cwd=d, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
