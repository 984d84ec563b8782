"""Idempotent creation: POST /api/v1/tasks with an Idempotency-Key. Fifty
concurrent repeats make one task; a repeat answers 200 with the first
request's task and Idempotent-Replayed; the same key with another body is
422; an api that died after claiming the key but before creating leaves a
repeat that creates exactly the task the key was pinned to. Real api
processes (two, sharing one Redis), real Redis."""
import hashlib
import json
import os
import threading
import unittest

from dtstest import DtsCase, Http, api_up, free_port, wait_for
from test_auth import api_with_tokens

SPEC = {"name": "once", "action": {"type": "noop"}}


class IdempotencyTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()
        port = free_port()
        self.start("api", "--listen", f"127.0.0.1:{port}")
        self.api2 = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(self.api2), what="second api /readyz")

    def post(self, key, spec=SPEC, api=None, raw=None):
        return (api or self.api).request("POST", "/api/v1/tasks", spec, headers={"Idempotency-Key": key}, raw=raw)

    def tasks(self):
        return self.api.get("/api/v1/tasks?limit=500")[1]["items"]

    def test_fifty_concurrent_repeats_make_one_task(self):
        results, lock = [], threading.Lock()
        body = json.dumps(SPEC).encode()

        def one(i):
            out = self.post("order-42", raw=body, api=self.api if i % 2 else self.api2)
            with lock:
                results.append(out)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(s for s, _, _ in results)
        self.assertEqual(statuses, [200] * 49 + [201], [b for _, b, _ in results if _ not in (200, 201)])
        self.assertEqual(len({b["id"] for _, b, _ in results}), 1)
        for status, _, headers in results:
            self.assertEqual(headers.get("Idempotent-Replayed"), "true" if status == 200 else None)
        [task] = self.tasks()
        self.assertEqual(task["id"], results[0][1]["id"])
        # A "now" task: its one occurrence ran once, so no double was queued either.
        self.start("executor")
        wait_for(lambda: len(self.runs(task["id"])) == 1 and self.runs(task["id"])[0]["status"] == "succeeded",
                 what="the one run")
        self.assertEqual(len(self.runs(task["id"])), 1)

    def test_a_repeat_replays_and_another_body_is_422(self):
        s1, first, h1 = self.post("k-1")
        self.assertEqual(s1, 201, first)
        s2, again, h2 = self.post("k-1")
        self.assertEqual((s2, again["id"], h2.get("Idempotent-Replayed")), (200, first["id"], "true"))
        self.assertEqual(h2.get("Location"), f"/api/v1/tasks/{first['id']}")
        s3, problem, _ = self.post("k-1", dict(SPEC, name="other"))
        self.assertEqual((s3, problem["field"]), (422, "Idempotency-Key"), problem)
        # Another key is another task; no key at all is as before.
        self.assertEqual(self.post("k-2")[0], 201)
        self.assertEqual(self.api.post("/api/v1/tasks", SPEC)[0], 201)
        self.assertEqual(len(self.tasks()), 3)
        # Remembered for 24 hours.
        ttls = [self.redis.cmd("PTTL", k) for k in self.redis.cmd("KEYS", "dts:*:idem:*")]
        self.assertEqual(len(ttls), 2)
        for ttl in ttls:
            self.assertGreater(ttl, 23 * 3600 * 1000)
            self.assertLessEqual(ttl, 24 * 3600 * 1000)

    def test_a_replay_of_a_deleted_task_is_404_and_recreates_nothing(self):
        status, first, _ = self.post("k-del")
        self.assertEqual(status, 201, first)
        self.assertEqual(self.api.request("DELETE", f"/api/v1/tasks/{first['id']}")[0], 204)
        self.assertEqual(self.post("k-del")[0], 404)
        self.assertEqual(self.tasks(), [])

    def test_bad_keys_are_400_and_store_nothing(self):
        for key in ["x" * 256, "has space", "tab\tkey"]:
            status, problem, _ = self.post(key)
            self.assertEqual((status, problem["field"]), (400, "Idempotency-Key"), key)
        # An invalid body under a key is a plain 400, and does not use the key up.
        status, problem, _ = self.post("k-bad", {"name": "x"})
        self.assertEqual((status, problem["field"]), (400, "action"))
        self.assertEqual(self.post("k-bad")[0], 201)
        self.assertEqual(len(self.tasks()), 1)

    def test_a_claim_left_by_a_dead_api_is_completed_by_the_repeat(self):
        # The state an api killed between claiming the key and creating the
        # task leaves: a pending record pinning the key to a task id.
        body = json.dumps(SPEC).encode()
        digest = hashlib.sha256(b"anonymous\nretry-me").hexdigest()
        pinned = "0000000000aa00000000bb"
        record = f"pending {hashlib.sha256(body).hexdigest()} {pinned}"
        for shard in range(self.shards):  # only the key's own shard is read
            self.redis.cmd("SET", f"dts:{{{shard}}}:idem:{digest}", record, "PX", "86400000")
        status, created, headers = self.post("retry-me", raw=body)
        self.assertEqual((status, created["id"]), (201, pinned), created)
        status, again, headers = self.post("retry-me", raw=body, api=self.api2)
        self.assertEqual((status, again["id"], headers.get("Idempotent-Replayed")), (200, pinned, "true"))
        self.assertEqual([t["id"] for t in self.tasks()], [pinned])


class PerCallerTest(DtsCase):
    def test_keys_of_different_tokens_never_meet(self):
        api, tokens = api_with_tokens(self, [("alice", "read,write"), ("bob", "read,write")])
        ids = []
        for who in ("alice", "bob", "alice"):
            status, body, _ = api.post("/api/v1/tasks", SPEC, headers={
                "Idempotency-Key": "shared", "Authorization": f"Bearer {tokens[who]}"})
            ids.append((status, body["id"]))
        self.assertEqual([s for s, _ in ids], [201, 201, 200])
        self.assertNotEqual(ids[0][1], ids[1][1])
        self.assertEqual(ids[0][1], ids[2][1])


if __name__ == "__main__":
    unittest.main()
