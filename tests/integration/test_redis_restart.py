"""Redis dies (kill -9) and comes back from its AOF (appendfsync always):
nothing acknowledged is lost, and every role reconnects and carries on."""
import os
import time
import unittest

from dtstest import DtsCase, parse_time, wait_for


class RedisRestartTest(DtsCase):
    appendfsync = "always"

    def test_roles_reconnect_and_nothing_acknowledged_is_lost(self):
        self.start_api()
        self.start("scheduler")
        self.start("executor", "--concurrency", "16", "--recovery-timeout-ms", "1000")
        task = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        wait_for(lambda: len(self.runs(task["id"])) >= 2, what="runs before the crash")
        self.redis.proc.kill()
        self.redis.proc.wait()
        status, body, _ = self.api.get(f"/api/v1/tasks/{task['id']}")
        self.assertEqual(status, 503, body)  # a clean error while Redis is down, not a hang or crash
        self.assertEqual(body["status"], 503)
        time.sleep(1)  # Redis stays down for a while: the roles must retry, not die
        self.redis.start()
        restarted = int(time.time() * 1000)
        def runs_after():
            status, body, _ = self.api.get(f"/api/v1/tasks/{task['id']}/runs")
            # 503 until the api's connection comes out of its reconnect backoff (at most 2 s).
            return status == 200 and any(parse_time(r["scheduled_at"]) > restarted for r in body["items"])
        wait_for(runs_after, timeout=15, what="runs after Redis came back")
        self.assertEqual(self.api.get(f"/api/v1/tasks/{task['id']}")[1]["name"], "tick")
        for p in self.procs:
            self.assertIsNone(p.proc.poll(), f"{p.name} died")
        runs = self.runs(task["id"])
        scheduled = [parse_time(r["scheduled_at"]) for r in runs]
        self.assertEqual(len(scheduled), len(set(scheduled)), "an occurrence ran twice")
        # Pooled connections cut by the restart are re-made at once: no occurrence
        # bounces through a dead connection into a second attempt.
        self.assertEqual([r["attempt"] for r in runs if parse_time(r["scheduled_at"]) > restarted],
                         [1] * len([r for r in runs if parse_time(r["scheduled_at"]) > restarted]))


class LostScriptsTest(DtsCase):
    def test_results_of_many_shards_are_recorded_once_after_redis_lost_its_scripts(self):
        """The completer records the results of several shards in one round trip
        (a script call per shard, pipelined). Redis forgetting its scripts
        between the start and the results (SCRIPT FLUSH, as a restart without
        persistence of the script cache does) answers each call NOSCRIPT: each
        is sent again, and every run is recorded once, as attempt 1."""
        self.start_api()
        self.start("scheduler")
        ex = self.start("executor", "--concurrency", "16")
        gate = os.path.join(self.tmp, "gate")
        tasks = [self.create({"name": f"t{i}", "action": {"type": "shell", "command": [
            "sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"]}}) for i in range(12)]
        self.assertGreater(len({self.shard_of(t["id"]) for t in tasks}), 1)
        wait_for(lambda: all(any(r["status"] == "running" for r in self.runs(t["id"])) for t in tasks),
                 what="all twelve running")
        self.assertEqual(self.redis.cmd("SCRIPT", "FLUSH"), "OK")
        open(gate, "w").close()  # they all finish at once: one flush, many shards
        wait_for(lambda: all(self.api.get(f"/api/v1/tasks/{t['id']}")[1]["state"] == "completed" for t in tasks),
                 timeout=15, what="all twelve completed")
        for t in tasks:
            self.assertEqual([(r["attempt"], r["status"]) for r in self.runs(t["id"])], [(1, "succeeded")])
        self.assertNotIn("run result dropped", ex.logs())
        self.assertEqual(self.ready_entries(), [])

    def shard_of(self, task_id):
        """The task's shard: the FNV-1a hash of its id (src/store.c)."""
        h = 2166136261
        for c in task_id.encode():
            h = ((h ^ c) * 16777619) & 0xFFFFFFFF
        return h % self.shards


if __name__ == "__main__":
    unittest.main()
