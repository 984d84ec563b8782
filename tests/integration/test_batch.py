"""POST /api/v1/tasks:batch (issue 14): up to 1,000 specs a request, each
validated as POST /api/v1/tasks validates one, stored with one script call per
shard, each item whole or not at all, a result per item in request order; and
POST /api/v1/tasks answering with what it wrote, in one round trip."""
import http.client
import json
import os
import re
import threading
import time
import unittest

import test_hostile
from dtstest import DtsCase, Http, api_up, free_port, ledger_action, read_ledger, wait_for
from test_auth import api_with_tokens
from test_events_stream import Stream

NOOP = {"type": "noop"}
LATER = {"at": "2031-01-01T00:00:00Z"}


def spec(name, **kw):
    return dict({"name": name, "schedule": LATER, "action": NOOP}, **kw)


class BatchTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()

    def batch(self, specs, expect):
        status, body, headers = self.api.post("/api/v1/tasks:batch", {"tasks": specs})
        self.assertEqual(status, expect, str(body)[:500])
        return body

    def stored_ids(self):
        return {k.rsplit(":", 1)[1] for k in self.redis.cmd("KEYS", "dts:*:task:*")}

    def evalsha_calls(self):
        stats = self.redis.cmd("INFO", "commandstats")
        m = re.search(r"cmdstat_evalsha:calls=(\d+)", stats)
        return int(m.group(1)) if m else 0

    def test_a_bad_item_mid_batch_stores_nothing_of_it_and_everything_else(self):
        body = self.batch([spec("a"), spec("b", schedule={"cron": "61 * * * *"}), spec("c", timeout_s=0),
                           spec("d", labels={"team": "x"})], 207)
        results = body["items"]
        self.assertEqual([r["status"] for r in results], [201, 400, 400, 201])
        self.assertEqual([r["problem"]["field"] for r in results[1:3]], ["tasks[1].schedule.cron", "tasks[2].timeout_s"])
        self.assertEqual([r["problem"]["index"] for r in results[1:3]], [1, 2])
        self.assertEqual(results[1]["problem"]["status"], 400)
        stored = [results[0]["task"], results[3]["task"]]
        self.assertEqual([t["name"] for t in stored], ["a", "d"])
        self.assertEqual(self.stored_ids(), {t["id"] for t in stored})
        # Each stored item is exactly what GET shows, and in the listing and due set.
        for t in stored:
            self.assertEqual(self.api.get(f"/api/v1/tasks/{t['id']}")[1], t)
        self.assertEqual({t["id"] for t in self.api.get("/api/v1/tasks")[1]["items"]}, {t["id"] for t in stored})
        due = sum(self.redis.cmd("ZCARD", f"dts:{{{s}}}:due") for s in range(self.shards))
        self.assertEqual(due, 2)
        events = sum(self.redis.cmd("XLEN", f"dts:{{{s}}}:events") for s in range(self.shards))
        self.assertEqual(events, 2, "a refused item left an event")

    def test_a_thousand_items_take_one_script_call_per_shard(self):
        before = self.evalsha_calls()
        body = self.batch([spec(f"t{i}") for i in range(1000)], 200)
        calls = self.evalsha_calls() - before
        self.assertEqual([r["status"] for r in body["items"]], [201] * 1000)
        self.assertEqual([r["task"]["name"] for r in body["items"]], [f"t{i}" for i in range(1000)])
        ids = [r["task"]["id"] for r in body["items"]]
        self.assertEqual(len(set(ids)), 1000)
        self.assertEqual(self.stored_ids(), set(ids))
        per_shard = [self.redis.cmd("ZCARD", f"dts:{{{s}}}:tasks") for s in range(self.shards)]
        self.assertTrue(all(n > 0 for n in per_shard), f"a batch across every shard: {per_shard}")
        self.assertEqual(calls, self.shards, "one create_batch call per shard")

    def test_more_than_a_thousand_or_a_body_over_the_cap_is_refused_whole(self):
        st, problem, _ = self.api.post("/api/v1/tasks:batch", {"tasks": [spec("x")] * 1001})
        self.assertEqual((st, problem["field"]), (413, "tasks"))
        # A body over 4 MiB is refused from its Content-Length, before it is read.
        conn = http.client.HTTPConnection("127.0.0.1", int(self.api.base.rsplit(":", 1)[1]), timeout=10)
        conn.request("POST", "/api/v1/tasks:batch", headers={"Content-Type": "application/json",
                                                             "Content-Length": str(4 * 1024 * 1024 + 1)})
        self.assertEqual(conn.getresponse().status, 413)
        conn.close()
        # Up to it, a batch body is read (a single create's stops at 256 KiB).
        wide = [spec("w", labels={f"k{i}": "v" * 250 for i in range(30)}) for _ in range(100)]  # ~0.8 MB
        self.assertEqual(self.batch(wide, 200)["items"][99]["status"], 201)
        self.redis.cmd("FLUSHALL")
        for raw, field in [(b'{"tasks": []}', "tasks"), (b'{"tasks": {}}', "tasks"), (b'{"tasks": [], "x": 1}', "x"),
                           (b'not json', "")]:
            st, problem, _ = self.api.post("/api/v1/tasks:batch", raw=raw)
            self.assertEqual((st, problem["field"]), (400, field), raw)
        self.assertEqual(self.stored_ids(), set())

    def test_item_limits_are_the_single_creates(self):
        # An item larger than POST /tasks takes is refused on its own.
        huge = spec("huge", action={"type": "shell", "command": ["a" * 8000] * 40})
        body = self.batch([huge, spec("ok")], 207)
        self.assertEqual([r["status"] for r in body["items"]], [413, 201])
        self.assertEqual(self.api.post("/api/v1/tasks", huge)[0], 413)
        self.assertEqual(len(self.stored_ids()), 1)

    def test_an_items_idempotency_key_creates_it_once(self):
        first = self.batch([spec("a", idempotency_key="k-a"), spec("b", idempotency_key="k-b"), spec("c")], 200)
        self.assertEqual([r["status"] for r in first["items"]], [201, 201, 201])
        # The same batch again: the keyed items are replays of the first ones
        # (the spec's members in another order are the same spec); the unkeyed one is new.
        again = self.batch([{"action": NOOP, "schedule": LATER, "idempotency_key": "k-a", "name": "a"},
                            spec("b", idempotency_key="k-b"), spec("c")], 200)
        self.assertEqual([(r["status"], r.get("replayed")) for r in again["items"]],
                         [(200, True), (200, True), (201, None)])
        self.assertEqual([r["task"]["id"] for r in again["items"][:2]], [r["task"]["id"] for r in first["items"][:2]])
        self.assertEqual(again["items"][0]["task"], self.api.get(f"/api/v1/tasks/{first['items'][0]['task']['id']}")[1])
        self.assertEqual(len(self.stored_ids()), 4)
        # The key with another spec, bad keys, and one key twice in a batch: refused, nothing stored.
        before = self.stored_ids()
        body = self.batch([spec("other", idempotency_key="k-a"), spec("x", idempotency_key=""),
                           spec("y", idempotency_key=42), spec("z", idempotency_key="a" * 256),
                           spec("t", idempotency_key="tab\tkey"), spec("d1", idempotency_key="dup"),
                           spec("d2", idempotency_key="dup")], 207)
        self.assertEqual([r["status"] for r in body["items"]], [422, 400, 400, 400, 400, 201, 400])
        self.assertEqual({r["problem"]["field"] for r in body["items"] if r["status"] != 201},
                         {f"tasks[{i}].idempotency_key" for i in (0, 1, 2, 3, 4, 6)})
        self.assertEqual(len(self.stored_ids() - before), 1)
        # A key's task deleted since: its repeat is a 404, and makes nothing.
        gone = first["items"][1]["task"]["id"]
        self.assertEqual(self.api.request("DELETE", f"/api/v1/tasks/{gone}")[0], 204)
        body = self.batch([spec("b", idempotency_key="k-b")], 207)
        self.assertEqual((body["items"][0]["status"], body["items"][0]["problem"]["field"]),
                         (404, "tasks[0].idempotency_key"))
        # A single create refuses the member: it takes the header.
        self.assertEqual(self.api.post("/api/v1/tasks", spec("s", idempotency_key="k"))[1]["field"],
                         "idempotency_key")

    def test_concurrent_repeats_of_a_keyed_batch_make_each_task_once(self):
        specs = [spec(f"r{i}", idempotency_key=f"key-{i}") for i in range(5)]
        answers = []

        def send():
            status, body, _ = Http(self.api.base).post("/api/v1/tasks:batch", {"tasks": specs})
            answers.append((status, body))
        threads = [threading.Thread(target=send) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(answers), 20)
        ids = set()
        for status, body in answers:
            self.assertEqual(status, 200, body)
            self.assertTrue(all(r["status"] in (200, 201) for r in body["items"]), body)
            ids |= {r["task"]["id"] for r in body["items"]}
        self.assertEqual(len(ids), 5, "one task per key")
        self.assertEqual(self.stored_ids(), ids)
        self.assertEqual(sum(r["status"] == 201 for _, b in answers for r in b["items"]), 5)

    def test_the_201_of_a_single_create_is_what_get_shows(self):
        for s in [spec("at", labels={"a": "b"}, retry={"max_attempts": 3}),
                  {"name": "cron", "schedule": {"cron": "*/5 * * * *", "timezone": "Europe/Paris"},
                   "action": {"type": "shell", "command": ["true"], "env": {"K": "v"}}, "overlap": "forbid"},
                  {"name": "never", "schedule": {"cron": "0 0 1 1 *"}, "end_at": "2020-01-01T00:00:00Z",
                   "action": NOOP}]:
            st, created, headers = self.api.post("/api/v1/tasks", s)
            self.assertEqual(st, 201, created)
            st, got, got_headers = self.api.get(f"/api/v1/tasks/{created['id']}")
            self.assertEqual(created, got)
            self.assertEqual(headers["ETag"], got_headers["ETag"])
        # A run-now task is not due: its 201 shows no next run, like GET.
        st, now_task, _ = self.api.post("/api/v1/tasks", {"name": "now", "action": NOOP})
        self.assertEqual((st, now_task["next_run_at"]), (201, None))
        self.assertEqual(self.api.get(f"/api/v1/tasks/{now_task['id']}")[1], now_task)

    def test_run_now_items_run_exactly_once(self):
        ledger = self.ledger_file()
        self.start("scheduler")
        self.start("executor", "--run-as", "root")
        body = self.batch([{"name": f"now{i}", "action": ledger_action(ledger)} for i in range(40)], 200)
        ids = {r["task"]["id"] for r in body["items"]}

        def all_finished():
            _, page, _ = self.api.get("/api/v1/tasks?limit=100")
            return all(t["runs"]["succeeded"] == 1 for t in page["items"]) and len(page["items"]) == 40

        wait_for(all_finished, timeout=60, interval=0.2, what="every run-now item to run")
        starts, _ = read_ledger(ledger)
        self.assertEqual(sorted(s["task"] for s in starts), sorted(ids), "each item ran exactly once")
        self.assertEqual({s["attempt"] for s in starts}, {1})


