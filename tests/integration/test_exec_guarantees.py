"""The executor's guarantees under ordinary operations (issue 11): a shutdown
hands runs back instead of failing them, one clock (Redis's) decides across
skewed hosts, no executor takes more than it can run, paused means nothing
starts, dead letters can be re-driven, completions survive a lost run record,
fencing counts deliveries, and the sweeper keeps Redis from growing. Real
processes, real Redis; the actions write a ledger the tests read."""
import http.server
import os
import signal
import threading
import time
import unittest

from dtstest import DtsCase, fmt_time, free_port, parse_time, wait_for


class Slow(http.server.BaseHTTPRequestHandler):
    """A loopback webhook receiver that answers after 5 s, counting calls."""
    calls = []

    def do_POST(self):
        Slow.calls.append(self.headers.get("Idempotency-Key"))
        time.sleep(5)
        try:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


class ExecCase(DtsCase):
    def setUp(self):
        super().setUp()
        self.ledger = os.path.join(self.tmp, "ledger")
        self.start_api()

    def lines(self):
        if not os.path.exists(self.ledger):
            return []
        with open(self.ledger) as f:
            return [line.split() for line in f.read().splitlines()]

    def logged(self, *words):
        return lambda: any(line[:len(words)] == list(words) for line in self.lines())

    def task(self, task_id):
        return self.api.get(f"/api/v1/tasks/{task_id}")[1]

    def shard_of(self, task_id):
        """The task's shard: the FNV-1a hash of its id (src/store.c)."""
        h = 2166136261
        for c in task_id.encode():
            h = ((h ^ c) * 16777619) & 0xFFFFFFFF
        return h % self.shards

    def run_of(self, task_id, attempt):
        runs = [r for r in self.runs(task_id) if r["attempt"] == attempt and r["status"] != "running"]
        return runs[0] if runs else None

    def shell(self, script):
        """A shell action that runs SCRIPT with $L the ledger."""
        return {"type": "shell", "command": ["sh", "-c", f"L={self.ledger}; {script}"]}


class ShutdownTest(ExecCase):
    """Item 2: SIGTERM past --grace-ms hands the run back, never fails it."""

    def test_sigterm_past_grace_hands_the_run_back(self):
        e1 = self.start("executor", "--grace-ms", "500", "--kill-grace-ms", "1000", name="e1")
        t = self.create({"name": "long", "action": self.shell(
            'echo start $DTS_ATTEMPT >> $L; sleep 5; echo end $DTS_ATTEMPT >> $L')})
        wait_for(self.logged("start", "1"), what="attempt 1 to start")
        began = time.monotonic()
        self.assertEqual(e1.stop(signal.SIGTERM), 0)
        self.assertLess(time.monotonic() - began, 4, "the executor did not stop after grace + kill grace")
        # Handed back at once: a second executor runs it now, not after a recovery timeout.
        self.start("executor", "--recovery-timeout-ms", "60000", name="e2")
        wait_for(lambda: self.run_of(t["id"], 2), timeout=20, what="attempt 2 to finish")
        first, second = self.run_of(t["id"], 1), self.run_of(t["id"], 2)
        self.assertEqual(first["status"], "interrupted")
        self.assertEqual(first["error"], "executor shut down before the run finished; handed back")
        self.assertEqual(second["status"], "succeeded")
        self.assertEqual(second["occurrence_id"], first["occurrence_id"])
        self.assertEqual(self.lines(), [["start", "1"], ["start", "2"], ["end", "2"]])
        now = self.task(t["id"])
        self.assertEqual((now["state"], now["runs"]["failed"], now["runs"]["succeeded"]), ("completed", 0, 1))
        self.assertEqual(self.ready_entries(), [])

    def test_a_webhook_cancelled_by_shutdown_is_handed_back(self):
        Slow.calls = []
        port = free_port()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Slow)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        e1 = self.start("executor", "--grace-ms", "500", "--http-allow", "127.0.0.0/8", name="e1")
        t = self.create({"name": "hook", "action": {"type": "http", "url": f"http://127.0.0.1:{port}/"}})
        wait_for(lambda: len(Slow.calls) == 1, what="the webhook call")
        self.assertEqual(e1.stop(signal.SIGTERM), 0)
        self.start("executor", "--http-allow", "127.0.0.0/8", "--recovery-timeout-ms", "60000", name="e2")
        wait_for(lambda: self.run_of(t["id"], 2), timeout=20, what="attempt 2 to finish")
        self.assertEqual(self.run_of(t["id"], 1)["status"], "interrupted")
        self.assertEqual(self.run_of(t["id"], 2)["status"], "succeeded")
        self.assertEqual(self.task(t["id"])["runs"]["failed"], 0)


