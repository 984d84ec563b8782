"""Authentication and authorisation: tokens with scopes, 401 and 403, the
shell scope, refusal to listen publicly without tokens, audit lines, CORS, and
the refusal of cross-site and DNS-rebinding browser requests."""
import http.client
import json
import os
import re
import signal
import subprocess
import unittest
import urllib.request

from dtstest import DTS, DtsCase, Http, Proc, api_up, free_port, wait_for

SHELL = {"type": "shell", "command": ["true"]}
NOOP = {"type": "noop"}


def make_token(name, scopes):
    out = subprocess.run([DTS, "token", "create", name, "--scopes", scopes],
                         capture_output=True, text=True, check=True).stdout
    token = re.search(r"^token: (dts_[0-9a-f]{64})$", out, re.M).group(1)
    line = [l for l in out.splitlines() if l.startswith(name + " ")][0]
    return token, line


def api_with_tokens(case, grants):
    """Starts an api for CASE (a DtsCase) that knows a token per (name, scopes)
    in GRANTS; returns its Http client and the tokens by name."""
    tokens, lines = {}, []
    for name, scopes in grants:
        tokens[name], line = make_token(name, scopes)
        lines.append(line)
    path = os.path.join(case.tmp, "tokens")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    port = free_port()
    case.start("api", "--listen", f"127.0.0.1:{port}", "--tokens", path)
    api = Http(f"http://127.0.0.1:{port}")
    wait_for(lambda: api_up(api, "/healthz"), what="api")
    return api, tokens


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

    def test_probes_need_no_token(self):
        for path in ("/healthz", "/readyz", "/metrics"):
            req = urllib.request.Request(self.api.base + path)
            with urllib.request.urlopen(req, timeout=10) as r:
                self.assertEqual(r.status, 200, path)

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

    def test_read_scope_never_sees_secrets(self):
        """Issue 12, item 8: webhook header values and env values are redacted
        for read-only tokens; write and admin see them (they may change them)."""
        hook = {"name": "hook", "action": {"type": "http", "url": "https://hooks.example/x",
                                           "headers": {"Authorization": "Bearer hook-secret-1"}}}
        sh = {"name": "sh", "action": {"type": "shell", "command": ["true"], "env": {"API_KEY": "env-secret-2"}}}
        ids = []
        for spec, who in ((hook, "writer"), (sh, "sheller")):
            st, body, _ = self.api.post("/api/v1/tasks", spec, headers=self.as_(who))
            self.assertEqual(st, 201, body)
            self.assertNotIn("redacted", body)
            ids.append(body["id"])
        views = [self.api.get(f"/api/v1/tasks/{i}", headers=self.as_("reader"))[1] for i in ids]
        views += self.api.get("/api/v1/tasks", headers=self.as_("reader"))[1]["items"]
        for v in views:
            text = json.dumps(v)
            self.assertNotIn("hook-secret-1", text)
            self.assertNotIn("env-secret-2", text)
            self.assertIs(v["redacted"], True)
            for m in ("env", "headers"):
                for value in v["action"].get(m, {}).values():
                    self.assertEqual(value, "***")
        self.assertEqual(views[0]["action"]["headers"], {"Authorization": "***"})
        self.assertEqual(views[1]["action"]["env"], {"API_KEY": "***"})
        full = self.api.get(f"/api/v1/tasks/{ids[0]}", headers=self.as_("writer"))[1]
        self.assertEqual(full["action"]["headers"]["Authorization"], "Bearer hook-secret-1")
        self.assertNotIn("redacted", full)
        # A writer may send back what it read (redacted included) unchanged.
        full["name"] = "hook2"
        st, body, _ = self.api.request("PUT", f"/api/v1/tasks/{ids[0]}", full, headers=self.as_("writer"))
        self.assertEqual(st, 200, body)

    def test_lower_case_bearer_and_sighup_reload(self):
        """Issue 12, item 12: `bearer` in any case works; a token removed from
        the file stops working on SIGHUP, without a restart."""
        st, body, _ = self.api.get("/api/v1/tasks", headers={"Authorization": f"bearer {self.tokens['reader']}"})
        self.assertEqual(st, 200, body)
        with open(self.tokens_file) as f:
            lines = [l for l in f if not l.startswith("reader ")]
        with open(self.tokens_file, "w") as f:
            f.writelines(lines)
        self.api_proc.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.api.get("/api/v1/tasks", headers=self.as_("reader"))[0] == 401,
                 what="the revoked token to be refused")
        self.assertEqual(self.api.get("/api/v1/tasks", headers=self.as_("writer"))[0], 200)
        with open(self.tokens_file, "w") as f:
            f.write("garbage\n")
        self.api_proc.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "tokens not reloaded" in self.api_proc.logs(), what="the bad file to be logged")
        self.assertEqual(self.api.get("/api/v1/tasks", headers=self.as_("writer"))[0], 200)
        self.assertIsNone(self.api_proc.proc.poll())

    def test_cors_only_for_the_configured_origin(self):
        h = dict(self.as_("reader"), Origin="https://ui.example")
        _, _, headers = self.api.get("/api/v1/tasks", headers=h)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), "https://ui.example")
        status, body, headers = self.api.get("/api/v1/tasks", headers=dict(self.as_("reader"), Origin="https://evil.example"))
        self.assertEqual(status, 403, body)
        self.assertNotIn("Access-Control-Allow-Origin", headers)
        req = urllib.request.Request(self.api.base + "/api/v1/tasks", method="OPTIONS",
                                     headers={"Origin": "https://ui.example",
                                              "Access-Control-Request-Method": "POST"})
        with urllib.request.urlopen(req) as r:
            self.assertEqual(r.status, 204)
            self.assertIn("Authorization", r.headers["Access-Control-Allow-Headers"])


