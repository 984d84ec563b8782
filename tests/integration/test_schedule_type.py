"""A task's schedule type is stored as "stype" (the word "kind" is the
occurrence's: now, schedule, retry, manual, redrive). A recurring task stored
by an older version, with the type under "kind", still runs."""
import unittest

from dtstest import DtsCase, wait_for


class ScheduleTypeTest(DtsCase):
    shards = 1  # every key in shard 0, so the test can name them

    def test_stored_as_stype_and_an_old_kind_field_still_schedules(self):
        self.start_api()
        task = self.create({"name": "s", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        key = f"dts:{{0}}:task:{task['id']}"
        self.assertEqual(self.redis.cmd("HGET", key, "stype"), "cron")
        self.assertIsNone(self.redis.cmd("HGET", key, "kind"), "the task hash has no 'kind' any more")
        # As an older version stored it.
        self.redis.cmd("HDEL", key, "stype")
        self.redis.cmd("HSET", key, "kind", "cron")
        self.start("scheduler")
        self.start("executor")
        wait_for(lambda: len([r for r in self.runs(task["id"]) if r["kind"] == "schedule"]) >= 2,
                 timeout=30, what="two scheduled runs of the task stored the old way")


if __name__ == "__main__":
    unittest.main()
