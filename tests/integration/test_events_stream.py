"""GET /api/v1/events/stream: a real Server-Sent Events stream. Events are
pushed as they happen (named by task), a stream resumes from Last-Event-ID,
the number of streams is bounded (503), a heartbeat comes every 15 s, the
stream ends cleanly when the api stops, and the web role passes it through
as it comes."""
import http.client
import json
import signal
import socket
import time

from dtstest import DtsCase, Http, Proc, free_port, wait_for


class Stream:
    """One open stream, read incrementally: blocks are the SSE events."""

    def __init__(self, port, headers=None, path="/api/v1/events/stream"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", path, headers=headers or {})
        self.r = self.conn.getresponse()
        self.text = ""
        self.ended = False

    def pump(self):
        """Reads what has arrived (waits for at least one chunk unless it ended)."""
        if not self.ended:
            chunk = self.r.read1(65536).decode()
            self.ended = chunk == ""
            self.text += chunk
        return self.text

    def events(self):
        return [json.loads(l[6:]) for l in self.text.splitlines() if l.startswith("data: ")]

    def until(self, cond, timeout=10, what="stream content"):
        deadline = time.monotonic() + timeout
        self.conn.sock.settimeout(timeout)
        while not cond(self):
            self.assertion(time.monotonic() < deadline and not self.ended, what)
            self.pump()
        return self

    @staticmethod
    def assertion(ok, what):
        if not ok:
            raise AssertionError(f"timed out or ended waiting for {what}")

    def close(self):
        self.conn.close()


class EventStreamTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.api_proc = self.start("api", "--listen", f"127.0.0.1:{self.port}", "--stream-clients", "3")
        self.api = Http(f"http://127.0.0.1:{self.port}")
        wait_for(lambda: self._ready(), what="api")
        self.streams = []

    def _ready(self):
        try:
            return self.api.get("/readyz")[0] == 200
        except OSError:
            return False

    def open(self, **kw):
        s = Stream(self.port, **kw)
        self.streams.append(s)
        self.addCleanup(s.close)
        return s

    def noop(self, name):
        return self.create({"name": name, "schedule": {"cron": "0 0 1 1 *"}, "action": {"type": "noop"}})

    def test_events_are_pushed_as_they_happen_with_names(self):
        s = self.open()
        self.assertEqual((s.r.status, s.r.getheader("Content-Type")), (200, "text/event-stream"))
        s.until(lambda x: x.pump().startswith("retry: 1000\n\n"))
        started = time.monotonic()
        t = self.noop("pushed")
        s.until(lambda x: any(e["task"] == t["id"] for e in x.events()), timeout=5, what="the task.created event")
        took = time.monotonic() - started
        self.assertLess(took, 0.5, f"the event took {took:.3f} s")
        e = [e for e in s.events() if e["task"] == t["id"]][0]
        self.assertEqual((e["type"], e["task_name"]), ("task.created", "pushed"))
        # Each event's id: line comes right before its data: line.
        self.assertIn(f"id: {e['id']}\ndata: ", s.text)

    def test_resume_from_last_event_id(self):
        first = self.noop("one")
        second = self.noop("two")
        s = self.open()
        s.until(lambda x: {first["id"], second["id"]} <= {e["task"] for e in x.events()})
        one = [e for e in s.events() if e["task"] == first["id"]][0]
        r = self.open(headers={"Last-Event-ID": one["id"]})
        r.until(lambda x: any(e["task"] == second["id"] for e in x.events()))
        self.assertNotIn(first["id"], {e["task"] for e in r.events()})
        # A header the api never wrote starts afresh; a bad argument is a 400.
        self.open(headers={"Last-Event-ID": "garbage"}).until(lambda x: x.events())
        bad = Stream(self.port, path="/api/v1/events/stream?last_event_id=nope")
        self.assertEqual(bad.r.status, 400)
        self.assertEqual(json.loads(bad.r.read())["field"], "last_event_id")
        bad.close()

    def test_streams_are_bounded(self):
        for _ in range(3):
            self.open().until(lambda x: x.pump().startswith("retry:"))
        extra = Stream(self.port)
        self.assertEqual(extra.r.status, 503)
        self.assertEqual(extra.r.getheader("Retry-After"), "5")
        self.assertEqual(json.loads(extra.r.read())["status"], 503)
        extra.close()
        # A client that goes frees its place (found at the latest by the next heartbeat).
        self.streams[0].close()
        wait_for(lambda: self._opens(), timeout=20, interval=0.5, what="a free stream place")

    def _opens(self):
        s = Stream(self.port)
        ok = s.r.status == 200
        s.close()
        return ok

    def test_heartbeat_and_a_clean_end_when_the_api_stops(self):
        s = self.open()
        s.until(lambda x: x.pump().startswith("retry:"))
        s.until(lambda x: ": heartbeat\n\n" in x.text, timeout=20, what="a heartbeat")
        self.api_proc.proc.send_signal(signal.SIGTERM)
        s.until(lambda x: x.ended, timeout=10, what="the end of the stream")
        self.assertEqual(self.api_proc.proc.wait(10), 0)

    def test_the_web_role_streams_it_through(self):
        web_port = free_port()
        self.procs.append(Proc(self.tmp, "web", ["web", "--listen", f"127.0.0.1:{web_port}", "--api", self.api.base]))
        wait_for(lambda: _listening(web_port) and Http(f"http://127.0.0.1:{web_port}").get("/readyz")[0] == 200,
                 what="web")
        s = Stream(web_port)
        self.addCleanup(s.close)
        self.assertEqual((s.r.status, s.r.getheader("Content-Type")), (200, "text/event-stream"))
        s.until(lambda x: x.pump().startswith("retry:"))
        started = time.monotonic()
        t = self.noop("proxied")
        s.until(lambda x: any(e["task"] == t["id"] for e in x.events()), timeout=5, what="the event through web")
        self.assertLess(time.monotonic() - started, 0.5)


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    import unittest
    unittest.main()
