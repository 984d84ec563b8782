"""Chaining (issue 16, item 6): "then" runs named tasks once when a run of a
task finishes (its final attempt), with kind "chained" and the source run id
recorded; through an outbox in the source shard, drained by the schedulers
and deduplicated on the source run id, so a drainer killed between the
trigger and the outbox delete still gives exactly one chained run. Unknown
chained tasks and trivial loops are refused with a 400 naming the field.
Real processes, real Redis."""
import time
import unittest

from dtstest import DtsCase, wait_for

FAR = {"at": "2099-01-01T00:00:00Z"}  # a target that never runs on its own


class ChainCase(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()

    def target(self, name):
        return self.create({"name": name, "schedule": FAR, "action": {"type": "noop"}})

    def chained_runs(self, task_id):
        return [r for r in self.runs(task_id) if r["kind"] == "chained"]

    def outbox_len(self):
        return sum(self.redis.cmd("XLEN", f"dts:{{{s}}}:outbox") for s in range(self.shards))

    def test_bad_chains_are_400s_naming_the_field(self):
        b = self.target("b")
        cases = [
            ({"then": [{"task": "nosuchtask", "on": "success"}]}, "then[0].task", "names no task"),
            ({"then": [{"task": b["id"]}, {"task": "bad id!"}]}, "then[1].task", "task id"),
            ({"then": [{"task": b["id"], "on": "sometimes"}]}, "then[0].on", "success"),
            ({"then": [{"task": b["id"]}, {"task": b["id"], "on": "failure"}]}, "then[1].task", "already"),
            ({"then": {"task": b["id"]}}, "then", "array"),
            ({"then": [{"task": b["id"], "when": "x"}]}, "then[0].when", "unknown"),
        ]
        for extra, field, words in cases:
            status, body, _ = self.api.post("/api/v1/tasks", dict({"name": "a", "action": {"type": "noop"}}, **extra))
            self.assertEqual(status, 400, (extra, body))
            self.assertEqual(body["field"], field, body)
            self.assertIn(words, body["detail"], body)
        # The batch endpoint checks each item's chain as POST /api/v1/tasks does.
        status, body, _ = self.api.post("/api/v1/tasks:batch", {"tasks": [
            {"name": "a", "action": {"type": "noop"}, "then": [{"task": "nosuchtask"}]}]})
        self.assertEqual(status, 207, body)
        self.assertEqual(body["items"][0]["status"], 400, body)
        self.assertEqual(body["items"][0]["problem"]["field"], "tasks[0].then[0].task", body)
        status, body, _ = self.api.get("/api/v1/tasks")
        self.assertEqual([t["id"] for t in body["items"]], [b["id"]], "nothing stored")
        # A task may not chain itself, nor a task that chains straight back.
        spec = {"name": "b", "schedule": FAR, "action": {"type": "noop"}, "then": [{"task": b["id"]}]}
        status, body, _ = self.api.request("PUT", f"/api/v1/tasks/{b['id']}", spec)
        self.assertEqual((status, body["field"]), (400, "then[0].task"), body)
        a = self.create({"name": "a", "schedule": FAR, "action": {"type": "noop"}, "then": [{"task": b["id"]}]})
        self.assertEqual(a["then"], [{"task": b["id"], "on": "success"}], "on defaults to success")
        spec["then"] = [{"task": a["id"], "on": "always"}]
        status, body, _ = self.api.request("PUT", f"/api/v1/tasks/{b['id']}", spec)
        self.assertEqual((status, body["field"]), (400, "then[0].task"), body)
        self.assertIn("back", body["detail"])

    def test_chained_tasks_run_once_by_outcome(self):
        self.start("scheduler")
        self.start("executor")
        ok, bad, always = self.target("on-success"), self.target("on-failure"), self.target("always")
        src = self.create({"name": "src", "action": {"type": "noop"}, "then": [
            {"task": ok["id"], "on": "success"}, {"task": bad["id"], "on": "failure"},
            {"task": always["id"], "on": "always"}]})
        wait_for(lambda: len(self.chained_runs(ok["id"])) == 1 and len(self.chained_runs(always["id"])) == 1,
                 timeout=20, what="the success and always chains ran")
        (source_run,) = self.runs(src["id"])
        for t in (ok, always):
            (run,) = self.chained_runs(t["id"])
            self.assertEqual(run["source_run"], source_run["id"])
            wait_for(lambda t=t: self.chained_runs(t["id"])[0]["status"] == "succeeded", what="chained run done")
        wait_for(lambda: self.outbox_len() == 0, what="outbox drained")
        self.assertEqual(self.runs(bad["id"]), [], "the failure chain did not run")

        # A failing task with retries chains only after its final attempt.
        fail = self.create({"name": "fails", "action": {"type": "shell", "command": ["false"]},
                            "retry": {"max_attempts": 2, "initial_s": 0.1, "jitter": False},
                            "then": [{"task": bad["id"], "on": "failure"}, {"task": ok["id"], "on": "success"}]})
        wait_for(lambda: len(self.chained_runs(bad["id"])) == 1, timeout=20, what="the failure chain ran")
        runs = self.runs(fail["id"])
        self.assertEqual(sorted(r["attempt"] for r in runs), [1, 2])
        final = [r for r in runs if r["attempt"] == 2][0]
        self.assertEqual(self.chained_runs(bad["id"])[0]["source_run"], final["id"])
        wait_for(lambda: self.outbox_len() == 0, what="outbox drained")
        self.assertEqual(len(self.chained_runs(ok["id"])), 1, "no success chain from the failing task")

    def test_a_paused_target_runs_the_chain_on_resume_with_its_source(self):
        self.start("scheduler")
        self.start("executor")
        b = self.target("b")
        status, _, _ = self.api.post(f"/api/v1/tasks/{b['id']}/pause")
        self.assertEqual(status, 200)
        src = self.create({"name": "src", "action": {"type": "noop"}, "then": [{"task": b["id"]}]})
        wait_for(lambda: self.outbox_len() == 0 and self.runs(src["id"]), timeout=20, what="the chain was taken")
        self.assertEqual(self.runs(b["id"]), [], "nothing of a paused task runs")
        status, _, _ = self.api.post(f"/api/v1/tasks/{b['id']}/resume")
        self.assertEqual(status, 200)
        wait_for(lambda: [r["status"] for r in self.chained_runs(b["id"])] == ["succeeded"], timeout=20,
                 what="the held chained run")
        self.assertEqual(self.chained_runs(b["id"])[0]["source_run"], self.runs(src["id"])[0]["id"])

    def test_a_deleted_target_drops_its_chain_entries(self):
        self.start("executor")  # no scheduler yet: the entry waits in the outbox
        b = self.target("b")
        src = self.create({"name": "src", "action": {"type": "noop"}, "then": [{"task": b["id"]}]})
        wait_for(lambda: self.outbox_len() == 1, timeout=20, what="the chain in the outbox")
        status, _, _ = self.api.request("DELETE", f"/api/v1/tasks/{b['id']}")
        self.assertEqual(status, 204)
        sched = self.start("scheduler")
        wait_for(lambda: self.outbox_len() == 0, timeout=20, what="the entry dropped")
        self.assertIn('"verdict":"gone"', sched.logs())
        self.assertEqual(len(self.runs(src["id"])), 1)
        self.assertEqual(self.ready_entries(), [])

    def test_drainer_killed_between_trigger_and_delete_gives_one_chained_run(self):
        # The first scheduler pauses 30 s after each trigger, before deleting
        # the outbox entry: it is killed there.
        first = self.start("scheduler", "--lease-ttl-ms", "1000", env={"DTS_TEST_CHAIN_PAUSE_MS": "30000"})
        self.start("executor")
        b = self.target("b")
        self.create({"name": "src", "action": {"type": "noop"}, "then": [{"task": b["id"]}]})
        wait_for(lambda: len(self.chained_runs(b["id"])) == 1, timeout=20, what="the chained run")
        self.assertEqual(self.outbox_len(), 1, "the entry is still in the outbox when the drainer dies")
        first.kill9()
        second = self.start("scheduler", "--lease-ttl-ms", "1000")
        wait_for(lambda: self.outbox_len() == 0, timeout=20, what="the second scheduler drained the outbox")
        self.assertIn('"verdict":"duplicate"', second.logs(), "the second drain found the trigger done")
        wait_for(lambda: self.chained_runs(b["id"])[0]["status"] == "succeeded", what="the chained run finished")
        deadline = time.monotonic() + 2  # a double would have been queued with the delete: give it time to run
        while time.monotonic() < deadline:
            self.assertEqual(len(self.runs(b["id"])), 1, "exactly one chained run")
            self.assertEqual(self.ready_entries(), [])
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
