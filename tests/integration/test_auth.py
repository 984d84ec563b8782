"""Authentication and authorisation: tokens with scopes, 401 and 403, the
shell scope, refusal to listen publicly without tokens, audit lines, CORS."""
import os
import re
import subprocess
import unittest
import urllib.request

from dtstest import DTS, DtsCase, Http, api_up, free_port, wait_for

SHELL = {"type": "shell", "command": ["true"]}
NOOP = {"type": "noop"}


def make_token(name, scopes):
    out = subprocess.run([DTS, "token", "create", name, "--scopes", scopes],
                         capture_output=True, text=True, check=True).stdout
    token = re.search(r"^token: (dts_[0-9a-f]{64})$", out, re.M).group(1)
    line = [l for l in out.splitlines() if l.startswith(name + " ")][0]
    return token, line


class AuthTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.tokens = {}
        lines = []
        for name, scopes in [("reader", "read"), ("writer", "read,write"), ("sheller", "read,write,shell"),
                             ("ops", "admin")]:
            self.tokens[name], line = make_token(name, scopes)
            lines.append(line)
        self.tokens_file = os.path.join(self.tmp, "tokens")
        with open(self.tokens_file, "w") as f:
            f.write("# dts tokens\n" + "\n".join(lines) + "\n")
        port = free_port()
        self.api_proc = self.start("api", "--listen", f"127.0.0.1:{port}", "--tokens", self.tokens_file,
                                   "--cors-origin", "https://ui.example")
        self.api = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(self.api, "/healthz"), what="api")

    def as_(self, who):
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def test_no_or_unknown_token_is_401(self):
        status, body, headers = self.api.get("/api/v1/tasks")
        self.assertEqual((status, body["status"]), (401, 401))
        self.assertIn("Bearer", headers["WWW-Authenticate"])
        for bad in ["Bearer dts_" + "0" * 64, "Basic " + self.tokens["ops"], "Bearer", self.tokens["ops"]]:
            self.assertEqual(self.api.get("/api/v1/tasks", headers={"Authorization": bad})[0], 401, bad)
        # Probes stay open for orchestrators.
        self.assertEqual(self.api.get("/readyz")[0], 200)

    def test_scopes_decide_403(self):
        self.assertEqual(self.api.get("/api/v1/tasks", headers=self.as_("reader"))[0], 200)
        status, body, _ = self.api.post("/api/v1/tasks", {"name": "x", "action": NOOP}, headers=self.as_("reader"))
        self.assertEqual(status, 403, body)
        status, task, _ = self.api.post("/api/v1/tasks", {"name": "x", "action": NOOP}, headers=self.as_("writer"))
        self.assertEqual(status, 201, task)
        # Shell actions need their own scope, on create and on replace.
        status, body, _ = self.api.post("/api/v1/tasks", {"name": "s", "action": SHELL}, headers=self.as_("writer"))
        self.assertEqual((status, body["field"]), (403, "action.type"))
        status, _, _ = self.api.request("PUT", f"/api/v1/tasks/{task['id']}", {"name": "s", "action": SHELL},
                                        headers=self.as_("writer"))
        self.assertEqual(status, 403)
        self.assertEqual(self.api.post("/api/v1/tasks", {"name": "s", "action": SHELL}, headers=self.as_("sheller"))[0], 201)
        self.assertEqual(self.api.post("/api/v1/tasks", {"name": "s", "action": SHELL}, headers=self.as_("ops"))[0], 201)
        # Dead letters are re-driven by admins only.
        self.assertEqual(self.api.post("/api/v1/dead/0-1-0/retry", headers=self.as_("sheller"))[0], 403)
        self.assertEqual(self.api.post("/api/v1/dead/0-1-0/retry", headers=self.as_("ops"))[0], 404)
        self.assertEqual(len(self.redis.cmd("KEYS", "dts:*:task:*")), 3)

    def test_mutations_are_audited_and_tokens_never_logged(self):
        task = self.api.post("/api/v1/tasks", {"name": "a", "action": NOOP}, headers=self.as_("writer"))[1]
        self.api.request("DELETE", f"/api/v1/tasks/{task['id']}", headers=self.as_("writer"))
        self.api.post("/api/v1/tasks", {"name": "a", "action": NOOP})  # refused, still audited
        self.api_proc.stop()
        logs = self.api_proc.logs()
        audit = [l for l in logs.splitlines() if '"msg":"audit"' in l]
        self.assertEqual(len(audit), 3, logs)
        self.assertIn('"caller":"writer"', audit[0])
        self.assertIn('"status":204', audit[1])
        self.assertIn('"caller":"anonymous"', audit[2])
        self.assertIn('"status":401', audit[2])
        for token in self.tokens.values():
            self.assertNotIn(token, logs)
            self.assertNotIn(token[4:], logs)

    def test_cors_only_for_the_configured_origin(self):
        h = dict(self.as_("reader"), Origin="https://ui.example")
        _, _, headers = self.api.get("/api/v1/tasks", headers=h)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), "https://ui.example")
        _, _, headers = self.api.get("/api/v1/tasks", headers=dict(self.as_("reader"), Origin="https://evil.example"))
        self.assertNotIn("Access-Control-Allow-Origin", headers)
        req = urllib.request.Request(self.api.base + "/api/v1/tasks", method="OPTIONS",
                                     headers={"Origin": "https://ui.example",
                                              "Access-Control-Request-Method": "POST"})
        with urllib.request.urlopen(req) as r:
            self.assertEqual(r.status, 204)
            self.assertIn("Authorization", r.headers["Access-Control-Allow-Headers"])


class ListenTest(DtsCase):
    def test_public_listen_needs_tokens(self):
        p = self.start("api", "--listen", f"0.0.0.0:{free_port()}", name="public")
        wait_for(lambda: p.proc.poll() is not None, what="refusal")
        self.assertEqual(p.proc.returncode, 2)
        self.assertEqual(len(p.logs().strip().splitlines()), 1)
        self.assertIn("without API tokens", p.logs())
        _, line = make_token("svc", "read")
        path = os.path.join(self.tmp, "tokens")
        with open(path, "w") as f:
            f.write(line + "\n")
        port = free_port()
        p = self.start("api", "--listen", f"0.0.0.0:{port}", name="public-ok", env={"DTS_TOKENS_FILE": path})
        api = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(api, "/healthz"), what="api with tokens on 0.0.0.0")
        self.assertEqual(api.get("/api/v1/tasks")[0], 401)

    def test_bad_tokens_file_is_one_line_and_non_zero(self):
        path = os.path.join(self.tmp, "tokens")
        with open(path, "w") as f:
            f.write("svc read not-a-hash\n")
        r = subprocess.run([DTS, "api", "--redis", self.redis.url, "--tokens", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 1", r.stderr)
        r = subprocess.run([DTS, "token", "create"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        r = subprocess.run([DTS, "token", "create", "x", "--scopes", "root"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