class BatchQuotaTest(DtsCase):
    shards = 1  # every run-now item shares one ready stream

    api_with = test_hostile.QuotaTest.api_with

    def test_a_shards_items_past_128_go_in_a_second_call(self):
        """A script call stays within a few milliseconds of Redis time: 128 items at most."""
        api = self.api_with("--max-tasks", "0")
        before = BatchTest.evalsha_calls(self)
        st, body, _ = api.post("/api/v1/tasks:batch", {"tasks": [spec(f"s{i}") for i in range(200)]})
        self.assertEqual((st, len(body["items"])), (200, 200))
        self.assertEqual(BatchTest.evalsha_calls(self) - before, 2)
        self.assertEqual(self.redis.cmd("ZCARD", "dts:{0}:tasks"), 200)

    def test_max_tasks_and_max_ready_refuse_items_not_the_batch(self):
        api = self.api_with("--max-tasks", "3")
        st, body, _ = api.post("/api/v1/tasks:batch", {"tasks": [spec(f"q{i}") for i in range(5)]})
        self.assertEqual(st, 207, body)
        self.assertEqual([r["status"] for r in body["items"]], [201, 201, 201, 429, 429])
        self.assertIn("--max-tasks", body["items"][3]["problem"]["detail"])
        st, problem, headers = api.post("/api/v1/tasks:batch", {"tasks": [spec("more")]})
        self.assertEqual(st, 429, problem)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        self.assertEqual(len(self.redis.cmd("KEYS", "dts:*:task:*")), 3)
        # --max-ready: the create script itself refuses a run-now item while
        # its shard's ready stream is full (no executor runs here).
        ready = self.api_with("--max-ready", "1", "--max-tasks", "0")
        st, body, _ = ready.post("/api/v1/tasks:batch", {"tasks": [{"name": f"n{i}", "action": NOOP} for i in range(3)]
                                                         + [spec("later")]})
        self.assertEqual([r["status"] for r in body["items"]], [201, 429, 429, 201])
        self.assertIn("--max-ready", body["items"][1]["problem"]["detail"])
        self.assertEqual(self.redis.cmd("XLEN", "dts:{0}:ready"), 1)
        st, problem, _ = ready.post("/api/v1/tasks", {"name": "one-more", "action": NOOP})
        self.assertEqual(st, 429, problem)
        self.assertIn("--max-ready", problem["detail"])
        self.assertEqual(len(self.redis.cmd("KEYS", "dts:*:task:*")), 5)