class ClockTest(ExecCase):
    """Item 5: an executor whose clock is 10 s behind decides on Redis's clock."""

    def test_forbid_holds_with_an_executor_ten_seconds_behind(self):
        self.start("scheduler")
        # One slot: while its run is in flight the slow executor takes nothing, so
        # the fast one must decide on the occurrences due meanwhile (with four, the
        # slow one's skips freed its slots at once and it could take every entry).
        slow = self.start("executor", "--concurrency", "1", name="slow", env={"DTS_CLOCK_SKEW_MS": "-10000"})
        t = self.create({"name": "forbid", "overlap": "forbid", "schedule": {"cron": "* * * * * *"},
                         "action": self.shell('echo start $(date +%s%3N) >> $L; sleep 2.5; '
                                              'echo end $(date +%s%3N) >> $L')})
        # The slow executor's run is in flight when the other one starts taking entries.
        wait_for(self.logged("start"), what="the slow executor's first run")
        fast = self.start("executor", "--concurrency", "4", name="fast")
        # Both executors take part: the fast one ran or skipped some occurrences.
        wait_for(lambda: self.task(t["id"])["runs"]["succeeded"] >= 6 and any(
            str(fast.pid) in r["executor"] for r in self.runs(t["id"])),
            timeout=90, what="six runs, and the fast executor deciding on some")
        self.api.post(f"/api/v1/tasks/{t['id']}/pause")
        wait_for(lambda: all(r["status"] != "running" for r in self.runs(t["id"])), timeout=10, what="quiet")
        depth = peak = 0
        for kind, _ in sorted(self.lines(), key=lambda l: (int(l[1]), l[0] == "start")):
            depth += 1 if kind == "start" else -1
            peak = max(peak, depth)
        self.assertEqual(peak, 1, "two runs of a forbid task overlapped")
        ran = " ".join(r["executor"] for r in self.runs(t["id"]) if r["status"] == "succeeded")
        self.assertIn(str(slow.pid), ran)

    def test_lateness_and_labels_use_redis_time(self):
        self.start("executor", env={"DTS_CLOCK_SKEW_MS": "-10000"})
        before = int(time.time() * 1000)
        t = self.create({"name": "now", "action": {"type": "shell", "command": ["true"]}})
        run = wait_for(lambda: self.run_of(t["id"], 1), what="the run")
        self.assertGreaterEqual(run["lateness_ms"], 0)
        self.assertLess(run["lateness_ms"], 3000)
        self.assertLess(abs(parse_time(run["started_at"]) - before), 3000)
        alive = self.redis.cmd("ZRANGE", "dts:executors", 0, -1, "WITHSCORES")
        self.assertLess(abs(int(alive[1]) - int(time.time() * 1000)), 3000, "the heartbeat used the host clock")


class SpreadTest(ExecCase):
    """Entries spread over the executors: Redis hands each to the reader
    blocked longest, and a blocking read whose timeout divided the task's
    period (500 ms, a task due every second) kept one executor the oldest
    reader at every due time: it ran every occurrence, the other none."""

    def test_a_task_due_every_second_runs_on_both_executors(self):
        self.start("scheduler")
        first = self.start("executor", name="first")
        second = self.start("executor", name="second")
        t = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        runs = wait_for(lambda: (lambda r: r if len(r) >= 12 else None)(
            [r for r in self.runs(t["id"]) if r["status"] == "succeeded"]), timeout=30, what="twelve runs")
        by = [sum(str(p.pid) in r["executor"] for r in runs) for p in (first, second)]
        self.assertEqual(sum(by), len(runs))
        self.assertTrue(all(n > 0 for n in by), f"runs per executor: {by}")


