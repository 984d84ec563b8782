"""Hostile input (issue 8, "Bad input"): every request below gets a clear 4xx
or is cut off, the process stays up, its memory stays bounded, and nothing is
stored. Each test prints what it measured (docs/hardening.md quotes them).

DTS_HOSTILE_TASKS sets how many tasks the one-label test creates (default
20000, about 15 s here; the issue's million is a long run, not make test)."""
import json
import os
import resource
import socket
import threading
import time
import unittest

from dtstest import DtsCase, Http, Proc, api_up, free_port, percentile, wait_for


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def raw_http(port, data, timeout=10.0, read=True):
    """Sends DATA as is; returns (status or None if cut off, head + body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may cut us off while we still send
        if not read:
            return None, b""
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and b"Content-Length" not in out.split(b"\r\n\r\n")[0]:
                    break
                head, _, body = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:") and len(body) >= int(line.split(b":")[1]):
                        return int(out.split(b" ")[1]), out
        except (ConnectionResetError, socket.timeout):
            pass
    if not out.startswith(b"HTTP/"):
        return None, out
    return int(out.split(b" ")[1]), out


def request(method, path, body=b"", headers=()):
    h = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{h}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class HostileApiTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.api_proc = self.start_api()
        self.port = int(self.api.base.rsplit(":", 1)[1])
        self.rss0 = rss_kb(self.api_proc.pid)

    def tearDown(self):
        alive = self.api_proc.proc.poll() is None
        self.assertTrue(alive, "the api died")
        self.assertEqual(self.api.get("/healthz")[0], 200)
        rss = rss_kb(self.api_proc.pid)
        print(f"  api RSS {self.rss0} kB -> {rss} kB")
        if not os.environ.get("DTS_SANITIZED"):  # ASan's quarantine and shadow memory grow by design
            self.assertLess(rss - self.rss0, 64 * 1024, "the api's memory grew by more than 64 MB")

    def post_raw(self, body, ctype="application/json"):
        return raw_http(self.port, request("POST", "/api/v1/tasks", body, [("Content-Type", ctype)]))

    def assert_problem(self, status, out, expect):
        self.assertIn(status, expect, out[:300])
        body = out.partition(b"\r\n\r\n")[2]
        doc = json.loads(body)
        self.assertEqual(doc["status"], status)
        self.assertIn("title", doc)

    def assert_nothing_stored(self):
        status, body, _ = self.api.get("/api/v1/tasks?limit=10")
        self.assertEqual(status, 200)
        self.assertEqual(body["items"], [], "a hostile request stored a task")

    def test_body_over_the_limit_is_413(self):
        st, out = self.post_raw(b'{"name":"' + b"a" * (300 * 1024) + b'"}')
        self.assert_problem(st, out, (413,))
        # A huge declared length is refused before any of it is read.
        t0 = time.monotonic()
        st, out = raw_http(self.port, b"POST /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                      b"Content-Length: 10000000000\r\n\r\n{", timeout=5)
        self.assertIn(st, (413, None), out[:200])
        print(f"  10 GB Content-Length: {st} in {time.monotonic() - t0:.3f}s")
        # Chunked bodies with no length count too.
        chunk = b"a" * 65536
        data = (b"POST /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + (b"10000\r\n" + chunk + b"\r\n") * 6 + b"0\r\n\r\n")
        st, out = raw_http(self.port, data)
        self.assertIn(st, (413, None), out[:200])
        self.assert_nothing_stored()

    def test_json_nested_100000_deep(self):
        for doc in (b"[" * 100000 + b"]" * 100000,
                    b'{"name":"x","labels":' + b'{"a":' * 40000 + b"1" + b"}" * 40000 + b"}",
                    b"[" * 100000):
            t0 = time.monotonic()
            st, out = self.post_raw(doc)
            self.assert_problem(st, out, (400, 413))
            print(f"  {len(doc)} bytes of nesting: {st} in {time.monotonic() - t0:.3f}s")
        self.assert_nothing_stored()

    def test_invalid_utf8_and_nul_bytes(self):
        cases = [
            b'{"name":"\xff\xfe","action":{"type":"noop"}}',
            b'{"name":"\xc0\xaf","action":{"type":"noop"}}',          # overlong '/'
            b'{"name":"\xed\xa0\x80","action":{"type":"noop"}}',      # a surrogate in UTF-8
            b'{"name":"a\\u0000b","action":{"type":"noop"}}',          # escaped NUL
            b'{"name":"a\x00b","action":{"type":"noop"}}',             # raw NUL
            b'{"name":"ok","action":{"type":"shell","command":["a\\u0000b"]}}',
            b'{"name":"ok","labels":{"k\\u0000":"v"},"action":{"type":"noop"}}',
            b'{"name":"\\ud800","action":{"type":"noop"}}',            # lone surrogate escape
            b'\x00{"name":"x","action":{"type":"noop"}}',
        ]
        for body in cases:
            st, out = self.post_raw(body)
            self.assert_problem(st, out, (400,))
        # NUL and bad bytes in the path and the query.
        for path in ("/api/v1/tasks/%00", "/api/v1/tasks/a%00b/runs", "/api/v1/tasks/%ff%fe",
                     "/api/v1/tasks?limit=%00", "/api/v1/tasks?cursor=%ff", "/api/v1/tasks?state=%00active"):
            st, out = raw_http(self.port, request("GET", path))
            self.assertTrue(st is None or 400 <= st < 500, (path, out[:200]))
        self.assert_nothing_stored()

    def test_header_floods(self):
        many = "".join(f"X-Flood-{i}: {'v' * 50}\r\n" for i in range(20000)).encode()
        st, out = raw_http(self.port, b"GET /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")
        self.assertTrue(st is None or 400 <= st < 500, out[:200])
        huge = b"GET /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (4 << 20) + b"\r\n\r\n"
        st2, out = raw_http(self.port, huge)
        self.assertTrue(st2 is None or 400 <= st2 < 500, out[:200])
        long_url = b"GET /api/v1/tasks?" + b"a=1&" * 200000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        st3, out = raw_http(self.port, long_url)
        self.assertTrue(st3 is None or 400 <= st3 < 500, out[:200])
        print(f"  20000 headers: {st}; one 4 MB header: {st2}; 800 kB URL: {st3}")

    def test_slowloris_while_normal_requests_are_served(self):
        n = 300
        socks, stop = [], threading.Event()
        for _ in range(n):  # one slow client (its own address): the normal one must not notice
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5, source_address=("127.0.0.2", 0))
            try:
                s.sendall(b"GET /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            except OSError:
                pass  # past the per-address limit the server closes at once
            socks.append(s)

        def drip():
            i = 0
            while not stop.wait(0.5):
                for s in socks:
                    try:
                        s.sendall(f"X-Slow-{i}: a\r\n".encode())
                    except OSError:
                        pass
                i += 1

        t = threading.Thread(target=drip, daemon=True)
        t.start()
        try:
            lat = []
            for _ in range(40):
                t0 = time.monotonic()
                st, _, _ = self.api.get("/api/v1/tasks?limit=5")
                lat.append(time.monotonic() - t0)
                self.assertEqual(st, 200)
                time.sleep(0.1)
            p50, p99 = percentile(lat, 50), percentile(lat, 99)
            print(f"  with {n} slowloris connections: normal GET p50 {p50 * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms")
            self.assertLess(max(lat), 1.0, "normal requests were held up by slow clients")
        finally:
            stop.set()
            t.join(2)
            for s in socks:
                s.close()

    def test_one_client_cannot_exhaust_connections(self):
        """Issue 12, item 5: 1,100 idle half-sent connections from one address;
        probes and other clients still answer, the hog keeps at most its
        per-address share, and idle connections are closed within the timeout."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))
        socks = []
        try:
            for _ in range(1100):
                s = socket.socket()
                s.settimeout(5)
                s.bind(("127.0.0.3", 0))
                s.connect(("127.0.0.1", self.port))
                try:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                except OSError:
                    pass
                socks.append(s)
            lat = []
            for path in ["/healthz", "/readyz", "/api/v1/tasks?limit=1"] * 5:
                t0 = time.monotonic()
                self.assertEqual(self.api.get(path)[0], 200, path)
                lat.append(time.monotonic() - t0)
            print(f"  with 1100 half-sent connections from one address: max probe {max(lat) * 1000:.1f} ms")
            self.assertLess(max(lat), 2.0)

            def alive(s):
                s.setblocking(False)
                try:
                    return s.recv(1) != b""
                except BlockingIOError:
                    return True
                except OSError:
                    return False
            held = wait_for(lambda: (lambda n: n if n <= 64 else 0)(sum(alive(s) for s in socks)),
                            timeout=15, what="the server to close connections past the per-address limit")
            print(f"  connections the one address still holds: {held}")
            wait_for(lambda: not any(alive(s) for s in socks), timeout=40, interval=0.5,
                     what="idle half-sent connections to time out")
        finally:
            for s in socks:
                s.close()

    def test_stats_flood_costs_redis_one_computation_a_second(self):
        """Issue 12, item 12: /api/v1/stats reads thousands of entries per shard."""
        def commands():
            info = self.redis.cmd("INFO", "stats")
            return int(next(l for l in info.splitlines() if l.startswith("total_commands_processed:")).split(":")[1])
        c0 = commands()
        self.assertEqual(self.api.get("/api/v1/stats?scan=10000")[0], 200)
        one = commands() - c0 - 1
        c1, t0 = commands(), time.monotonic()
        threads = [threading.Thread(target=lambda: self.api.get("/api/v1/stats?scan=10000")) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.monotonic() - t0
        flood = commands() - c1 - 1
        print(f"  one stats answer: {one} Redis commands; 40 at once: {flood} in {seconds:.2f} s")
        self.assertLessEqual(flood, one * (int(seconds) + 2))

    def test_webhook_headers_cannot_spoof_dts_or_the_framing(self):
        """Issue 12, item 11."""
        for name in ("X-Dts-Task-Id", "x-dts-scheduled-at", "X-Dts-Anything", "Idempotency-Key", "Host",
                     "Content-Length", "Transfer-Encoding", "Connection"):
            status, body, _ = self.api.post("/api/v1/tasks", {"name": "h", "action": {
                "type": "http", "url": "https://hooks.example/x", "headers": {name: "v"}}})
            self.assertEqual(status, 400, (name, body))
            self.assertEqual(body["field"], f"action.headers.{name}")
        self.assertEqual(self.api.get("/api/v1/tasks")[1]["items"], [])

    def test_cron_expressions_built_to_spin(self):
        exprs = ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 29 2 MON#5", "59 59 23 31 12 SUN#5",
                 "0 0 L-30 2 *", "0 0 1W 2 SAT#5", "* * * 29 2 MON#5", "0 0 0 ? 2 L",
                 "0 0 0 31 2 ?", "*/59 */59 */23 */31 */12 */7", "0-59/1,0-59/2,0-59/3 * * * * *",
                 ",".join(str(i) for i in range(60)) + " * * * *", "@every 1s", "@every 0s",
                 "@every 99999999999999h", "0 0 0 L-1W 2 5L", "* * * * * * 2099", "0 0 29 2 1#5 1999"]
        worst = 0.0
        for e in exprs:
            spec = {"name": "spin", "schedule": {"cron": e, "timezone": "Pacific/Chatham"}, "action": {"type": "noop"}}
            t0 = time.monotonic()
            st, body, _ = self.api.post("/api/v1/tasks", spec)
            dt = time.monotonic() - t0
            worst = max(worst, dt)
            self.assertIn(st, (201, 400), (e, body))
            t0 = time.monotonic()
            st, body, _ = self.api.post("/api/v1/cron/preview", {"cron": e, "timezone": "Asia/Gaza", "count": 100})
            worst = max(worst, time.monotonic() - t0)
            self.assertTrue(st == 200 or 400 <= st < 500, (e, st, body))
        print(f"  {len(exprs)} spinning expressions: slowest answer {worst * 1000:.0f} ms")
        self.assertLess(worst, 2.0)

    def test_many_tasks_under_one_label(self):
        total = int(os.environ.get("DTS_HOSTILE_TASKS", "20000"))
        spec = json.dumps({"name": "flood", "labels": {"team": "flood"}, "schedule": {"at": "2099-01-01T00:00:00Z"},
                           "action": {"type": "noop"}}).encode()
        created, errors, lock = [0], [0], threading.Lock()
        per = total // 4
        t0 = time.monotonic()

        def worker():
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
                f = s.makefile("rb")
                req = (b"POST /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       b"Content-Length: " + str(len(spec)).encode() + b"\r\n\r\n" + spec)
                for _ in range(per):
                    s.sendall(req)
                    status = int(f.readline().split()[1])
                    length = 0
                    while True:
                        line = f.readline()
                        if line in (b"\r\n", b""):
                            break
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    f.read(length)
                    with lock:
                        if status == 201:
                            created[0] += 1
                        else:
                            errors[0] += 1

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dt = time.monotonic() - t0
        rss_mid = rss_kb(self.api_proc.pid)
        self.assertEqual(errors[0], 0)
        # Walk every page, and a filter that matches nothing (bounded scan per page).
        t1, pages, seen, cursor = time.monotonic(), 0, 0, ""
        while True:
            st, body, _ = self.api.get("/api/v1/tasks?limit=500" + (f"&cursor={cursor}" if cursor else ""))
            self.assertEqual(st, 200)
            seen += len(body["items"])
            pages += 1
            cursor = body.get("next_cursor") or ""
            if not cursor:
                break
        walk = time.monotonic() - t1
        t2 = time.monotonic()
        st, body, _ = self.api.get("/api/v1/tasks?limit=500&name_prefix=nomatch")
        filt = time.monotonic() - t2
        self.assertEqual(st, 200)
        self.assertEqual(seen, created[0])
        redis_mem = self.redis.cmd("INFO", "memory")
        used = next(l for l in redis_mem.splitlines() if l.startswith("used_memory:"))
        print(f"  {created[0]} tasks under one label in {dt:.1f}s ({created[0] / dt:.0f}/s); "
              f"api RSS {self.rss0} -> {rss_mid} kB; listed in {pages} pages in {walk:.1f}s; "
              f"a filter matching none answered in {filt * 1000:.0f} ms; redis {used}")
        self.assertLess(filt, 5.0)


class MemoryAmplificationTest(DtsCase):
    """Issue 12, item 6: 200 tasks of ~256 KiB; a page of 200 used to take the
    api from 9 MB to 166 MB (four at once to 553 MB; its k8s limit is 256 Mi)."""

    def test_big_tasks_list_in_bounded_pages(self):
        api = self.start_api()
        arg = "a" * 8000
        spec = json.dumps({"name": "big", "schedule": {"cron": "0 0 1 1 *"},
                           "action": {"type": "shell", "command": ["true"] + [arg] * 31}}).encode()
        self.assertGreater(len(spec), 240 * 1024)
        port = int(self.api.base.rsplit(":", 1)[1])

        def create(n):
            for _ in range(n):
                st, out = raw_http(port, request("POST", "/api/v1/tasks", spec, [("Content-Type", "application/json")]))
                self.assertEqual(st, 201, out[:200])
        threads = [threading.Thread(target=create, args=(50,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss0 = rss_kb(api.pid)
        results = []

        def page():
            results.append(self.api.get("/api/v1/tasks?limit=200"))
        threads = [threading.Thread(target=page) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss = rss_kb(api.pid)
        for st, body, _ in results:
            self.assertEqual(st, 200)
            self.assertLess(len(body["items"]), 200, "a page of big tasks was not shortened")
            self.assertTrue(body["next_cursor"])
        # Walking the pages still yields every task exactly once.
        seen, cursor = set(), ""
        while True:
            st, body, _ = self.api.get("/api/v1/tasks?limit=200" + (f"&cursor={cursor}" if cursor else ""))
            self.assertEqual(st, 200)
            ids = [t["id"] for t in body["items"]]
            self.assertFalse(seen & set(ids))
            seen |= set(ids)
            cursor = body.get("next_cursor")
            if not cursor:
                break
        self.assertEqual(len(seen), 200)
        print(f"  4 parallel GET ?limit=200 of 250 KiB tasks: api RSS {rss0} -> {rss} kB, "
              f"{len(results[0][1]['items'])} items a page")
        if not os.environ.get("DTS_SANITIZED"):
            self.assertLess(rss - rss0, 64 * 1024, "listing big tasks grew the api by more than 64 MB")


class ProxyCapTest(DtsCase):
    """Issue 12, item 6: the web proxy holds at most 16 MiB of an answer (it
    used to buffer 64 MiB per request); a larger one is a 502."""

    def test_an_oversized_upstream_answer_is_502_and_memory_stays_bounded(self):
        import http.server

        class Huge(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                size = 40 << 20 if self.path.startswith("/api/") else 2
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                try:
                    for _ in range(size // (1 << 20)):
                        self.wfile.write(b" " * (1 << 20))
                    if size < (1 << 20):
                        self.wfile.write(b"{}")
                except OSError:
                    pass

            def log_message(self, *args):
                pass
        up = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Huge)
        threading.Thread(target=up.serve_forever, daemon=True).start()
        self.addCleanup(up.shutdown)
        port = free_port()
        web = Proc(self.tmp, "web", ["web", "--listen", f"127.0.0.1:{port}", "--api",
                                     f"http://127.0.0.1:{up.server_address[1]}"])
        self.procs.append(web)
        h = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(h), what="web /readyz")
        rss0 = rss_kb(web.pid)
        results = []
        threads = [threading.Thread(target=lambda: results.append(h.get("/api/v1/tasks")[0])) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss = rss_kb(web.pid)
        print(f"  4 parallel 40 MiB upstream answers: web RSS {rss0} -> {rss} kB")
        self.assertEqual(results, [502] * 4)
        if not os.environ.get("DTS_SANITIZED"):
            self.assertLess(rss - rss0, 4 * 16 * 1024 + 16 * 1024)


class QuotaTest(DtsCase):
    """Issue 12, item 12: documented quotas answer 429 with Retry-After."""

    NOW = {"name": "q", "action": {"type": "noop"}}
    LATER = {"name": "q", "schedule": {"cron": "0 0 1 1 *"}, "action": {"type": "noop"}}

    def api_with(self, *args):
        port = free_port()
        self.start("api", "--listen", f"127.0.0.1:{port}", *args)
        api = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(api), what="api")
        return api

    def assert_429(self, answer, words):
        st, body, headers = answer
        self.assertEqual(st, 429, body)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        self.assertIn(words, body["detail"])

    def test_max_tasks_trigger_rate_and_ready_length(self):
        api = self.api_with("--max-tasks", "3", "--trigger-rate", "1", "--max-ready", "0")
        ids = [api.post("/api/v1/tasks", self.LATER)[1]["id"] for _ in range(3)]
        self.assert_429(api.post("/api/v1/tasks", self.LATER), "--max-tasks")
        self.assertEqual(len(api.get("/api/v1/tasks")[1]["items"]), 3, "a refused task was stored")
        self.assertEqual(api.post(f"/api/v1/tasks/{ids[0]}/trigger")[0], 202)
        self.assertEqual(api.post(f"/api/v1/tasks/{ids[0]}/trigger")[0], 202)
        self.assert_429(api.post(f"/api/v1/tasks/{ids[1]}/trigger"), "--trigger-rate")
        wait_for(lambda: api.post(f"/api/v1/tasks/{ids[1]}/trigger")[0] == 202, timeout=5,
                 what="the trigger rate to refill")
        # No executor runs: the ready streams only grow (from empty: the triggers above are dropped).
        for shard in range(self.shards):
            self.redis.cmd("XTRIM", f"dts:{{{shard}}}:ready", "MAXLEN", "0")
        ready = self.api_with("--max-ready", "1", "--trigger-rate", "0")
        task = ready.post("/api/v1/tasks", self.LATER)[1]
        accepted = 0
        while accepted < 10 and ready.post(f"/api/v1/tasks/{task['id']}/trigger")[0] == 202:
            accepted += 1
        self.assertEqual(accepted, 1)
        self.assert_429(ready.post(f"/api/v1/tasks/{task['id']}/trigger"), "--max-ready")


class HostileOutputTest(DtsCase):
    def test_action_output_with_bad_utf8_and_nuls_is_shown_sanitized(self):
        self.start_api()
        self.start("scheduler")
        self.start("executor", "--run-as", "root")
        t = self.create({"name": "bad-out", "action": {"type": "shell", "command": [
            "sh", "-c", "printf 'a\\377\\376b\\000c'; exit 3"]}})

        def finished():
            runs = self.runs(t["id"])
            return runs if runs and runs[0]["status"] != "running" else None

        runs = wait_for(finished, timeout=20, what="the run to finish")
        self.assertEqual(runs[0]["status"], "failed")
        self.assertEqual(runs[0]["output"], "a\ufffd\ufffdb\ufffdc")
        self.assertEqual(self.api.get(f"/api/v1/tasks/{t['id']}")[0], 200)


class HostileWebTest(DtsCase):
    """Path traversal on the web role: assets come from the binary, never the
    file system, and /api is proxied to the api as is."""

    def start_web(self):
        self.start_api()
        self.web_port = free_port()
        # web needs no Redis, hence none of DtsCase.common()'s options.
        self.web = Proc(self.tmp, "web", ["web", "--listen", f"127.0.0.1:{self.web_port}", "--api", self.api.base])
        self.procs.append(self.web)
        w = Http(f"http://127.0.0.1:{self.web_port}")

        def up():
            try:
                return w.get("/healthz")[0] == 200
            except OSError:
                return False

        wait_for(up, timeout=10, what="web /healthz")
        return rss_kb(self.web.pid)

    def test_path_traversal_reaches_no_file(self):
        rss0 = self.start_web()
        paths = ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
                 "/assets/../../../../etc/passwd", "/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                 "/%252e%252e/%252e%252e/etc/passwd", "/....//....//etc/passwd", "/..\\..\\..\\etc\\passwd",
                 "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "//etc/passwd", "/index.html/../../etc/passwd",
                 "/api/../../../etc/passwd", "/api/v1/tasks/..%2f..%2f..%2fetc%2fpasswd", "/%00/etc/passwd",
                 "/api/v1/tasks/../../../../../etc/passwd"]
        for p in paths:
            st, out = raw_http(self.web_port, request("GET", p))
            self.assertNotIn(b"root:x:0:0", out, p)
            self.assertTrue(st is None or st in (200, 301, 302, 308) or 400 <= st < 500, (p, st, out[:200]))
            if st == 200:  # only the UI's own index may answer
                self.assertIn(b"<html", out.lower(), p)
        self.assertIsNone(self.web.proc.poll(), "web died")
        print(f"  web RSS {rss0} -> {rss_kb(self.web.pid)} kB over {len(paths)} traversal attempts")

    def test_proxy_stays_under_api(self):
        """Dot segments, plain or percent-encoded, must not take a proxied
        request out of /api on the api (curl removes them when it builds the
        upstream URL from the decoded path), and a decoded CR LF, '?' or '#'
        in the path is the client's error (4xx), not the upstream's (502)."""
        self.start_web()
        st, out = raw_http(self.web_port, request("GET", "/api/v1/tasks/%0d%0aX-Injected:%201"))
        self.assertNotIn(b"X-Injected", out.partition(b"\r\n\r\n")[0])
        self.assertTrue(st is None or 400 <= st < 500, (st, out[:200]))
        for p in ("/api/%2e%2e/%2e%2e/metrics", "/api/v1/../../metrics", "/api/%2e%2e/readyz",
                  "/api/v1/tasks/..%2f..%2f..%2fmetrics"):
            st, out = raw_http(self.web_port, request("GET", p))
            self.assertNotIn(b"dts_http_requests_total", out, f"{p} reached the api's /metrics through the proxy")
            self.assertNotIn(b'"status":"ready"', out.partition(b"\r\n\r\n")[2][:40], f"{p} reached /readyz")


if __name__ == "__main__":
    unittest.main()


class ProbeMatrixTest(DtsCase):
    """Issue 12, item 2: every role answers every probe to every method, and
    never aborts (one HEAD /readyz used to kill the web role)."""

    def test_every_role_every_probe_every_method(self):
        self.start_api()
        ports = {"api": int(self.api.base.rsplit(":", 1)[1])}
        for role in ("scheduler", "executor"):
            ports[role] = free_port()
            self.start(role, "--listen", f"127.0.0.1:{ports[role]}")
        ports["web"] = free_port()
        web = Proc(self.tmp, "web", ["web", "--listen", f"127.0.0.1:{ports['web']}", "--api", self.api.base])
        self.procs.append(web)
        for role, port in ports.items():
            wait_for(lambda: api_up(Http(f"http://127.0.0.1:{port}")), what=f"{role} /readyz")
        for role, port in ports.items():
            for path in ("/healthz", "/readyz", "/metrics"):
                for method in ("GET", "HEAD", "POST", "OPTIONS"):
                    st, out = raw_http(port, request(method, path))
                    want = (200,) if method in ("GET", "HEAD") else (405,)
                    self.assertIn(st, want, f"{role} {method} {path}: {out[:200]!r}")
        for p in self.procs:
            self.assertIsNone(p.proc.poll(), f"{p.name} died")


class EnvProxyTest(DtsCase):
    """Issue 12, item 7: the web proxy never sends the api's traffic (and its
    bearer token) to an environment proxy."""

    def test_http_proxy_in_the_environment_is_never_contacted(self):
        self.start_api()
        contacted = []
        trap = socket.socket()
        trap.bind(("127.0.0.1", 0))
        trap.listen(16)
        trap.settimeout(0.2)
        stop = threading.Event()

        def serve():
            while not stop.is_set():
                try:
                    c, _ = trap.accept()
                except OSError:
                    continue
                contacted.append(c.recv(4096))
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"proxy\":true}")
                c.close()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.addCleanup(lambda: (stop.set(), t.join(2), trap.close()))
        url = f"http://127.0.0.1:{trap.getsockname()[1]}"
        env = {k: url for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy")}
        env.update(NO_PROXY="", no_proxy="")
        port = free_port()
        self.procs.append(Proc(self.tmp, "web", ["web", "--listen", f"127.0.0.1:{port}", "--api", self.api.base], env))
        web = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(web), what="web /readyz")
        st, body, _ = web.get("/api/v1/tasks", headers={"Authorization": "Bearer dts_secret"})
        self.assertEqual(st, 200, body)
        self.assertIn("items", body)
        self.assertEqual(contacted, [], "the environment proxy was contacted")
