"""The execution features (issue 16) in the web UI, in a real headless
Chromium (tests/e2e/exec.mjs) against api, executor and web started here."""
import os
import shutil
import subprocess
import unittest

from dtstest import wait_for
from test_web import CHROMIUM, E2E, WebCase


@unittest.skipUnless(os.path.exists(CHROMIUM) and os.path.isdir(os.path.join(E2E, "node_modules")),
                     "needs Debian's chromium and tests/e2e/node_modules (scripts/deps.sh)")
class TestExecUi(WebCase):
    def test_exec_features_in_the_ui(self):
        self.start_api()
        # A run made late on purpose: its entry waits until the executor starts.
        late = self.create({"name": "late", "action": {"type": "noop"}, "slo_ms": 100})
        t0 = int(self.redis.cmd("TIME")[0])
        wait_for(lambda: int(self.redis.cmd("TIME")[0]) >= t0 + 1, timeout=5, what="a second on Redis's clock")
        target = self.create({"name": "target", "schedule": {"at": "2099-01-01T00:00:00Z"},
                              "action": {"type": "noop"}})
        self.start("executor")
        self.start("scheduler")  # drains the chaining outbox
        web = self.start_web(self.api.base)
        node = shutil.which("node") or "node"
        r = subprocess.run([node, os.path.join(E2E, "exec.mjs"), web.base, late["id"], target["id"]], cwd=E2E,
                           capture_output=True, text=True, timeout=120)
        print(r.stdout, end="")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