class HoardTest(ExecCase):
    """Item 6: an executor takes no more entries than it has free slots."""

    def test_quick_tasks_never_wait_behind_a_long_one(self):
        self.start("scheduler")
        at = fmt_time(int(time.time() * 1000) + 4000)
        # The long task goes to shard 0, which a hoarding read lists first.
        while True:
            long_task = self.create({"name": "long", "schedule": {"at": at},
                                     "action": {"type": "shell", "command": ["sleep", "8"]}})
            if self.shard_of(long_task["id"]) == 0:
                break
            self.assertEqual(self.api.request("DELETE", f"/api/v1/tasks/{long_task['id']}")[0], 204)
        quick = [self.create({"name": f"q{i}", "schedule": {"at": at}, "action": {"type": "noop"}})
                 for i in range(20)]
        wait_for(lambda: len(self.ready_entries()) == 21, timeout=15, what="all 21 dispatched")
        self.start("executor", "--concurrency", "1", name="first")
        wait_for(lambda: [r for r in self.runs(long_task["id"]) if r["status"] == "running"], what="the long run")
        self.start("executor", "--concurrency", "1", name="second")
        long_run = wait_for(lambda: self.run_of(long_task["id"], 1), timeout=30, what="the long run to end")
        for q in quick:
            run = wait_for(lambda: self.run_of(q["id"], 1), timeout=30, what="a quick run")
            self.assertLess(parse_time(run["started_at"]), parse_time(long_run["finished_at"]),
                            "a quick task waited behind the long one")
            self.assertNotEqual(run["executor"], long_run["executor"])


class DeadLetterTest(ExecCase):
    """Items 7 and 14: a max-deliveries dead letter counts what ran, completes a
    one-time task, and can be re-driven."""

    def test_max_deliveries_dead_letter_can_be_redriven(self):
        flags = ["--max-deliveries", "1", "--recovery-timeout-ms", "1000"]
        e1 = self.start("executor", *flags, name="e1")
        t = self.create({"name": "crashy", "action": self.shell(
            'echo $DTS_ATTEMPT >> $L; [ "$DTS_ATTEMPT" -gt 1 ] || sleep 60')})
        wait_for(self.logged("1"), what="attempt 1 to run")
        e1.kill9()
        self.start("executor", *flags, name="e2")
        dead = wait_for(lambda: self.api.get("/api/v1/dead")[1]["items"], timeout=15, what="the dead letter")
        self.assertEqual((dead[0]["task_id"], dead[0]["attempts"]), (t["id"], 1))
        self.assertIn("delivered 2 times", dead[0]["error"])
        self.assertEqual(self.task(t["id"])["state"], "completed")
        status, body, _ = self.api.post(f"/api/v1/dead/{dead[0]['id']}/retry")
        self.assertEqual(status, 202, body)
        run = wait_for(lambda: self.run_of(t["id"], 2), timeout=15, what="the re-driven attempt")
        self.assertEqual((run["status"], run["kind"]), ("succeeded", "redrive"))
        self.assertEqual(self.lines(), [["1"], ["2"]])

    def test_a_malformed_entry_is_dead_lettered(self):
        self.start("executor")
        self.redis.cmd("XADD", "dts:{3}:ready", "*", "sched", "1", "attempt", "1")
        dead = wait_for(lambda: self.api.get("/api/v1/dead")[1]["items"], what="the dead letter")
        self.assertIn("malformed ready entry", dead[0]["error"])
        status, body, _ = self.api.post(f"/api/v1/dead/{dead[0]['id']}/retry")
        self.assertEqual((status, body["detail"]), (409, "this dead letter names no occurrence to re-drive"))
        wait_for(lambda: self.redis.cmd("XLEN", "dts:{3}:ready") == 0, what="the entry to go")
        self.assertEqual(self.redis.cmd("XPENDING", "dts:{3}:ready", "exec")[0], 0)