class BatchAuthTest(DtsCase):
    def test_the_batch_takes_the_single_creates_scopes(self):
        api, tokens = api_with_tokens(self, [("reader", "read"), ("writer", "read,write"),
                                             ("sheller", "read,write,shell")])
        shell = spec("s", action={"type": "shell", "command": ["true"]})
        batch = {"tasks": [spec("n"), shell]}
        self.assertEqual(api.post("/api/v1/tasks:batch", batch)[0], 401)
        as_ = lambda who: {"Authorization": f"Bearer {tokens[who]}"}
        self.assertEqual(api.post("/api/v1/tasks:batch", batch, headers=as_("reader"))[0], 403)
        st, body, _ = api.post("/api/v1/tasks:batch", batch, headers=as_("writer"))
        self.assertEqual([r["status"] for r in body["items"]], [201, 403])
        self.assertEqual(body["items"][1]["problem"]["field"], "tasks[1].action.type")
        st, body, _ = api.post("/api/v1/tasks:batch", batch, headers=as_("sheller"))
        self.assertEqual((st, [r["status"] for r in body["items"]]), (200, [201, 201]))
        self.assertEqual(len(self.redis.cmd("KEYS", "dts:*:task:*")), 3)


class FeedUnderCreatesTest(DtsCase):
    """The live feed's hub reads nothing while no client listens (every
    create's event would cost it a read); a client joining it while batches
    flow still gets every event after its backlog."""

    def test_a_client_joining_an_idle_feed_under_batches_misses_nothing(self):
        self.start_api()
        port = int(self.api.base.rsplit(":", 1)[1])
        created, stop = [], threading.Event()

        def creates():
            while not stop.is_set():
                started = time.monotonic()
                _, body, _ = self.api.post("/api/v1/tasks:batch", {"tasks": [spec(f"f{i}") for i in range(50)]})
                created.extend((started, r["task"]["id"]) for r in body["items"])

        worker = threading.Thread(target=creates)
        worker.start()
        try:
            wait_for(lambda: len(created) >= 200, timeout=20, what="creates to flow")
            s = Stream(port)
            self.addCleanup(s.close)
            s.until(lambda x: x.pump().startswith("retry:"))
            opened = time.monotonic()
            wait_for(lambda: any(t > opened for t, _ in created), timeout=20, what="creates after the join")
            time.sleep(0.5)  # let batches flow past the join for a while (the wait is the point)
        finally:
            stop.set()
            worker.join()
        after = {i for t, i in created if t > opened}

        def tasks_seen(x):  # whole blocks only: a read may end inside one
            text = x.text[:x.text.rfind("\n\n") + 1]
            return {json.loads(l[6:])["task"] for l in text.splitlines() if l.startswith("data: ")}

        s.until(lambda x: after <= tasks_seen(x), timeout=20, what=f"all {len(after)} events after the join")


if __name__ == "__main__":
    unittest.main()
