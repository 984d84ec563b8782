"""Signed webhooks: an http action with a signing secret carries the Standard
Webhooks headers, and a receiver that verifies them the way the specification
says (HMAC-SHA256 over id.timestamp.body, base64, constant-time compare, a
five-minute tolerance) accepts them. The secret is write-only: no view and no
log shows it. Real api, scheduler and executor, real Redis."""
import base64
import hashlib
import hmac
import http.server
import threading
import time
import unittest

from dtstest import DtsCase, free_port, wait_for

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def verify(secret, headers, body):
    """What a receiver does; returns why it refuses, or None if authentic."""
    msg_id, ts, sigs = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and ts and sigs):
        return "missing headers"
    if abs(time.time() - int(ts)) > 300:
        return "timestamp out of tolerance"
    key = base64.b64decode(secret[len("whsec_"):])
    want = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    for sig in sigs.split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, want):
            return None
    return "no signature matches"


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 204 to authentic deliveries and 401 to others, recording both;
    while `failing` is above zero, an authentic delivery gets a 503 instead."""
    secret = SECRET
    seen = []
    failing = 0

    def _serve(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        refused = verify(Receiver.secret, self.headers, body)
        Receiver.seen.append({"headers": dict(self.headers), "body": body, "refused": refused})
        status = 401 if refused else 204
        if status == 204 and Receiver.failing > 0:
            Receiver.failing, status = Receiver.failing - 1, 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, *args):
        pass


class SignedWebhookTest(DtsCase):
    def setUp(self):
        super().setUp()
        Receiver.seen, Receiver.secret, Receiver.failing = [], SECRET, 0
        port = free_port()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.url = f"http://127.0.0.1:{port}/hook"
        self.api_proc = self.start_api()

    def finished(self, task_id, n):
        return wait_for(lambda: (lambda r: r if len([x for x in r if x["status"] != "running"]) >= n else None)(
            self.runs(task_id)), timeout=20, what=f"{n} finished runs")

    def spec(self, **action):
        return {"name": "signed", "action": {"type": "http", "method": "POST", "url": self.url,
                                             "body": '{"event":"tick"}', "signing_secret": SECRET, **action}}

    def test_receiver_verifies_the_signature_and_the_secret_is_never_shown(self):
        execu = self.start("executor", "--http-allow", "127.0.0.0/8")
        self.start("scheduler")
        t = self.create(self.spec())
        self.assertNotIn("signing_secret", t["action"])
        self.assertIs(t["action"]["signed"], True)
        [run] = self.finished(t["id"], 1)
        self.assertEqual((run["status"], run["http_status"]), ("succeeded", 204), run)
        [req] = Receiver.seen
        self.assertIsNone(req["refused"])
        self.assertEqual(req["headers"]["webhook-id"], run["occurrence_id"])
        self.assertEqual(req["body"], b'{"event":"tick"}')
        # The same delivery checked with another secret, or with its body changed, is refused.
        other = "whsec_" + base64.b64encode(b"x" * 32).decode()
        self.assertEqual(verify(other, req["headers"], req["body"]), "no signature matches")
        self.assertEqual(verify(SECRET, req["headers"], b'{"event":"tock"}'), "no signature matches")
        # Never shown: not by GET, not in the list, not in any log.
        _, got, _ = self.api.get(f"/api/v1/tasks/{t['id']}")
        _, listed, _ = self.api.get("/api/v1/tasks")
        self.assertNotIn("signing_secret", got["action"])
        self.assertNotIn(SECRET, str(got) + str(listed))
        for p in (self.api_proc, execu):
            self.assertNotIn(SECRET[6:], p.logs())

    def test_a_resent_delivery_keeps_its_webhook_id(self):
        """The specification: webhook-id is "the same when the same webhook is
        being resent (e.g. due to a previous failure)"; each attempt is signed
        anew and verifies, and a receiver can drop the repeat by its id."""
        Receiver.failing = 1
        self.start("executor", "--http-allow", "127.0.0.0/8")
        self.start("scheduler")
        t = self.create(dict(self.spec(), retry={"max_attempts": 2, "initial_s": 0.2, "jitter": False}))
        runs = sorted(self.finished(t["id"], 2), key=lambda r: r["attempt"])
        self.assertEqual([(r["attempt"], r["status"], r["http_status"]) for r in runs],
                         [(1, "failed", 503), (2, "succeeded", 204)])
        self.assertNotEqual(runs[0]["id"], runs[1]["id"])
        self.assertEqual([r["refused"] for r in Receiver.seen], [None, None])
        ids = [r["headers"]["webhook-id"] for r in Receiver.seen]
        self.assertEqual(ids, [runs[0]["occurrence_id"]] * 2)

    def test_an_edit_keeps_the_secret_it_cannot_read_and_null_removes_it(self):
        self.start("executor", "--http-allow", "127.0.0.0/8")
        self.start("scheduler")
        t = self.create(dict(self.spec(), schedule={"at": "2099-01-01T00:00:00Z"}))
        # The form's round trip: GET, change the name, PUT what it read.
        _, got, _ = self.api.get(f"/api/v1/tasks/{t['id']}")
        got["name"] = "renamed"
        status, body, _ = self.api.request("PUT", f"/api/v1/tasks/{t['id']}", got)
        self.assertEqual(status, 200, body)
        self.assertIs(body["action"]["signed"], True)
        self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/trigger")[0], 202)
        self.finished(t["id"], 1)
        self.assertIsNone(Receiver.seen[-1]["refused"])
        # null removes it: the next delivery carries no signature headers.
        got["action"]["signing_secret"] = None
        status, body, _ = self.api.request("PUT", f"/api/v1/tasks/{t['id']}", got)
        self.assertEqual(status, 200, body)
        self.assertNotIn("signed", body["action"])
        self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/trigger")[0], 202)
        self.finished(t["id"], 2)
        self.assertEqual(Receiver.seen[-1]["refused"], "missing headers")
        self.assertNotIn("webhook-signature", {k.lower() for k in Receiver.seen[-1]["headers"]})

    def test_malformed_secrets_and_spoofed_headers_are_refused(self):
        bad = ["", "abc", "whsec_", "whsec_not*base64", "whsec_" + base64.b64encode(b"short").decode(), 42]
        for secret in bad:
            status, body, _ = self.api.post("/api/v1/tasks", self.spec(signing_secret=secret))
            self.assertEqual((status, body["field"]), (400, "action.signing_secret"), (secret, body))
        status, body, _ = self.api.post("/api/v1/tasks", self.spec(headers={"webhook-signature": "v1,x"}))
        self.assertEqual((status, body["field"]), (400, "action.headers.webhook-signature"), body)
        self.assertEqual(self.api.get("/api/v1/tasks")[1]["items"], [])


if __name__ == "__main__":
    unittest.main()