class SkippedOnceTest(ExecCase):
    """Item 14: a one-time task whose occurrence was skipped (forbid) is done."""

    def test_one_time_task_whose_occurrence_was_skipped_completes(self):
        self.start("scheduler")
        self.start("executor", "--concurrency", "4")
        at = int(time.time() * 1000) + 3000
        t = self.create({"name": "once", "overlap": "forbid", "schedule": {"at": fmt_time(at)},
                         "action": self.shell('echo $DTS_RUN_ID >> $L; sleep 5')})
        self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/trigger")[0], 202)
        wait_for(lambda: self.lines(), what="the manual run")
        skipped = wait_for(lambda: [r for r in self.runs(t["id"]) if r["status"] == "skipped"], timeout=10,
                           what="the scheduled occurrence to be skipped")
        self.assertEqual(parse_time(skipped[0]["scheduled_at"]), at)
        self.assertEqual(self.task(t["id"])["state"], "completed", "nothing is left to run, yet it stays active")
        self.assertEqual(len(self.lines()), 1)


class PauseTest(ExecCase):
    """Item 8: paused means nothing of the task starts, retries included."""

    def test_no_retry_starts_while_paused(self):
        self.start("scheduler")
        self.start("executor")
        t = self.create({"name": "failing", "action": self.shell('echo $DTS_ATTEMPT >> $L; exit 1'),
                         "retry": {"max_attempts": 3, "backoff": "fixed", "initial_s": 1, "jitter": False}})
        wait_for(self.logged("1"), what="attempt 1")
        status, body, _ = self.api.post(f"/api/v1/tasks/{t['id']}/pause")
        self.assertEqual(status, 200, body)
        shard = self.shard_of(t["id"])
        held = wait_for(lambda: self.redis.cmd("HGETALL", f"dts:{{{shard}}}:held:{t['id']}"), timeout=10,
                        what="attempt 2 to be held")
        self.assertTrue(held[0].startswith(f"retry:{t['id']}:"), held)
        time.sleep(3.5)  # the window under test: nothing may start while paused
        self.assertEqual(self.lines(), [["1"]])
        self.assertFalse([r for r in self.runs(t["id"]) if r["attempt"] > 1])
        status, body, _ = self.api.post(f"/api/v1/tasks/{t['id']}/resume")
        self.assertEqual(status, 200, body)
        wait_for(lambda: self.run_of(t["id"], 3), timeout=15, what="attempts 2 and 3 after resume")
        self.assertEqual(self.lines(), [["1"], ["2"], ["3"]])
        self.assertEqual(self.redis.cmd("EXISTS", f"dts:{{{shard}}}:held:{t['id']}"), 0)


    def test_an_entry_already_dispatched_is_held_at_start(self):
        self.start("scheduler")
        e1 = self.start("executor", name="e1")
        t = self.create({"name": "failing", "action": self.shell('echo $DTS_ATTEMPT >> $L; exit 1'),
                         "retry": {"max_attempts": 3, "backoff": "fixed", "initial_s": 1, "jitter": False}})
        wait_for(self.logged("1"), what="attempt 1")
        e1.stop(signal.SIGTERM)
        wait_for(lambda: [e for e in self.ready_entries() if e[2] == 2], timeout=10, what="the retry's entry")
        self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/pause")[0], 200)
        self.start("executor", name="e2")
        shard = self.shard_of(t["id"])
        held = wait_for(lambda: self.redis.cmd("HGETALL", f"dts:{{{shard}}}:held:{t['id']}"), timeout=10,
                        what="the entry to be held")
        self.assertTrue(held[0].startswith(f"retry:{t['id']}:") and held[0].endswith(":2:retry"), held)
        wait_for(lambda: self.ready_entries() == [], what="the entry to leave the stream")
        self.assertEqual(self.lines(), [["1"]])
        self.assertFalse([r for r in self.runs(t["id"]) if r["attempt"] > 1])


