"""Every role's /metrics by the Prometheus conventions: the process_* families,
dts_build_info with the git commit, lateness buckets that resolve milliseconds,
and text that promtool accepts."""
import os
import re
import shutil
import subprocess
import time
import unittest
import urllib.request

from dtstest import DtsCase, Proc, free_port, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
PROCESS = ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
           "process_start_time_seconds", "process_virtual_memory_bytes", "process_max_fds")


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def sample(text, name):
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


class MetricsTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.ports = {}
        started = time.time()
        self.start_api()
        self.ports["api"] = int(self.api.base.rsplit(":", 1)[1])
        for role in ("scheduler", "executor"):
            self.ports[role] = free_port()
            self.start(role, "--listen", f"127.0.0.1:{self.ports[role]}")
        self.ports["web"] = free_port()
        web = Proc(self.tmp, "web", ["web", "--listen", f"127.0.0.1:{self.ports['web']}", "--api", self.api.base])
        self.procs.append(web)
        for role, port in self.ports.items():
            wait_for(lambda: self._up(port), what=f"{role} /metrics")
        self.started = started

    def _up(self, port):
        try:
            return scrape(port)
        except OSError:
            return None

    def test_every_role_has_the_process_families_and_build_info(self):
        in_git = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True).returncode == 0
        for role, port in self.ports.items():
            text = scrape(port)
            for name in PROCESS:
                self.assertIn(f"# TYPE {name} ", text, f"{role} lacks {name}")
                self.assertIsNotNone(sample(text, name), f"{role} has no sample of {name}")
            self.assertGreaterEqual(sample(text, "process_cpu_seconds_total"), 0)
            self.assertGreater(sample(text, "process_resident_memory_bytes"), 1 << 20)
            self.assertGreaterEqual(sample(text, "process_open_fds"), 3)
            start = sample(text, "process_start_time_seconds")
            self.assertLess(abs(start - self.started), 60, f"{role} start time {start} vs {self.started}")
            info = re.search(r'^dts_build_info\{version="([^"]+)",commit="([^"]+)",dirty="(true|false)"\} 1$',
                             text, re.M)
            self.assertIsNotNone(info, f"{role}: {text[:2000]}")
            if in_git:  # the commit built from: HEAD, or one before it if commits came since the build
                self.assertRegex(info.group(2), r"^[0-9a-f]{12}$")
                self.assertEqual(subprocess.run(["git", "-C", ROOT, "merge-base", "--is-ancestor", info.group(2),
                                                 "HEAD"]).returncode, 0, info.group(2))

    def test_lateness_buckets_resolve_milliseconds(self):
        self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        for role, family in (("scheduler", "dts_dispatch_lateness_seconds"), ("executor", "dts_run_lateness_seconds")):
            text = wait_for(lambda: (lambda t: t if f"{family}_bucket" in t else None)(scrape(self.ports[role])),
                            timeout=15, what=f"{family} samples")
            les = re.findall(rf'^{family}_bucket{{.*le="([^"]+)"}}', text, re.M)
            self.assertEqual(les[:10], ["0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1"])

    def test_promtool_accepts_every_roles_metrics(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool is missing: scripts/deps.sh installs Debian's prometheus")
        self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        wait_for(lambda: "dts_runs_total{" in scrape(self.ports["executor"]), timeout=15, what="a run")
        self.api.get("/api/v1/tasks")
        for role, port in self.ports.items():
            p = subprocess.run([promtool, "check", "metrics"], input=scrape(port), capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, f"{role}: {p.stdout}{p.stderr}")


if __name__ == "__main__":
    unittest.main()


class BuildInfoScriptTest(unittest.TestCase):
    """cmake/build_info.cmake outside git: the commit given (a "-dirty" suffix
    sets the flag), else "unknown"."""

    def render(self, src, commit):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "bi.c")
            subprocess.run(["cmake", f"-DOUT={out}", f"-DSRC={src}", "-DVERSION=9.9.9", f"-DCOMMIT={commit}", "-P",
                            os.path.join(ROOT, "cmake/build_info.cmake")], check=True, capture_output=True)
            with open(out) as f:
                return f.read()

    def test_fallbacks_outside_git(self):
        import tempfile
        with tempfile.TemporaryDirectory() as not_git:
            text = self.render(not_git, "")
            self.assertIn('dts_build_commit[] = "unknown"', text)
            self.assertIn("dts_build_dirty = 0", text)
            text = self.render(not_git, "0123456789ab-dirty")
            self.assertIn('dts_build_commit[] = "0123456789ab"', text)
            self.assertIn("dts_build_dirty = 1", text)
            self.assertIn('dts_build_version[] = "9.9.9"', text)