def send(port, method, path, headers, body=None):
    """One request with exactly HEADERS (Host included); returns (status, problem or None)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        c.putheader(k, v)
    data = body.encode() if body is not None else None
    if data is not None:
        c.putheader("Content-Length", str(len(data)))
    c.endheaders(data)
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    return r.status, (json.loads(text) if text and r.getheader("Content-Type", "").endswith("json") else None)


class CrossSiteTest(DtsCase):
    """Issue 12, item 1: with no tokens on loopback, a web page must not be able
    to drive the api or the web proxy (CSRF, DNS rebinding); curl still can."""

    TASK = json.dumps({"name": "csrf", "schedule": {"cron": "0 0 1 1 *"}, "action": {"type": "noop"}})

    def setUp(self):
        super().setUp()
        self.start_api()
        self.api_port = int(self.api.base.rsplit(":", 1)[1])
        self.web_port = free_port()
        self.procs.append(Proc(self.tmp, "web", ["web", "--listen", f"127.0.0.1:{self.web_port}", "--api",
                                                 self.api.base, "--allowed-hosts", "dts.internal.example"]))
        wait_for(lambda: api_up(Http(f"http://127.0.0.1:{self.web_port}")), what="web /readyz")

    def stored(self):
        return len(self.api.get("/api/v1/tasks")[1]["items"])

    def test_cross_site_and_rebinding_requests_are_403_curl_works(self):
        form = "application/x-www-form-urlencoded"
        for port in (self.api_port, self.web_port):
            own = f"127.0.0.1:{port}"
            refused = [
                {"Host": own, "Origin": "http://evil.example", "Content-Type": form},
                {"Host": own, "Origin": "http://evil.example", "Content-Type": "application/json"},
                {"Host": own, "Origin": "null", "Content-Type": "text/plain"},
                {"Host": own, "Origin": f"http://localhost:{port + 1}", "Content-Type": "application/json"},
                {"Host": own, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
                {"Host": own, "Origin": f"http://{own}", "Content-Type": "text/plain"},
                {"Host": own, "Sec-Fetch-Mode": "no-cors", "Content-Type": "multipart/form-data; boundary=x"},
                {"Host": f"rebind.evil.example:{port}", "Content-Type": "application/json"},
                {"Host": f"rebind.evil.example:{port}", "Origin": f"http://rebind.evil.example:{port}",
                 "Content-Type": "application/json"},
            ]
            for h in refused:
                status, problem = send(port, "POST", "/api/v1/tasks", h, self.TASK)
                self.assertEqual(status, 403, (port, h, problem))
                self.assertEqual(problem["status"], 403)
                self.assertIn(problem["detail"].split(":")[0].split(" ")[0],
                              ("Host", "Origin", "Sec-Fetch-Site", "Content-Type"), problem)
            status, _ = send(port, "GET", "/api/v1/tasks", {"Host": f"rebind.evil.example:{port}"})
            self.assertEqual(status, 403, "a rebound page must not read the api either")
        self.assertEqual(self.stored(), 0, "a refused request stored a task")
        # curl -XPOST ... -d '{...}' (form type, no Origin), as the README shows.
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-XPOST",
                            self.api.base + "/api/v1/tasks", "-d", self.TASK], capture_output=True, text=True)
        self.assertEqual(r.stdout, "201")
        # The UI itself (same origin, JSON), loopback literals and listed names are served.
        ok = [(self.web_port, {"Host": f"127.0.0.1:{self.web_port}", "Origin": f"http://127.0.0.1:{self.web_port}",
                               "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}),
              (self.web_port, {"Host": "dts.internal.example", "Content-Type": "application/json"}),
              (self.api_port, {"Host": f"[0:0:0:0:0:0:0:1]:{self.api_port}", "Content-Type": "application/json"}),
              (self.api_port, {"Host": f"localhost:{self.api_port}", "Content-Type": "application/json"})]
        for port, h in ok:
            status, problem = send(port, "POST", "/api/v1/tasks", h, self.TASK)
            self.assertEqual(status, 201, (port, h, problem))
        self.assertEqual(self.stored(), 5)

    def test_bad_allowed_hosts_is_one_line_and_non_zero(self):
        r = subprocess.run([DTS, "api", "--redis", self.redis.url, "--allowed-hosts", "a.example,bad/name"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("bad/name", r.stderr)


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

    def test_public_web_serves_only_an_api_that_enforces_tokens(self):
        """Issue 12, item 9: a web role beyond loopback checks that its upstream
        refuses anonymous requests, not just that a tokens file was given."""
        _, line = make_token("svc", "read")
        path = os.path.join(self.tmp, "tokens")
        with open(path, "w") as f:
            f.write(line + "\n")
        open_port, locked_port = free_port(), free_port()
        self.start("api", "--listen", f"127.0.0.1:{open_port}", name="api-open")
        self.start("api", "--listen", f"127.0.0.1:{locked_port}", "--tokens", path, name="api-locked")
        for port in (open_port, locked_port):
            wait_for(lambda: api_up(Http(f"http://127.0.0.1:{port}"), "/healthz"), what="api")
        webs = {}
        for name, up in (("open", open_port), ("locked", locked_port)):
            port = free_port()
            self.procs.append(Proc(self.tmp, f"web-{name}", ["web", "--listen", f"0.0.0.0:{port}", "--tokens", path,
                                                             "--api", f"http://127.0.0.1:{up}"]))
            webs[name] = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(webs["locked"]), what="the web role in front of a locked api")
        self.assertEqual(webs["locked"].get("/api/v1/tasks")[0], 401)
        def refuses_open_api():
            try:
                return webs["open"].get("/readyz")[0] == 503
            except OSError:  # not listening yet
                return False
        wait_for(refuses_open_api, what="the web role in front of an open api")
        st, body, _ = webs["open"].get("/api/v1/tasks")
        self.assertEqual(st, 503, body)
        self.assertIn("without credentials", self.procs[-2].logs())

    def test_all_zero_ipv6_loopback_spelling_is_loopback(self):
        port = free_port()
        p = self.start("api", "--listen", f"[0:0:0:0:0:0:0:1]:{port}", name="v6")
        api = Http(f"http://[::1]:{port}")
        wait_for(lambda: api_up(api, "/healthz") or p.proc.poll() is not None, what="api on [0:0:0:0:0:0:0:1]")
        self.assertIsNone(p.proc.poll(), p.logs())

    def test_redis_password_file(self):
        """The Redis password from a file, kept out of argv and the environment."""
        self.redis.cmd("CONFIG", "SET", "requirepass", "pw-from-file")
        self.addCleanup(lambda: self.redis.cmd("AUTH", "pw-from-file"))
        path = os.path.join(self.tmp, "redis.pass")
        with open(path, "w") as f:
            f.write("pw-from-file\n")
        port = free_port()
        self.start("api", "--listen", f"127.0.0.1:{port}", "--redis-password-file", path, name="pw")
        wait_for(lambda: api_up(Http(f"http://127.0.0.1:{port}")), what="api with a password file")
        for bad, why in ((os.path.join(self.tmp, "missing"), "cannot read"), (os.devnull, "empty")):
            r = subprocess.run([DTS, "api", "--redis", self.redis.url, "--redis-password-file", bad],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(why, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

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