class LostRecordTest(ExecCase):
    """Item 10: a completion whose run record is gone still retries and completes."""

    def test_missing_run_record_still_retries_and_completes(self):
        self.start("scheduler")
        self.start("executor")
        t = self.create({"name": "lost", "action": self.shell('echo $DTS_ATTEMPT >> $L; sleep 1; exit 1'),
                         "retry": {"max_attempts": 2, "backoff": "fixed", "initial_s": 0.5, "jitter": False}})
        wait_for(self.logged("1"), what="attempt 1")
        shard = self.shard_of(t["id"])
        self.redis.cmd("DEL", f"dts:{{{shard}}}:runs:{t['id']}", f"dts:{{{shard}}}:runidx:{t['id']}")
        wait_for(self.logged("2"), timeout=15, what="the retry")
        wait_for(lambda: self.task(t["id"])["state"] == "completed", timeout=15, what="the task to complete")
        first = self.run_of(t["id"], 1)
        self.assertEqual((first["status"], first["attempt"], first["task_id"]), ("failed", 1, t["id"]))
        dead = wait_for(lambda: self.api.get("/api/v1/dead")[1]["items"], what="the dead letter")
        self.assertEqual(dead[0]["attempts"], 2)


class FencingTest(ExecCase):
    """Item 14: fencing compares the delivery count, and recovery is not slowed
    by a long pending list."""

    def test_result_of_an_entry_claimed_away_and_back_is_dropped(self):
        self.start("executor", "--recovery-timeout-ms", "1000")
        t = self.create({"name": "fenced", "action": self.shell(
            'echo start $DTS_ATTEMPT >> $L; sleep 3; echo end $DTS_ATTEMPT >> $L')})
        wait_for(self.logged("start", "1"), what="attempt 1")
        running = self.runs(t["id"])[0]
        shard = self.shard_of(t["id"])
        key = f"dts:{{{shard}}}:ready"
        [[entry, owner, _, _]] = self.redis.cmd("XPENDING", key, "exec", "-", "+", 10)
        self.assertEqual(owner, running["executor"])
        # Taken away and given back to the same consumer name: a new delivery.
        self.redis.cmd("XCLAIM", key, "exec", "thief", 0, entry)
        self.redis.cmd("XCLAIM", key, "exec", owner, 0, entry)
        wait_for(lambda: self.task(t["id"])["state"] == "completed", timeout=20, what="the task to complete")
        ok = [r for r in self.runs(t["id"]) if r["status"] == "succeeded"]
        self.assertEqual(len(ok), 1, self.runs(t["id"]))
        self.assertGreater(ok[0]["attempt"], 1, "the stale run's result was accepted")
        self.assertNotIn(["end", "1"], self.lines())
        self.assertEqual(self.run_of(t["id"], 1)["status"], "failed")

    def test_recovery_finds_an_idle_entry_behind_a_long_pending_list(self):
        t = self.create({"name": "later", "schedule": {"at": "2099-01-01T00:00:00Z"},
                         "action": self.shell("echo ran >> $L")})
        key = f"dts:{{{self.shard_of(t['id'])}}}:ready"
        self.redis.cmd("XGROUP", "CREATE", key, "exec", "0", "MKSTREAM")
        for _ in range(1000):
            self.redis.cmd("XADD", key, "*", "task", "ghost", "sched", "1", "attempt", "1")
        self.redis.cmd("XREADGROUP", "GROUP", "exec", "live", "COUNT", 1000, "STREAMS", key, ">")
        # The entry of a dead consumer, last in the pending list.
        self.redis.cmd("XADD", key, "*", "task", t["id"], "sched", "1", "attempt", "1", "kind", "manual")
        self.redis.cmd("XREADGROUP", "GROUP", "exec", "dead", "COUNT", 1, "STREAMS", key, ">")
        ghosts = [e[0] for e in self.redis.cmd("XPENDING", key, "exec", "-", "+", 1000) if e[1] == "live"]
        stop = threading.Event()

        def keep_live():  # the live consumer heartbeats its 1000 entries
            while not stop.is_set():
                self.redis.cmd("XCLAIM", key, "exec", "live", 0, *ghosts, "JUSTID")
                stop.wait(0.2)
        threading.Thread(target=keep_live, daemon=True).start()
        self.addCleanup(stop.set)
        time.sleep(1.2)  # the dead consumer's entry is now idle past the recovery timeout
        began = time.monotonic()
        self.start("executor", "--recovery-timeout-ms", "1000", "--concurrency", "1")
        wait_for(self.logged("ran"), timeout=20, what="the idle entry to be recovered")
        self.assertLess(time.monotonic() - began, 4, "recovery crawled through the pending list")


