"""The web UI end to end: a real headless Chromium (Debian's chromium, driven by
playwright-core from tests/e2e) against api, scheduler, executors and the web
role started here. The browser script is tests/e2e/web.mjs; this case starts
the system, runs it, and checks the web role's own HTTP behaviour."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from dtstest import DTS, DtsCase, Http, Proc, api_up, free_port, wait_for  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
E2E = os.path.join(ROOT, "tests/e2e")
CHROMIUM = "/usr/bin/chromium"


class WebCase(DtsCase):
    def start_web(self, *upstreams, tokens=None):
        """Starts `dts web` in front of the given api base URLs; returns its Http."""
        port = free_port()
        extra = ["--tokens", tokens] if tokens else []
        p = Proc(self.tmp, f"web{len(self.procs)}",
                 ["web", "--listen", f"127.0.0.1:{port}", "--api", ",".join(upstreams)] + extra)
        self.procs.append(p)
        web = Http(f"http://127.0.0.1:{port}")

        def ready():
            try:
                return web.get("/readyz")[0] == 200
            except OSError:
                return False
        wait_for(ready, what="web /readyz")
        return web

    def browser(self, web, mode=None, env=None):
        """Runs tests/e2e/web.mjs against WEB; screenshots go to $DTS_SCREENSHOTS if set."""
        shots = os.environ.get("DTS_SCREENSHOTS") or tempfile.mkdtemp(prefix="dts-shots-", dir=self.tmp)
        os.makedirs(shots, exist_ok=True)
        node = shutil.which("node") or "node"
        args = [node, os.path.join(E2E, "web.mjs"), web.base, shots] + ([mode] if mode else [])
        r = subprocess.run(args, cwd=E2E, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, **(env or {})))
        print(r.stdout, end="")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def raw(self, web, path):
        with urllib.request.urlopen(web.base + path, timeout=10) as r:
            return r.status, r.headers, r.read()


class TestWebRole(WebCase):
    def test_serves_assets_and_proxies_round_robin(self):
        self.start_api()
        first = self.api
        self.start_api()
        web = self.start_web(first.base, self.api.base, f"http://127.0.0.1:{free_port()}")
        status, headers, body = self.raw(web, "/")
        self.assertEqual(status, 200)
        self.assertIn(b"<title>dts</title>", body)
        self.assertIn("default-src 'self'", headers["Content-Security-Policy"])
        for path in ("/js/app.js", "/vendor/uPlot.esm.js", "/vendor/cronstrue.js", "/app.css"):
            self.assertEqual(self.raw(web, path)[0], 200, path)
        # Through the proxy: create, read with ETag, list with a query string.
        status, task, headers = web.post("/api/v1/tasks", {"name": "via web", "action": {"type": "noop"}})
        self.assertEqual(status, 201, task)
        self.assertTrue(headers["Location"].endswith(task["id"]))
        status, got, headers = web.get(f"/api/v1/tasks/{task['id']}")
        self.assertEqual((status, headers["ETag"]), (200, '"1"'))
        status, page, _ = web.get("/api/v1/tasks?limit=1&name_prefix=via%20w")
        self.assertEqual([t["id"] for t in page["items"]], [task["id"]])
        # Errors come through as problems; the dead third upstream is skipped.
        for _ in range(6):
            status, problem, _ = web.get("/api/v1/tasks/nope-nope")
            self.assertEqual((status, problem["status"]), (404, 404))
        self.assertEqual(web.get("/readyz")[1]["upstreams_up"], 2)
        self.assertEqual(web.get("/nope")[0], 404)
        self.assertEqual(web.get("/healthz")[0], 200)

    def test_events_resume_from_last_event_id(self):
        self.start_api()
        a = self.create({"name": "a", "action": {"type": "noop"}})
        status, _, headers = self.api.get("/readyz")
        req = urllib.request.Request(self.api.base + "/api/v1/events")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.headers["Content-Type"], "text/event-stream")
            text = r.read().decode()
        self.assertIn("retry: ", text)
        ids = [line[4:] for line in text.splitlines() if line.startswith("id: ")]
        self.assertTrue(ids and a["id"] in text)
        b = self.create({"name": "b", "action": {"type": "noop"}})
        req = urllib.request.Request(self.api.base + "/api/v1/events", headers={"Last-Event-ID": ids[-1]})
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
        self.assertIn(b["id"], text)
        self.assertNotIn(f'"task.created","task":"{a["id"]}"', text)
        status, stats, _ = self.api.get("/api/v1/stats")
        self.assertEqual(status, 200)
        self.assertEqual(stats["tasks"]["total"], 2)


@unittest.skipUnless(os.path.exists(CHROMIUM) and os.path.isdir(os.path.join(E2E, "node_modules")),
                     "needs Debian's chromium and tests/e2e/node_modules (scripts/deps.sh)")
class TestBrowser(WebCase):
    def test_ui_end_to_end(self):
        self.start_api()
        self.start("scheduler")
        self.start("executor")
        self.start("executor")
        web = self.start_web(self.api.base)
        self.browser(web)

    def test_ui_with_tokens(self):
        """Sign in, a wrong token, sign out, a 403: the api and web roles both run with --tokens."""
        tokens, lines = {}, []
        for name, scopes in [("ui", "read,write,shell,admin"), ("writer", "read,write")]:
            out = subprocess.run([DTS, "token", "create", name, "--scopes", scopes],
                                 capture_output=True, text=True, check=True).stdout
            tokens[name] = re.search(r"^token: (dts_[0-9a-f]{64})$", out, re.M).group(1)
            lines += [l for l in out.splitlines() if l.startswith(f"{name} {scopes} ")]
        path = os.path.join(self.tmp, "tokens")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        port = free_port()
        self.start("api", "--listen", f"127.0.0.1:{port}", "--tokens", path)
        self.api = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(self.api), what="api /readyz")
        web = self.start_web(self.api.base, tokens=path)
        self.assertEqual(web.get("/api/v1/tasks")[0], 401)
        self.browser(web, "tokens", {"DTS_E2E_TOKEN": tokens["ui"], "DTS_E2E_WRITER": tokens["writer"]})


if __name__ == "__main__":
    unittest.main()
