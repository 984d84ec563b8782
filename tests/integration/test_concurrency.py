"""Concurrency keys (issue 16, item 1): across all executors at most `limit`
runs of the tasks sharing a key run at once; the others wait (not skipped), in
due order, and start as slots free; a slot held by an executor killed with -9
frees after the recovery timeout (Redis's clock), never two over the limit.
Visible per key: GET /api/v1/concurrency/{key} and a metric. Real processes,
real Redis."""
import signal
import time
import unittest
import urllib.request

from dtstest import DtsCase, free_port, ledger_action, max_overlap, parse_time, read_ledger, wait_for


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def scrape_or_empty(port):
    try:
        return scrape(port)
    except OSError:
        return ""


class ConcurrencyCase(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()

    def spec(self, name, action, key="billing", limit=2, **extra):
        return dict({"name": name, "action": action, "concurrency": {"key": key, "limit": limit}}, **extra)

    def show(self, key="billing"):
        status, body, _ = self.api.get(f"/api/v1/concurrency/{key}")
        self.assertEqual(status, 200, body)
        return body

    def test_bad_concurrency_is_a_400_naming_the_field(self):
        noop = {"type": "noop"}
        for bad, field in [({"key": "billing", "limit": 0}, "concurrency.limit"),
                           ({"key": "billing", "limit": 1.5}, "concurrency.limit"),
                           ({"key": "billing"}, "concurrency.limit"),
                           ({"key": "bad key", "limit": 1}, "concurrency.key"),
                           ({"key": "a.b", "limit": 1}, "concurrency.key"),
                           ({"key": "", "limit": 1}, "concurrency.key"),
                           ({"limit": 1}, "concurrency.key"),
                           ({"key": "b", "limit": 1, "x": 1}, "concurrency.x"),
                           ("billing", "concurrency")]:
            status, body, _ = self.api.post("/api/v1/tasks", {"name": "c", "action": noop, "concurrency": bad})
            self.assertEqual(status, 400, (bad, body))
            self.assertEqual(body["field"], field, body)
        self.assertEqual(self.api.get("/api/v1/tasks")[1]["items"], [], "nothing stored")
        status, body, _ = self.api.get("/api/v1/concurrency/bad.key")
        self.assertEqual(status, 404, body)  # path segments have the charset of task ids
        self.assertEqual(self.show("unused"), {"key": "unused", "limit": 0, "running": 0, "waiting": 0,
                                               "running_occurrences": [], "waiting_occurrences": []})

    def test_at_most_limit_run_at_once_and_the_rest_wait_in_due_order(self):
        ledger = self.ledger_file()
        ports = [free_port(), free_port()]
        for p in ports:
            self.start("executor", "--concurrency", "4", "--listen", f"127.0.0.1:{p}")
        for p in ports:
            wait_for(lambda p=p: "dts_runs_total" in scrape_or_empty(p), what="executor /metrics")
        # Two long runs hold both slots; four more queue behind them.
        for i in range(2):
            self.create(self.spec(f"b{i}", ledger_action(ledger, 5.0)))
        wait_for(lambda: self.show()["running"] == 2, timeout=20, what="both slots held")
        for i in range(4):
            self.create(self.spec(f"w{i}", ledger_action(ledger, 0.3)))
        # Due order is among the occurrences waiting: all four queue while the slots are held.
        wait_for(lambda: self.show()["waiting"] == 4, timeout=4, what="the four waiting")
        other = self.create({"name": "free", "action": ledger_action(self.ledger_file("free"), 0)})
        seen = {"waiting": 0, "running": 0, "metric": 0}

        occ = {}  # waiter occurrence id -> its scheduled ms, as the queue names them

        def watch():
            v = self.show()
            self.assertLessEqual(v["running"], 2, v)
            for o in v["waiting_occurrences"]:
                occ[o] = int(o.rsplit(":", 1)[1])
            # Due order: no waiter holds a slot while an earlier one still waits
            # (two created in the same millisecond are due together: either may go first).
            held = [occ[o] for o in v["running_occurrences"] if o in occ]
            if held and v["waiting_occurrences"]:
                self.assertGreaterEqual(min(occ[o] for o in v["waiting_occurrences"]), max(held), v)
            seen["waiting"] = max(seen["waiting"], v["waiting"])
            seen["running"] = max(seen["running"], v["running"])
            text = "".join(scrape(p) for p in ports)
            waiting = sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
                          if l.startswith('dts_concurrency_waiting{key="billing"}'))
            seen["metric"] = max(seen["metric"], waiting)
            return len(read_ledger(ledger)[1]) == 6
        wait_for(watch, timeout=60, interval=0.1, what="all six ran")
        self.assertEqual(seen["running"], 2, "the limit was used")
        self.assertEqual(seen["waiting"], 4, "the API showed the four waiting")
        self.assertGreaterEqual(seen["metric"], 1, "the metric showed waiting occurrences")
        starts, ends = read_ledger(ledger)
        self.assertEqual(len(starts), 6, "none skipped")
        self.assertLessEqual(max_overlap(starts, ends, time.time() * 1000), 2)
        self.assertEqual(len(read_ledger(self.ledger_file("free"))[0]), 1, "a task without a key is not held up")
        wait_for(lambda: self.show()["running"] == 0 and self.show()["waiting"] == 0, what="slots freed")

    def test_a_waiting_occurrence_takes_no_worker(self):
        ledger, free = self.ledger_file(), self.ledger_file("free")
        self.start("executor", "--concurrency", "2")
        self.create(self.spec("long", ledger_action(ledger, 4), key="w", limit=1))
        wait_for(lambda: len(read_ledger(ledger)[0]) == 1, timeout=20, what="the long run")
        self.create(self.spec("waits", ledger_action(ledger, 0), key="w", limit=1))
        wait_for(lambda: self.show("w")["waiting"] == 1, timeout=20, what="the second waits")
        self.create({"name": "free", "action": ledger_action(free, 0)})
        # Two workers: one runs the long run; the waiting one holds none, so this runs now.
        wait_for(lambda: len(read_ledger(free)[1]) == 1, timeout=3, what="the unkeyed run, beside the waiter")
        self.assertEqual(self.show("w")["waiting"], 1, "still waiting meanwhile")

    def test_slot_of_a_killed_executor_frees_after_the_recovery_timeout(self):
        recovery = 2000
        ledger = self.ledger_file()
        # The first executor has one worker, so it takes only the long run.
        first = self.start("executor", "--concurrency", "1", "--recovery-timeout-ms", str(recovery))
        a = self.create(self.spec("long", ledger_action(ledger, 60), key="k", limit=1))
        wait_for(lambda: len(read_ledger(ledger)[0]) == 1, timeout=20, what="the long run started")
        # The second one's redelivery of the long run is dead-lettered
        # (--max-deliveries 1), so the slot goes to the waiting run.
        self.start("executor", "--recovery-timeout-ms", str(recovery), "--max-deliveries", "1")
        b = self.create(self.spec("waits", ledger_action(ledger, 0), key="k", limit=1))
        wait_for(lambda: self.show("k")["waiting"] == 1, timeout=20, what="the second run waits")
        self.assertEqual(self.show("k")["running"], 1)
        time.sleep(0.5)  # it keeps waiting while the slot is held
        self.assertEqual(len(read_ledger(ledger)[0]), 1, "never two over the limit")
        first.kill9()
        killed = time.time() * 1000
        wait_for(lambda: any(s["task"] == b["id"] for s in read_ledger(ledger)[0]), timeout=30,
                 what="the waiting run started")
        started = [s for s in read_ledger(ledger)[0] if s["task"] == b["id"]][0]["t"]
        self.assertGreaterEqual(started - killed, recovery - 600, "not before the slot was stale")
        self.assertLess(started - killed, recovery + 4000, "within the recovery timeout and a beat")
        runs = [s for s in read_ledger(ledger)[0] if s["task"] == a["id"]]
        self.assertEqual(len(runs), 1, "the long run did not start again beside it")

    def test_a_stalled_executors_release_leaves_the_slot_its_run_was_claimed_into(self):
        """At-least-once: an entry claimed away from a stalled executor runs
        again elsewhere and takes its slot over. When the stalled executor
        wakes, stops its run and releases, that release is for its own
        delivery: the slot stays with the run that took it over, and a waiter
        does not start beside it."""
        recovery = 1500
        ledger = self.ledger_file()
        stalled = self.start("executor", "--concurrency", "1", "--recovery-timeout-ms", str(recovery))
        a = self.create(self.spec("long", ledger_action(ledger, 5), key="s", limit=1))
        wait_for(lambda: [s for s in read_ledger(ledger)[0] if s["attempt"] == 1], timeout=20, what="attempt 1")
        stalled.proc.send_signal(signal.SIGSTOP)  # alive, but silent: its entry goes idle
        self.addCleanup(lambda: stalled.proc.poll() is None and stalled.proc.send_signal(signal.SIGCONT))
        self.start("executor", "--recovery-timeout-ms", str(recovery))
        wait_for(lambda: [s for s in read_ledger(ledger)[0] if s["attempt"] == 2], timeout=20,
                 what="attempt 2, claimed by the other executor")
        b = self.create(self.spec("waits", ledger_action(ledger, 0), key="s", limit=1))
        wait_for(lambda: self.show("s")["waiting"] == 1, timeout=10, what="the second task waits")
        stalled.proc.send_signal(signal.SIGCONT)  # it finds its entry gone, stops its run, releases
        wait_for(lambda: "entry taken away" in stalled.logs(), timeout=10, what="the stalled one to notice")
        wait_for(lambda: [s for s in read_ledger(ledger)[0] if s["task"] == b["id"]], timeout=30,
                 what="the waiting run")
        starts, ends = read_ledger(ledger)
        second = [s["run"] for s in starts if s["task"] == a["id"] and s["attempt"] == 2][0]
        # Attempt 2 still running counts as ending now, after the waiter's start.
        second_end = ([e["t"] for e in ends if e["run"] == second] or [time.time() * 1000])[0]
        waited = [s["t"] for s in starts if s["task"] == b["id"]][0]
        self.assertGreaterEqual(waited, second_end, "the waiter started while the run holding the slot ran")


if __name__ == "__main__":
    unittest.main()
