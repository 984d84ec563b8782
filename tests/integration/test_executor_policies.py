"""Executor completeness: webhooks against a local HTTP server, retries with
backoff into dead letters, the shell allow-list and user, overlap and misfire
policies, and run limits. Real processes, real Redis."""
import http.server
import json
import os
import pwd
import threading
import time
import unittest

from dtstest import DtsCase, free_port, ledger_action, max_overlap, parse_time, read_ledger, wait_for


class Hooks(http.server.BaseHTTPRequestHandler):
    """A loopback webhook receiver that records every request."""
    seen = []

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        Hooks.seen.append({"path": self.path, "method": self.command, "body": body,
                           "key": self.headers.get("Idempotency-Key")})
        if self.path == "/slow":
            time.sleep(4)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = 500 if self.path == "/fail" else 200
        payload = b"boom" if status == 500 else b'{"ok":true}'
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except BrokenPipeError:
            pass  # the client gave up (the timeout test)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, *args):
        pass


class PolicyCase(DtsCase):
    def setUp(self):
        super().setUp()
        Hooks.seen = []
        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Hooks)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.start_api()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def finished_runs(self, task_id, n, timeout=15):
        return wait_for(lambda: (lambda r: r if len([x for x in r if x["status"] != "running"]) >= n else None)(
            self.runs(task_id)), timeout=timeout, what=f"{n} finished runs")

    def task(self, task_id):
        return self.api.get(f"/api/v1/tasks/{task_id}")[1]


class WebhookTest(PolicyCase):
    def setUp(self):
        super().setUp()
        self.start("scheduler")

    def test_success_sends_idempotency_key_and_records_the_response(self):
        self.start("executor", "--http-allow", "127.0.0.0/8")
        t = self.create({"name": "hook", "action": {"type": "http", "method": "POST", "url": self.url("/ok"),
                                                    "headers": {"X-Token": "t"}, "body": '{"hello":1}'}})
        [run] = self.finished_runs(t["id"], 1)
        self.assertEqual((run["status"], run["http_status"], run["output"]), ("succeeded", 200, '{"ok":true}'))
        [req] = Hooks.seen
        self.assertEqual((req["method"], req["body"], req["key"]), ("POST", '{"hello":1}', run["id"]))

    def test_500_is_retried_with_backoff_then_dead_then_redriven(self):
        self.start("executor", "--http-allow", "127.0.0.0/8")
        t = self.create({"name": "flaky", "action": {"type": "http", "url": self.url("/fail")},
                         "retry": {"max_attempts": 3, "backoff": "exponential", "initial_s": 0.5,
                                   "max_s": 5, "jitter": False}})
        runs = sorted(self.finished_runs(t["id"], 3), key=lambda r: r["attempt"])
        self.assertEqual([r["attempt"] for r in runs], [1, 2, 3])
        self.assertEqual({r["occurrence_id"] for r in runs}, {runs[0]["occurrence_id"]})
        self.assertTrue(all(r["status"] == "failed" and r["http_status"] == 500 for r in runs))
        gaps = [parse_time(b["started_at"]) - parse_time(a["finished_at"]) for a, b in zip(runs, runs[1:])]
        self.assertGreaterEqual(gaps[0], 500)   # initial_s
        self.assertGreaterEqual(gaps[1], 1000)  # doubled
        self.assertEqual([r["key"] for r in Hooks.seen], [r["id"] for r in runs])
        dead = wait_for(lambda: self.api.get("/api/v1/dead")[1]["items"], what="a dead letter")
        self.assertEqual((dead[0]["task_id"], dead[0]["occurrence_id"], dead[0]["attempts"]),
                         (t["id"], runs[0]["occurrence_id"], 3))
        self.assertIn("HTTP 500", dead[0]["error"])
        self.assertEqual(self.task(t["id"])["state"], "completed")
        status, _, _ = self.api.post(f"/api/v1/dead/{dead[0]['id']}/retry")
        self.assertEqual(status, 202)
        self.assertEqual(self.api.post(f"/api/v1/dead/{dead[0]['id']}/retry")[0], 404)
        fourth = wait_for(lambda: [r for r in self.runs(t["id"]) if r["attempt"] == 4 and r["status"] != "running"],
                          what="the re-driven attempt")
        self.assertEqual(fourth[0]["occurrence_id"], runs[0]["occurrence_id"])

    def test_slow_server_times_out(self):
        self.start("executor", "--http-allow", "127.0.0.0/8")
        t = self.create({"name": "slow", "timeout_s": 1, "action": {"type": "http", "url": self.url("/slow")}})
        [run] = self.finished_runs(t["id"], 1)
        self.assertEqual(run["status"], "timed_out")
        self.assertLess(parse_time(run["finished_at"]) - parse_time(run["started_at"]), 3000)

    def test_redirect_is_not_followed(self):
        self.start("executor", "--http-allow", "127.0.0.0/8")
        t = self.create({"name": "redirect", "action": {"type": "http", "method": "GET", "url": self.url("/redirect")}})
        [run] = self.finished_runs(t["id"], 1)
        self.assertEqual((run["status"], run["http_status"]), ("failed", 302))
        self.assertIn("redirects are not followed", run["error"])
        self.assertEqual([r["path"] for r in Hooks.seen], ["/redirect"])

    def test_private_address_is_refused_unless_allowed(self):
        self.start("executor")
        t = self.create({"name": "internal", "action": {"type": "http", "url": self.url("/ok")}})
        [run] = self.finished_runs(t["id"], 1)
        self.assertEqual(run["status"], "failed")
        self.assertIn("refused: the host's address is loopback", run["output"])
        self.assertNotIn("127.0.0.1", run["error"])
        self.assertEqual(Hooks.seen, [])
        for name in ("localhost", "[::1]"):  # a name, and IPv6, resolve to the same refusal
            t = self.create({"name": name, "action": {"type": "http", "url": f"http://{name}:{self.port}/ok"}})
            [run] = self.finished_runs(t["id"], 1)
            self.assertIn("refused", run["output"])
        self.assertEqual(Hooks.seen, [])


