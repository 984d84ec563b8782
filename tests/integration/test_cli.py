"""The operator's command line (`dts task|dead|events`) end to end: the real
binary against a real api, scheduler and executor on a private Redis; tables
for people, -o json for scripts, and the documented exit codes."""
import json
import os
import re
import subprocess
import time
import unittest
import urllib.request

from dtstest import DTS, DtsCase, Http, api_up, free_port, wait_for

OK, USAGE, API, NOT_FOUND, AUTH, SERVER = 0, 1, 2, 3, 4, 5


class CliCase(DtsCase):
    def dts(self, *args, env=None, expect=OK, stdin=None):
        """Runs `dts ARGS` against this test's api; asserts the exit code."""
        e = dict(os.environ, DTS_API=self.api.base, TZ="Europe/Berlin")
        e.pop("DTS_TOKEN", None)
        e.update(env or {})
        p = subprocess.run([DTS] + list(args), capture_output=True, text=True, env=e, input=stdin, timeout=60)
        self.assertEqual(p.returncode, expect, f"dts {' '.join(args)}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def json_of(self, *args):
        """The -o json output of dts ARGS (the flag goes before any "--" and its argv)."""
        args = list(args)
        at = args.index("--") if "--" in args else len(args)
        return json.loads(self.dts(*args[:at], "-o", "json", *args[at:]).stdout)


class CliTest(CliCase):
    def setUp(self):
        super().setUp()
        self.start_api()
        self.start("scheduler")
        self.start("executor", "--concurrency", "4")

    def test_create_from_flags_then_list_get_runs_pause_resume_trigger_delete(self):
        out = self.dts("task", "create", "nightly", "--cron", "0 3 * * *", "--tz", "Europe/Berlin",
                       "--label", "team=data", "--timeout", "10m", "--", "/usr/local/bin/report", "--daily").stdout
        self.assertRegex(out, r"^task nightly \([0-9a-f]{24}\) created$")
        task = self.json_of("task", "get", "nightly")
        self.assertEqual(task["schedule"], {"cron": "0 3 * * *", "timezone": "Europe/Berlin"})
        self.assertEqual(task["action"], {"type": "shell", "command": ["/usr/local/bin/report", "--daily"]})
        self.assertEqual((task["labels"], task["timeout_s"]), ({"team": "data"}, 600))
        # A person's table: the name, the state, the schedule, the next run in local time and relative.
        table = self.dts("task", "list").stdout.splitlines()
        self.assertEqual(table[0].split(), ["NAME", "ID", "STATE", "SCHEDULE", "NEXT", "RUN", "LAST"])
        row = [r for r in table if r.startswith("nightly ")][0]
        self.assertIn(task["id"], row)
        self.assertIn("0 3 * * * (Europe/Berlin)", row)
        self.assertRegex(row, r"\d{4}-\d\d-\d\d 03:00:00 CET \(in \d+[hm]\)")  # "in 50m" within the hour before
        page = self.dts("task", "get", "nightly").stdout
        self.assertRegex(page, r"Action:\s+shell: /usr/local/bin/report --daily")
        self.assertEqual(self.json_of("task", "pause", "nightly")["state"], "paused")
        self.assertIsNone(self.json_of("task", "get", task["id"])["next_run_at"])
        self.assertEqual(self.dts("task", "resume", "nightly").stdout.strip(), f"task nightly ({task['id']}) resumed")
        self.assertIsNotNone(self.json_of("task", "get", "nightly")["next_run_at"])

        self.dts("task", "create", "hello", "--every", "1s", "--", "echo", "hi")
        runs = wait_for(lambda: self.json_of("task", "runs", "hello"), timeout=15, what="a run of hello")
        self.assertEqual(runs[0]["task_id"], self.json_of("task", "get", "hello")["id"])
        wait_for(lambda: "succeeded" in self.dts("task", "runs", "hello").stdout, timeout=15, what="a success")
        self.assertRegex(self.dts("task", "runs", "hello").stdout, r"succeeded\s+\d+ms\s+0\s+hi")
        trig = self.json_of("task", "trigger", "nightly")
        self.assertTrue(trig["occurrence_id"].startswith(task["id"] + ":"))
        wait_for(lambda: any(r["kind"] == "manual" or r.get("occurrence_id") == trig["occurrence_id"]
                             for r in self.json_of("task", "runs", "nightly")), timeout=15, what="the manual run")
        self.assertIn("deleted", self.dts("task", "delete", "nightly").stdout)
        self.dts("task", "get", "nightly", expect=NOT_FOUND)
        self.dts("task", "get", task["id"], expect=NOT_FOUND)

    def test_the_readme_commands(self):
        """README's "Using the API" with dts task, as a new user would type it."""
        self.dts("task", "create", "hello", "--cron", "*/5 * * * * *", "--", "echo", "hi")
        r = self.json_of("task", "create", "report", "--at", "2026-12-01T09:00:00Z", "--label", "team=data",
                         "--timeout", "10m", "--env", "MODE=full", "--cwd", "/tmp", "--", "/usr/local/bin/report",
                         "--daily")
        self.assertEqual(r["action"], {"type": "shell", "command": ["/usr/local/bin/report", "--daily"],
                                       "env": {"MODE": "full"}, "cwd": "/tmp"})
        self.assertEqual((r["schedule"], r["labels"], r["timeout_s"]),
                         ({"at": "2026-12-01T09:00:00.000Z"}, {"team": "data"}, 600))
        self.assertIsNone(self.json_of("task", "create", "now", "--", "date")["schedule"])
        self.assertEqual({t["name"] for t in self.json_of("task", "list")}, {"hello", "report", "now"})
        self.dts("task", "pause", "hello")
        self.assertEqual([t["name"] for t in self.json_of("task", "list", "--state", "paused", "--name-prefix", "hel")],
                         ["hello"])
        self.assertEqual([t["name"] for t in self.json_of("task", "list", "--label", "team=data")], ["report"])
        e = self.json_of("task", "edit", "hello", "--cron", "0 9 * * MON-FRI", "--tz", "Europe/Berlin")
        self.assertEqual(e["schedule"], {"cron": "0 9 * * MON-FRI", "timezone": "Europe/Berlin"})
        wait_for(lambda: self.json_of("task", "runs", "now"), timeout=15, what="the run of now")
        self.dts("task", "delete", "report")

    def test_create_from_json_and_yaml_files_and_edit(self):
        path = os.path.join(self.tmp, "report.json")
        with open(path, "w") as f:
            json.dump({"name": "report", "labels": {"team": "data"}, "schedule": {"at": "2030-01-01T09:00:00Z"},
                       "action": {"type": "shell", "command": ["date"], "env": {"MODE": "full"}}}, f)
        t = self.json_of("task", "create", "-f", path)
        self.assertEqual((t["name"], t["next_run_at"]), ("report", "2030-01-01T09:00:00.000Z"))
        self.assertEqual(t["action"]["env"], {"MODE": "full"})
        yaml_path = os.path.join(self.tmp, "sync.yaml")
        with open(yaml_path, "w") as f:
            f.write("# a webhook every ten minutes\nname: billing-sync\nschedule:\n  cron: '*/10 * * * *'\n"
                    "  timezone: Europe/Berlin\naction:\n  type: http\n  method: POST\n"
                    "  url: https://billing.example/sync\n  headers:\n    X-Team: billing\n"
                    "retry: {max_attempts: 5, backoff: exponential, initial_s: 2, jitter: true}\n"
                    "timeout_s: 60\n")
        t = self.json_of("task", "create", "-f", yaml_path)
        self.assertEqual(t["schedule"], {"cron": "*/10 * * * *", "timezone": "Europe/Berlin"})
        self.assertEqual(t["action"]["headers"], {"X-Team": "billing"})
        self.assertEqual((t["retry"]["max_attempts"], t["retry"]["jitter"], t["timeout_s"]), (5, True, 60))
        # From stdin, too; and a bad file is a one-line usage error naming the line.
        t2 = json.loads(self.dts("task", "create", "-f", "-", "-o", "json",
                                 stdin="name: piped\naction: {type: noop}\nschedule: {cron: '@daily'}\n").stdout)
        self.assertEqual(t2["action"], {"type": "noop"})
        with open(yaml_path, "w") as f:
            f.write("name: [unclosed\n")
        err = self.dts("task", "create", "-f", yaml_path, expect=USAGE).stderr
        self.assertRegex(err, r"^dts task create: .*sync.yaml: line \d+: .+\n$")
        # edit: flags over the current spec, with the read version as If-Match.
        e = self.json_of("task", "edit", "billing-sync", "--cron", "0 * * * *", "--tz", "UTC", "--label", "tier=1")
        self.assertEqual((e["schedule"], e["labels"], e["version"]), ({"cron": "0 * * * *", "timezone": "UTC"},
                                                                      {"tier": "1"}, 2))
        self.assertEqual(e["action"]["url"], "https://billing.example/sync")
        e = self.json_of("task", "edit", "billing-sync", "--label", "tier-", "--name", "billing")
        self.assertEqual((e["name"], e["labels"]), ("billing", {}))

    def test_errors_name_the_field_and_exit_codes_are_stable(self):
        p = self.dts("task", "create", "x", "--", expect=API)
        self.assertEqual(p.stderr, "dts task create: action: is required\n")
        p = self.dts("task", "create", "x", "--cron", "61 * * * *", "--", "true", expect=API)
        self.assertRegex(p.stderr, r"^dts task create: schedule\.cron: .+\n$")
        p = self.dts("task", "create", "x", "--http", "ftp://x", expect=API)
        self.assertEqual(p.stderr, "dts task create: action.url: must be an http:// or https:// URL\n")
        self.assertEqual(self.json_of("task", "list"), [])  # nothing half-stored
        self.dts("task", "get", "0123456789abcdef01234567", expect=NOT_FOUND)
        self.assertEqual(self.dts("task", "get", "nope", expect=NOT_FOUND).stderr,
                         'dts task get: no task named "nope"\n')
        self.dts("task", "frobnicate", expect=USAGE)
        self.dts("task", "create", "x", "--bogus", expect=USAGE)
        self.dts("task", "create", "x", "--cron", "* * * * *", "--at", "2030-01-01T00:00:00Z", expect=USAGE)
        self.dts("task", "list", "-o", "yaml", expect=USAGE)
        self.dts("dead", "retry", "0-1-1", expect=NOT_FOUND)
        # Two tasks of one name: ambiguous, and the message lists both ids.
        a = self.json_of("task", "create", "twin", "--noop", "--cron", "@daily")
        b = self.json_of("task", "create", "twin", "--noop", "--cron", "@daily")
        err = self.dts("task", "pause", "twin", expect=USAGE).stderr
        self.assertIn(a["id"], err)
        self.assertIn(b["id"], err)
        # An API that does not answer: exit 5.
        self.dts("task", "list", "--api", f"http://127.0.0.1:{free_port()}", expect=SERVER)

    def test_backfill_queues_past_occurrences_once(self):
        self.dts("task", "create", "old", "--cron", "@hourly", "--noop")
        self.dts("task", "backfill", "old", "--from", "2030-01-01T00:00:00Z", expect=USAGE)
        p = self.dts("task", "backfill", "old", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T05:00:00Z")
        self.assertIn("5 queued, 0 already", p.stdout)
        again = self.json_of("task", "backfill", "old", "--from", "2026-01-01T03:00:00Z", "--to",
                             "2026-01-01T06:00:00Z")
        self.assertEqual((again["queued"], again["already"], again["occurrences"]), (1, 2, 3))
        p = self.dts("task", "backfill", "old", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z",
                     expect=API)
        self.assertIn("to", p.stderr)

    def test_backfill_reports_a_server_without_it(self):
        """An older server (a loopback stand-in answering 404 to everything):
        a full task id needs no lookup, so the backfill request itself is refused."""
        import http.server
        import threading

        class Old(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass
        srv = http.server.HTTPServer(("127.0.0.1", 0), Old)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        p = self.dts("task", "backfill", "0123456789abcdef01234567", "--from", "2026-01-01T00:00:00Z", "--to",
                     "2026-01-01T05:00:00Z", "--api", f"http://127.0.0.1:{srv.server_port}", expect=API)
        self.assertIn("not supported by this server", p.stderr)

    def test_list_follows_cursors_across_pages(self):
        for i in range(7):
            self.dts("task", "create", f"t{i}", "--cron", "@daily", "--noop", "--label", f"even={i % 2 == 0}")
        self.assertEqual(len(self.json_of("task", "list", "--all")), 7)
        self.assertEqual(len(self.json_of("task", "list", "--limit", "3")), 3)
        # Label filters and sort run on the server, so they hold across pages.
        even = self.json_of("task", "list", "--label", "even=True", "--sort", "created", "--all")
        self.assertEqual([t["name"] for t in even], ["t0", "t2", "t4", "t6"])
        self.assertEqual(self.json_of("task", "list", "--label", "even=False", "--label", "even=True"), [])
        self.assertEqual([t["name"] for t in self.json_of("task", "list", "--sort", "-created", "--limit", "2")],
                         ["t6", "t5"])
        self.assertEqual([t["name"] for t in self.json_of("task", "list", "--sort", "name", "--limit", "3")],
                         ["t0", "t1", "t2"])
        p = self.dts("task", "list", "--sort", "size", expect=API)
        self.assertRegex(p.stderr, r"^dts task list: sort: must be -created")

    def test_events_and_dead_letters_name_the_task(self):
        self.dts("task", "create", "-f", "-", stdin="name: doomed\naction: {type: shell, command: ['false']}\n"
                 "retry: {max_attempts: 2, backoff: fixed, initial_s: 0.2}\n")
        wait_for(lambda: self.json_of("dead", "list"), timeout=20, what="a dead letter")
        dead = self.json_of("dead", "list")[0]
        self.assertEqual(dead["task_name"], "doomed")
        self.assertRegex(self.dts("dead", "list").stdout, r"\n\S+\s+doomed\s+2\s+.*exit code 1")
        events = [json.loads(l) for l in self.dts("events", "-o", "json").stdout.splitlines()]
        self.assertTrue(events and all(e.get("task_name") == "doomed" for e in events), events)
        self.assertRegex(self.dts("events").stdout, r"run\.finished\s+doomed\s+failed")
        # --since: only what came after.
        self.assertEqual(self.dts("events", "--since", events[-1]["id"]).stdout, "")
        self.assertEqual(self.json_of("dead", "retry", dead["id"])["id"], dead["id"])

    def test_events_follow_prints_new_events_as_they_happen(self):
        e = dict(os.environ, DTS_API=self.api.base)
        out_path = os.path.join(self.tmp, "follow.out")
        with open(out_path, "w") as out:
            follow = subprocess.Popen([DTS, "events", "--follow"], stdout=out, env=e)
        self.addCleanup(lambda: (follow.kill(), follow.wait()))

        def printed():
            with open(out_path) as f:
                return f.read()
        wait_for(lambda: self._streams_open(), timeout=10, what="the follower's stream")
        started = time.monotonic()
        self.dts("task", "create", "later", "--noop")
        wait_for(lambda: re.search(r"task\.created\s+later", printed()), timeout=10,
                 what="the follower to print the new task")
        self.assertLess(time.monotonic() - started, 1.0)
        wait_for(lambda: re.search(r"run\.finished\s+later\s+succeeded", printed()), timeout=10,
                 what="the follower to print its run")
        # The api restarts: the follower reconnects and goes on from where it was.
        port = self.api.base.rsplit(":", 1)[1]
        self.procs[0].stop()
        self.start("api", "--listen", f"127.0.0.1:{port}")
        wait_for(lambda: api_up(self.api), what="the api again")
        self.dts("task", "create", "after-restart", "--noop")
        wait_for(lambda: re.search(r"task\.created\s+after-restart", printed()), timeout=20,
                 what="the follower to resume after the restart")
        self.assertEqual(len(re.findall(r"task\.created\s+later\n", printed())), 1, printed())
        self.assertIsNone(follow.poll())

    def _streams_open(self):
        """True once the api has a stream client (a second one past the bound would say so)."""
        text = urllib.request.urlopen(self.api.base + "/metrics").read().decode()
        return "events.stream" in text


class CliTokenTest(CliCase):
    def setUp(self):
        super().setUp()
        tokens = {}
        lines = []
        for name, scopes in [("reader", "read"), ("writer", "read,write,shell")]:
            out = subprocess.run([DTS, "token", "create", name, "--scopes", scopes],
                                 capture_output=True, text=True, check=True).stdout
            tokens[name] = re.search(r"^token: (dts_[0-9a-f]{64})$", out, re.M).group(1)
            lines.append([l for l in out.splitlines() if l.startswith(name + " ")][0])
        path = os.path.join(self.tmp, "tokens")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.tokens = tokens
        port = free_port()
        self.start("api", "--listen", f"127.0.0.1:{port}", "--tokens", path)
        self.api = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(self.api, "/healthz"), what="api")

    def test_401_and_403_exit_4_and_the_token_comes_from_DTS_TOKEN(self):
        err = self.dts("task", "list", expect=AUTH).stderr
        self.assertIn("Authorization: Bearer", err)
        self.dts("task", "list", env={"DTS_TOKEN": "dts_" + "0" * 64}, expect=AUTH)
        self.dts("task", "create", "x", "--noop", env={"DTS_TOKEN": self.tokens["reader"]}, expect=AUTH)
        self.dts("task", "create", "x", "--noop", env={"DTS_TOKEN": self.tokens["writer"]})
        rows = json.loads(self.dts("task", "list", "-o", "json", env={"DTS_TOKEN": self.tokens["reader"]}).stdout)
        self.assertEqual([t["name"] for t in rows], ["x"])


if __name__ == "__main__":
    unittest.main()