class SweeperTest(ExecCase):
    """Item 13: the sweeper bounds what Redis keeps."""

    SWEEP = ["--sweep-interval-ms", "300", "--executor-dead-ms", "2000"]

    def consumers(self):
        return sum(len(self.redis.cmd("XINFO", "CONSUMERS", f"dts:{{{s}}}:ready", "exec"))
                   for s in range(self.shards))

    def test_retention_history_age_and_dead_executors(self):
        self.start("scheduler", *self.SWEEP, "--completed-retention-s", "2", "--history-max-age-s", "3")
        e = self.start("executor", name="e1")
        once = self.create({"name": "once", "action": {"type": "noop"}})
        wait_for(lambda: self.task(once["id"])["state"] == "completed", what="the one-time task to complete")
        rec = self.create({"name": "every", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        wait_for(lambda: len(self.runs(rec["id"])) >= 2, timeout=10, what="two runs")
        self.api.post(f"/api/v1/tasks/{rec['id']}/pause")
        wait_for(lambda: self.api.get(f"/api/v1/tasks/{once['id']}")[0] == 404, timeout=10,
                 what="the completed task to be deleted")
        shard = self.shard_of(rec["id"])
        self.assertEqual(self.redis.cmd("EXISTS", f"dts:{{{self.shard_of(once['id'])}}}:runs:{once['id']}"), 0)
        wait_for(lambda: self.runs(rec["id"]) == [], timeout=10, what="the paused task's old runs to go")
        self.assertEqual(self.task(rec["id"])["state"], "paused")
        self.assertEqual(self.redis.cmd("ZCARD", f"dts:{{{shard}}}:runidx:{rec['id']}"), 0)
        self.assertGreater(self.consumers(), 0)  # a live executor's consumers stay
        e.stop(signal.SIGTERM)
        wait_for(lambda: self.consumers() == 0, timeout=15, what="the stopped executor's consumers to go")
        wait_for(lambda: self.redis.cmd("ZCARD", "dts:executors") == 0, timeout=15, what="its heartbeat to go")

    def test_pending_consumers_are_never_removed(self):
        self.start("scheduler", *self.SWEEP)
        key = "dts:{2}:ready"
        self.redis.cmd("XGROUP", "CREATE", key, "exec", "0", "MKSTREAM")
        self.redis.cmd("XADD", key, "*", "task", "ghost", "sched", "1", "attempt", "1")
        self.redis.cmd("XREADGROUP", "GROUP", "exec", "gone-with-work", "COUNT", 1, "STREAMS", key, ">")
        self.redis.cmd("XGROUP", "CREATECONSUMER", key, "exec", "gone-idle")
        wait_for(lambda: [c for c in self.redis.cmd("XINFO", "CONSUMERS", key, "exec")] and
                 all(c[1] != "gone-idle" for c in self.redis.cmd("XINFO", "CONSUMERS", key, "exec")),
                 timeout=15, what="the idle consumer to go")
        names = [c[1] for c in self.redis.cmd("XINFO", "CONSUMERS", key, "exec")]
        self.assertEqual(names, ["gone-with-work"])

    def test_restarting_executors_keep_redis_flat(self):
        self.start("scheduler", *self.SWEEP)
        self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        samples = []
        # 45 s here; tests/chaos/soak_keys.py is the 10-minute form.
        end = time.monotonic() + float(os.environ.get("DTS_RESTART_LOOP_S", "45"))
        while time.monotonic() < end:
            e = self.start("executor", "--grace-ms", "1000")
            time.sleep(3)
            e.stop(signal.SIGTERM)
            self.procs.remove(e)
            samples.append((self.consumers(), self.redis.cmd("ZCARD", "dts:executors")))
        early, late = samples[:len(samples) // 4], samples[len(samples) // 2:]
        self.assertGreater(len(samples), 10)
        self.assertLessEqual(max(c for c, _ in late), max(16 * 3, max(c for c, _ in early)), samples)
        self.assertLessEqual(max(x for _, x in late), 3, samples)


if __name__ == "__main__":
    unittest.main()