class ShellPolicyTest(PolicyCase):
    def setUp(self):
        super().setUp()
        self.start("scheduler")

    def test_allow_list_refuses_what_it_should(self):
        self.start("executor", "--shell-allow", "echo *,/usr/bin/true")
        ok = self.create({"name": "ok", "action": {"type": "shell", "command": ["echo", "fine"]}})
        ok2 = self.create({"name": "ok2", "action": {"type": "shell", "command": ["/usr/bin/true"]}})
        bad = self.create({"name": "bad", "action": {"type": "shell", "command": ["ls", "/"]}})
        sneaky = self.create({"name": "sneaky", "action": {"type": "shell", "command": ["/usr/bin/true", "extra"]}})
        self.assertEqual(self.finished_runs(ok["id"], 1)[0]["status"], "succeeded")
        self.assertEqual(self.finished_runs(ok2["id"], 1)[0]["status"], "succeeded")
        for t in (bad, sneaky):
            [run] = self.finished_runs(t["id"], 1)
            self.assertEqual(run["status"], "failed")
            self.assertIn("allow-list", run["output"])

    @unittest.skipUnless(os.geteuid() == 0, "needs root to change users")
    def test_root_executor_runs_actions_as_nobody_with_limits(self):
        self.start("executor", "--rlimit-nofile", "64")
        t = self.create({"name": "who", "action": {"type": "shell", "command": ["sh", "-c", "id -u; ulimit -n; pwd"]}})
        [run] = self.finished_runs(t["id"], 1)
        self.assertEqual(run["output"].split(), [str(pwd.getpwnam("nobody").pw_uid), "64", "/"])


