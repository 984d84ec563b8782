"""The store reports what it could not read instead of answering as if there
were nothing: a run history whose hash cannot be read is a 503 problem, not an
empty page."""
import unittest

from dtstest import DtsCase


class StoreErrorsTest(DtsCase):
    shards = 1  # every key in shard 0, so the test can name them

    def test_unreadable_run_history_is_503_not_empty(self):
        self.start_api()
        task = self.create({"name": "h", "schedule": {"cron": "@daily"}, "action": {"type": "noop"}})
        self.assertEqual(self.runs(task["id"]), [], "a task that never ran has an empty history")
        # One run in the index, but the history hash replaced by a string: HMGET fails.
        self.redis.cmd("ZADD", f"dts:{{0}}:runidx:{task['id']}", "1", f"{task['id']}:1:1")
        self.redis.cmd("SET", f"dts:{{0}}:runs:{task['id']}", "not a hash")
        status, body, headers = self.api.get(f"/api/v1/tasks/{task['id']}/runs")
        self.assertEqual(status, 503, body)
        self.assertEqual(body["status"], 503)
        self.assertIn("unreachable", body["detail"])
        # Readable again once the hash is a hash.
        self.redis.cmd("DEL", f"dts:{{0}}:runs:{task['id']}")
        status, body, _ = self.api.get(f"/api/v1/tasks/{task['id']}/runs")
        self.assertEqual((status, body["items"]), (200, []))


if __name__ == "__main__":
    unittest.main()
