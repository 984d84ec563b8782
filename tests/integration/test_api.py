"""The REST API against a real api process and a private redis-server: task
life cycle, validation, versions, pagination, and what bad input gets."""
import json
import unittest

from dtstest import DtsCase, wait_for

SHELL = {"type": "shell", "command": ["true"]}


class ApiTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()

    def key_count(self):
        return len(self.redis.cmd("KEYS", "dts:*"))

    def test_create_get_and_location(self):
        status, task, headers = self.api.post("/api/v1/tasks", {
            "name": "nightly", "labels": {"team": "infra"},
            "schedule": {"cron": "0 3 * * *"}, "action": {"type": "shell", "command": ["echo", "hi"],
                                                          "env": {"GREETING": "hi"}, "cwd": "/tmp"}})
        self.assertEqual(status, 201, task)
        self.assertEqual(headers["Location"], f"/api/v1/tasks/{task['id']}")
        self.assertEqual(task["state"], "active")
        self.assertEqual(task["version"], 1)
        self.assertEqual(task["timeout_s"], 3600)
        self.assertEqual(task["schedule"], {"cron": "0 3 * * *", "timezone": "UTC"})
        self.assertTrue(task["next_run_at"].endswith("T03:00:00.000Z"), task["next_run_at"])
        status, again, headers = self.api.get(f"/api/v1/tasks/{task['id']}")
        self.assertEqual(status, 200)
        self.assertEqual(headers["ETag"], '"1"')
        self.assertEqual(again, task)

    def test_at_in_the_past_means_now_and_at_is_canonical(self):
        task = self.create({"name": "late", "schedule": {"at": "2020-01-01T00:00:00+02:00"},
                            "action": SHELL})
        self.assertEqual(task["schedule"]["at"], "2019-12-31T22:00:00.000Z")
        self.assertGreater(task["next_run_at"], "2026-")

    def test_put_replaces_and_stale_version_is_412(self):
        task = self.create({"name": "a", "schedule": {"cron": "* * * * *"}, "action": SHELL})
        path = f"/api/v1/tasks/{task['id']}"
        spec = {"name": "b", "schedule": {"cron": "*/5 * * * *"}, "action": SHELL}
        status, body, _ = self.api.request("PUT", path, spec, headers={"If-Match": '"1"'})
        self.assertEqual(status, 200, body)
        self.assertEqual((body["name"], body["version"]), ("b", 2))
        status, body, _ = self.api.request("PUT", path, spec, headers={"If-Match": '"1"'})
        self.assertEqual(status, 412, body)
        self.assertEqual(self.api.get(path)[1]["name"], "b")
        # A GET body can be sent back whole: read-only fields are ignored.
        current = self.api.get(path)[1]
        current["name"] = "c"
        status, body, _ = self.api.request("PUT", path, current, headers={"If-Match": '"2"'})
        self.assertEqual((status, body["name"], body["version"]), (200, "c", 3))
        self.assertEqual(self.api.request("PUT", "/api/v1/tasks/nope", spec)[0], 404)

    def test_pause_resume_delete(self):
        task = self.create({"name": "p", "schedule": {"cron": "* * * * *"}, "action": SHELL})
        path = f"/api/v1/tasks/{task['id']}"
        status, body, _ = self.api.post(path + "/pause")
        self.assertEqual((status, body["state"], body["next_run_at"]), (200, "paused", None))
        self.assertIsNone(self.redis.cmd("ZSCORE", f"dts:{{{self.shard_of(task['id'])}}}:due", task["id"]))
        status, body, _ = self.api.post(path + "/resume")
        self.assertEqual((status, body["state"]), (200, "active"))
        self.assertIsNotNone(body["next_run_at"])
        self.assertEqual(self.api.request("DELETE", path)[0], 204)
        self.assertEqual(self.api.get(path)[0], 404)
        self.assertEqual(self.api.request("DELETE", path)[0], 404)
        self.assertEqual(self.key_count_for(task["id"]), 0)

    def shard_of(self, task_id):
        h = 2166136261
        for c in task_id.encode():
            h = ((h ^ c) * 16777619) & 0xFFFFFFFF
        return h % self.shards

    def key_count_for(self, task_id):
        return len(self.redis.cmd("KEYS", f"*{task_id}*")) + sum(
            1 for s in range(self.shards)
            for k in ("tasks", "due") if self.redis.cmd("ZSCORE", f"dts:{{{s}}}:{k}", task_id) is not None)

    def test_trigger_adds_an_occurrence(self):
        task = self.create({"name": "t", "schedule": {"cron": "0 0 1 1 *"}, "action": SHELL})
        status, body, _ = self.api.post(f"/api/v1/tasks/{task['id']}/trigger")
        self.assertEqual(status, 202, body)
        self.assertTrue(body["occurrence_id"].startswith(task["id"] + ":"))
        self.assertEqual([e[0] for e in self.ready_entries()], [task["id"]])

    def test_list_paginates_and_filters(self):
        ids = [self.create({"name": f"job-{i:02d}", "schedule": {"cron": "* * * * *"},
                            "action": SHELL})["id"] for i in range(25)]
        other = self.create({"name": "other", "schedule": {"cron": "* * * * *"}, "action": SHELL})["id"]
        self.api.post(f"/api/v1/tasks/{ids[3]}/pause")
        seen, cursor = [], None
        while True:
            q = "/api/v1/tasks?limit=7" + (f"&cursor={cursor}" if cursor else "")
            status, page, _ = self.api.get(q)
            self.assertEqual(status, 200, page)
            self.assertLessEqual(len(page["items"]), 7)
            seen += [t["id"] for t in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        self.assertEqual(seen, sorted(ids + [other], reverse=True))  # newest first, all states
        names = [t["name"] for t in self.api.get("/api/v1/tasks?name_prefix=job-&limit=100")[1]["items"]]
        self.assertEqual(len(names), 25)
        paused = self.api.get("/api/v1/tasks?state=paused")[1]["items"]
        self.assertEqual([t["id"] for t in paused], [ids[3]])
        self.assertEqual(self.api.get("/api/v1/tasks?state=bogus")[0], 400)
        self.assertEqual(self.api.get("/api/v1/tasks?limit=0")[0], 400)

    def test_malformed_bodies_are_400_and_store_nothing(self):
        before = self.key_count()
        bodies = [
            b"", b"{", b"[]", b"null", b'"task"',
            json.dumps({"action": SHELL}),
            json.dumps({"name": "", "action": SHELL}),
            json.dumps({"name": "x" * 201, "action": SHELL}),
            json.dumps({"name": "x"}),
            json.dumps({"name": "x", "action": {"type": "shell", "command": []}}),
            json.dumps({"name": "x", "action": {"type": "shell", "command": "echo hi"}}),
            json.dumps({"name": "x", "action": {"type": "shell", "command": ["echo", 1]}}),
            json.dumps({"name": "x", "action": {"type": "rocket"}}),
            json.dumps({"name": "x", "action": SHELL, "schedule": {"cron": "61 * * * *"}}),
            json.dumps({"name": "x", "action": SHELL, "schedule": {"cron": "* * *"}}),
            json.dumps({"name": "x", "action": SHELL, "schedule": {"at": "tomorrow"}}),
            json.dumps({"name": "x", "action": SHELL, "schedule": {"at": "2026-01-01T00:00:00Z", "cron": "* * * * *"}}),
            json.dumps({"name": "x", "action": SHELL, "schedule": {"cron": "* * * * *", "timezone": "Mars/Olympus"}}),
            json.dumps({"name": "x", "action": SHELL, "timeout_s": 0}),
            json.dumps({"name": "x", "action": SHELL, "colour": "blue"}),
            json.dumps({"name": "x", "action": {"type": "shell", "command": ["ls"], "cwd": "relative"}}),
            json.dumps({"name": "x", "action": {"type": "shell", "command": ["ls"], "env": {"1BAD": "v"}}}),
            json.dumps({"name": "x", "labels": {"a": 1}, "action": SHELL}),
            b'{"name":"x","name":"y","action":{"type":"noop"}}',
        ]
        self.assertGreaterEqual(len(bodies), 20)
        for raw in bodies:
            raw = raw if isinstance(raw, bytes) else raw.encode()
            status, body, headers = self.api.request("POST", "/api/v1/tasks", raw=raw)
            self.assertEqual(status, 400, (raw, body))
            self.assertEqual(headers["Content-Type"], "application/problem+json")
            self.assertEqual(body["status"], 400)
            self.assertTrue(body["detail"], raw)
            self.assertIn("field", body, raw)
        self.assertEqual(self.key_count(), before)

    def test_problem_names_the_field(self):
        status, body, _ = self.api.post("/api/v1/tasks", {"name": "x", "action": {
            "type": "shell", "command": ["echo", 2]}})
        self.assertEqual((status, body["field"]), (400, "action.command[1]"))
        status, body, _ = self.api.post("/api/v1/tasks", {"name": "x", "action": SHELL,
                                                          "schedule": {"cron": "* * * * * * * *"}})
        self.assertEqual((status, body["field"]), (400, "schedule.cron"))

    def test_cron_preview_in_utc_and_local_time_across_dst(self):
        status, body, _ = self.api.post("/api/v1/cron/preview", {
            "cron": "30 2 * * *", "timezone": "Europe/Berlin", "count": 3, "from": "2026-03-27T00:00:00Z"})
        self.assertEqual(status, 200, body)
        self.assertEqual([(i["utc"], i["local"]) for i in body["items"]], [
            ("2026-03-27T01:30:00.000Z", "2026-03-27T02:30:00+01:00"),
            ("2026-03-28T01:30:00.000Z", "2026-03-28T02:30:00+01:00"),
            ("2026-03-29T01:00:00.000Z", "2026-03-29T03:00:00+02:00")])  # 02:30 is skipped: first instant after
        for bad, field in [({"cron": "61 * * * *"}, "cron"), ({"cron": "* * * * *", "timezone": "No/Where"}, "timezone"),
                           ({"cron": "* * * * *", "count": 101}, "count"), ({}, "cron"), ({"cron": "@daily", "x": 1}, "x")]:
            status, problem, _ = self.api.post("/api/v1/cron/preview", bad)
            self.assertEqual((status, problem["field"]), (400, field), problem)

    def test_http_errors(self):
        self.assertEqual(self.api.get("/api/v1/nothing")[0], 404)
        self.assertEqual(self.api.get("/api/v1/tasks/0123")[0], 404)
        self.assertEqual(self.api.request("PATCH", "/api/v1/tasks")[0], 405)
        status, _, _ = self.api.request("POST", "/api/v1/tasks", raw=b"<task/>",
                                        headers={"Content-Type": "application/xml"})
        self.assertEqual(status, 415)
        big = json.dumps({"name": "x", "action": {"type": "shell", "command": ["echo", "y" * 300000]}})
        status, body, _ = self.api.request("POST", "/api/v1/tasks", raw=big.encode())
        self.assertEqual(status, 413, body)
        self.assertEqual(self.key_count(), 1)  # only dts:meta

    def test_curl_style_form_content_type_is_accepted(self):
        raw = json.dumps({"name": "curl", "action": SHELL}).encode()
        status, body, _ = self.api.request("POST", "/api/v1/tasks", raw=raw,
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 201, body)

    def test_probes_and_metrics(self):
        self.assertEqual(self.api.get("/healthz")[0], 200)
        self.assertEqual(self.api.get("/readyz")[0], 200)
        self.create({"name": "m", "action": SHELL})
        import urllib.request
        text = urllib.request.urlopen(self.api.base + "/metrics").read().decode()
        self.assertIn('dts_http_requests_total{route="tasks.create",status="201"} 1', text)

    def test_shard_count_disagreement_refuses_to_start(self):
        # The harness passes --shards 16 and the api recorded it; a later flag wins.
        bad = self.start("scheduler", "--shards", "8", name="bad")
        wait_for(lambda: bad.proc.poll() is not None, what="mismatched scheduler to exit")
        self.assertNotEqual(bad.proc.returncode, 0)
        self.assertIn("shard count mismatch", bad.logs())

    def test_api_refuses_public_listen_without_tokens(self):
        p = self.start("api", "--listen", "0.0.0.0:0", name="public")
        wait_for(lambda: p.proc.poll() is not None, what="api to refuse")
        self.assertNotEqual(p.proc.returncode, 0)
        self.assertIn("refusing to listen", p.logs())


if __name__ == "__main__":
    unittest.main()