class OverlapTest(PolicyCase):
    def intervals(self, runs):
        return sorted((parse_time(r["started_at"]), parse_time(r["finished_at"]) if r["finished_at"] else 1 << 62)
                      for r in runs if r["status"] not in ("skipped",))

    def test_forbid_never_runs_two_at_once_across_executors(self):
        self.start("scheduler")
        self.start("executor", "--concurrency", "4")
        self.start("executor", "--concurrency", "4")
        t = self.create({"name": "slow", "overlap": "forbid", "schedule": {"cron": "* * * * * *"},
                         "action": {"type": "shell", "command": ["sleep", "2.5"]}})
        wait_for(lambda: self.task(t["id"])["runs"]["succeeded"] >= 2, timeout=20, what="two slow runs")
        self.api.post(f"/api/v1/tasks/{t['id']}/pause")
        wait_for(lambda: all(r["status"] != "running" for r in self.runs(t["id"])), timeout=10, what="quiet")
        runs = self.runs(t["id"])
        spans = self.intervals(runs)
        for (s1, e1), (s2, _) in zip(spans, spans[1:]):
            self.assertGreaterEqual(s2, e1, "two runs of a forbid task overlapped")
        skipped = [r for r in runs if r["status"] == "skipped"]
        self.assertGreater(len(skipped), 0)
        self.assertEqual(self.task(t["id"])["runs"]["overlap_skipped"], len(skipped))

    def test_a_forbid_backlog_on_one_slot_runs_each_occurrence_in_turn(self):
        """An executor frees a slot once its action is over, before the
        result is recorded, except for a task whose next run waits on that
        record: under forbid the next start would find the marker still set
        and skip. 30 triggers queued for one slot must all run."""
        t = self.create({"name": "queue", "overlap": "forbid", "schedule": {"cron": "0 0 1 1 *"},
                         "action": {"type": "noop"}})
        for _ in range(30):
            self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/trigger")[0], 202)
        self.start("executor", "--concurrency", "1")
        done = wait_for(lambda: (lambda r: r if len(r) == 30 and all(x["status"] != "running" for x in r)
                                 else None)(self.runs(t["id"])), timeout=20, what="30 runs")
        self.assertEqual(sorted({r["status"] for r in done}), ["succeeded"], [r["status"] for r in done])
        self.assertEqual(self.task(t["id"])["runs"]["overlap_skipped"], 0)

    def test_killed_executor_does_not_leave_a_forbid_task_stuck(self):
        self.start("scheduler")
        e1 = self.start("executor", "--recovery-timeout-ms", "2000", name="e1")
        e2 = self.start("executor", "--recovery-timeout-ms", "2000", name="e2")
        t = self.create({"name": "stuck?", "overlap": "forbid", "schedule": {"cron": "* * * * * *"},
                         "action": {"type": "shell", "command": ["sleep", "1.5"]}})
        running = wait_for(lambda: [r for r in self.runs(t["id"]) if r["status"] == "running"], what="a run")
        victim = e1 if str(e1.pid) in running[0]["executor"] else e2
        victim.kill9()
        killed = int(time.time() * 1000)
        wait_for(lambda: any(r["status"] == "succeeded" and parse_time(r["started_at"]) > killed + 2500
                             for r in self.runs(t["id"])), timeout=15, what="runs to resume after the kill")


class SlotsTest(PolicyCase):
    def test_an_executor_runs_at_most_its_concurrency_of_actions_at_once(self):
        """The README's "They run up to --concurrency actions", with slots
        freed once an action is over (its result still waiting to be
        recorded): the bound holds and is reached. The ledger's intervals lie
        inside the actions' lives, so it never shows more than ran."""
        ledger = self.ledger_file()
        t = self.create({"name": "many", "schedule": {"cron": "0 0 1 1 *"}, "action": ledger_action(ledger, 0.2)})
        for _ in range(24):
            self.assertEqual(self.api.post(f"/api/v1/tasks/{t['id']}/trigger")[0], 202)
        self.start("executor", "--concurrency", "3")
        wait_for(lambda: len(read_ledger(ledger)[1]) == 24, timeout=30, what="24 actions to end")
        starts, ends = read_ledger(ledger)
        self.assertEqual(len({s["run"] for s in starts}), 24)
        self.assertEqual(max_overlap(starts, ends, until=0), 3)


