"""The execution features (issue 16) on a Redis Cluster of three primaries:
a chain crosses shards on different nodes through the outbox (no script
touches two slots), and a concurrency key's slots, in their own hash slot,
hold the limit across executors."""
import unittest

from dtscluster import ClusterCase
from dtstest import ledger_action, read_ledger, wait_for
from test_concurrency import max_overlap


class ClusterExecTest(ClusterCase):
    def node(self, task_id):
        """The port of the primary holding TASK_ID's hash."""
        for s in range(self.shards):
            key = f"dts:{{{s}}}:task:{task_id}"
            if self.cluster.cmd("EXISTS", key) == 1:
                return self.cluster.node_of(key).port
        self.fail(f"no hash for {task_id}")

    def test_chain_and_concurrency_on_a_cluster(self):
        self.start_api()
        self.start("scheduler")
        for _ in range(2):
            self.start("executor", "--concurrency", "4")
        # Chains from six sources to one target: some cross nodes (checked).
        target = self.create({"name": "target", "schedule": {"at": "2099-01-01T00:00:00Z"},
                              "action": {"type": "noop"}})["id"]
        sources = [self.create({"name": f"src{i}", "action": {"type": "noop"},
                                "then": [{"task": target, "on": "always"}]})["id"] for i in range(6)]
        self.assertTrue(any(self.node(s) != self.node(target) for s in sources), "a chain crosses nodes")
        wait_for(lambda: len(self.runs(target)) == 6, timeout=30, what="six chained runs")
        runs = self.runs(target)
        self.assertEqual(sorted(r.get("source_run", "?").split(":")[0] for r in runs), sorted(sources), runs)
        self.assertEqual({r["kind"] for r in self.runs(target)}, {"chained"})
        # A key with limit 1 over tasks on every shard.
        ledger = self.ledger_file()
        tasks = [self.create({"name": f"k{i}", "action": ledger_action(ledger, 0.3),
                              "concurrency": {"key": "one", "limit": 1}}) for i in range(5)]
        wait_for(lambda: len(read_ledger(ledger)[1]) == len(tasks), timeout=60, what="every keyed run")
        starts, ends = read_ledger(ledger)
        self.assertEqual(max_overlap(starts, ends, float("inf")), 1)
        for p in self.procs:
            self.assertIsNone(p.proc.poll(), f"{p.name} died")


if __name__ == "__main__":
    unittest.main()