class MisfireTest(PolicyCase):
    OUTAGE_S = 30

    def test_each_policy_after_a_scheduler_outage(self):
        sched = self.start("scheduler")
        self.start("executor", "--concurrency", "8")
        tasks = {p: self.create({"name": p, "misfire": p, "misfire_threshold_s": 2,
                                 "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
                 for p in ("run_once", "skip", "run_all")}
        for t in tasks.values():
            wait_for(lambda: self.task(t["id"])["runs"]["succeeded"] >= 1, what="a first run")
        sched.kill9()
        down = int(time.time() * 1000)
        time.sleep(self.OUTAGE_S)  # the outage itself: nothing may run
        self.start("scheduler")
        up = int(time.time() * 1000)
        for t in tasks.values():
            wait_for(lambda: any(parse_time(r["scheduled_at"]) > up + 1000 for r in self.runs(t["id"])),
                     timeout=15, what="the schedule to resume")
        # Occurrences due during the outage, more than the threshold before the restart.
        inside = lambda t: [r for r in self.runs(t["id"])  # noqa: E731
                            if down < parse_time(r["scheduled_at"]) < up - 3000]
        missed = (up - 3000 - down) // 1000
        self.assertEqual(len(inside(tasks["run_once"])), 1, "run_once runs exactly one overdue occurrence")
        self.assertEqual(inside(tasks["skip"]), [], "skip runs none")
        self.assertGreaterEqual(len(inside(tasks["run_all"])), missed - 1, "run_all runs each")
        self.assertGreaterEqual(self.task(tasks["run_once"]["id"])["runs"]["misfires_coalesced"], missed - 1)
        self.assertGreaterEqual(self.task(tasks["skip"]["id"])["runs"]["misfires_skipped"], missed)
        self.assertEqual(self.task(tasks["run_all"]["id"])["runs"]["misfires_skipped"], 0)


class LimitsTest(PolicyCase):
    def test_max_runs_and_end_at_complete_a_recurring_task(self):
        self.start("scheduler")
        self.start("executor")
        t = self.create({"name": "thrice", "max_runs": 3, "schedule": {"cron": "* * * * * *"},
                         "action": {"type": "noop"}})
        wait_for(lambda: self.task(t["id"])["state"] == "completed", timeout=10, what="completion")
        self.assertEqual(len(self.runs(t["id"])), 3)
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2.5))
        t = self.create({"name": "until", "end_at": end, "schedule": {"cron": "* * * * * *"},
                         "action": {"type": "noop"}})
        wait_for(lambda: self.task(t["id"])["state"] == "completed", timeout=10, what="completion at end_at")
        self.assertTrue(all(r["scheduled_at"] <= end.replace("Z", ".000Z") for r in self.runs(t["id"])))

    def test_policy_validation(self):
        for body, field in [({"retry": {"max_attempts": 0}}, "retry.max_attempts"),
                            ({"retry": {"backoff": "linear"}}, "retry.backoff"),
                            ({"overlap": "sometimes"}, "overlap"), ({"misfire": "later"}, "misfire"),
                            ({"max_runs": 2}, "max_runs"),
                            ({"action": {"type": "http", "url": "ftp://x"}}, "action.url"),
                            ({"action": {"type": "http", "url": "http://x", "headers": {"Host": "y"}}}, "action.headers.Host")]:
            spec = dict({"name": "x", "action": {"type": "noop"}}, **body)
            status, problem, _ = self.api.post("/api/v1/tasks", spec)
            self.assertEqual((status, problem.get("field")), (400, field), problem)


if __name__ == "__main__":
    unittest.main()
