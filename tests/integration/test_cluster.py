"""dts on a Redis Cluster of three primaries (redis-cli --cluster create):
every role works, tasks of every kind run exactly as on one Redis, and a
slot migration under load loses and doubles nothing."""
import os
import subprocess
import time
import unittest

from dtscluster import ClusterCase, now_ms
from dtstest import DTS, Http, api_up, fmt_time, free_port, parse_time, wait_for


class ClusterTest(ClusterCase):

    def start_roles(self, *executor_args):
        self.start_api()
        for _ in range(2):
            self.start("scheduler", "--lease-ttl-ms", "3000")
        for _ in range(2):
            self.start("executor", "--concurrency", "8", *executor_args)

    def check_once(self, task_id, first, until):
        """Every second from FIRST to UNTIL ran once, and nothing else ran."""
        sched = [parse_time(r["scheduled_at"]) for r in self.runs(task_id)
                 if r["status"] == "succeeded"]
        self.assertEqual(len(sched), len(set(sched)), "an occurrence ran twice")
        missing = set(range(first, until + 1, 1000)) - set(sched)
        self.assertEqual(missing, set(), "an occurrence was lost")

    def test_every_kind_of_task_runs_on_a_cluster(self):
        self.start_roles()
        status, body, _ = self.api.get("/readyz")
        self.assertEqual((status, body["redis"]), (200, "ok"))
        # The shards' keys really are spread over the three primaries.
        owners = {self.cluster.node_of(f"dts:{{{s}}}:ready").port for s in range(self.shards)}
        self.assertEqual(len(owners), 3)
        now = self.create({"name": "now", "action": {"type": "noop"}})
        shell = self.create({"name": "shell", "action": {"type": "shell", "command": ["echo", "on-a-cluster"]}})
        at = self.create({"name": "at", "schedule": {"at": fmt_time(now_ms() + 2000)}, "action": {"type": "noop"}})
        tick = self.create({"name": "tick", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
        many = [self.create({"name": f"c{i}", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
                for i in range(20)]
        for t in (now, shell, at):
            wait_for(lambda t=t: [r["status"] for r in self.runs(t["id"])] == ["succeeded"], timeout=20,
                     what=f"{t['name']} to run once")
        self.assertIn("on-a-cluster", self.runs(shell["id"])[0]["output"])
        time.sleep(6)
        until = now_ms() - 2500
        for t in [tick] + many:
            self.check_once(t["id"], parse_time(t["next_run_at"]), until)
        # Listing, reading and editing cross every shard (and so every node).
        status, body, _ = self.api.get("/api/v1/tasks?limit=100")
        self.assertEqual((status, len(body["items"])), (200, 24))
        status, body, _ = self.api.post(f"/api/v1/tasks/{tick['id']}/pause")
        self.assertEqual(status, 200, body)
        for p in self.procs:
            self.assertIsNone(p.proc.poll(), f"{p.name} died")

    def test_a_slot_migrating_under_load_loses_and_doubles_nothing(self):
        self.start_roles()
        tasks = [self.create({"name": f"m{i}", "schedule": {"cron": "* * * * * *"}, "action": {"type": "noop"}})
                 for i in range(30)]
        time.sleep(2)
        # Move shard 0's slot (every key of dts:{0}:...) to another primary, key by
        # key with MIGRATE, as redis-cli --cluster reshard does, while dts runs.
        slot = self.cluster.live()[0].cmd("CLUSTER", "KEYSLOT", "dts:{0}:due")
        src = self.cluster.node_of("dts:{0}:due")
        dst = next(n for n in self.cluster.primaries() if n.port != src.port)
        src_id, dst_id = src.cmd("CLUSTER", "MYID"), dst.cmd("CLUSTER", "MYID")
        dst.cmd("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
        src.cmd("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
        moved = 0
        while True:
            keys = src.cmd("CLUSTER", "GETKEYSINSLOT", slot, 10)
            if not keys:
                break
            for k in keys:
                src.cmd("MIGRATE", "127.0.0.1", dst.port, k, 0, 5000)
                moved += 1
                time.sleep(0.05)  # slowly: dts must meet ASK redirects meanwhile
        for n in self.cluster.primaries():
            n.cmd("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
        self.assertGreater(moved, 0)
        wait_for(lambda: self.cluster.node_of("dts:{0}:due").port == dst.port, what="the slot to move")
        time.sleep(5)
        until = now_ms() - 2500
        for t in tasks:
            self.check_once(t["id"], parse_time(t["next_run_at"]), until)
        for p in self.procs:
            self.assertIsNone(p.proc.poll(), f"{p.name} died")


class ClusterReadyTest(ClusterCase):
    def test_readyz_follows_the_cluster_state(self):
        self.start_api()
        self.assertEqual(self.api.get("/readyz")[0], 200)
        victim = self.cluster.node_of("dts:{0}:ready")
        victim.kill9()  # no replica: its slots are unserved, the cluster fails

        def not_ready():
            status, body, _ = self.api.get("/readyz")
            return status == 503 and body["redis"] == "redis cluster state is not ok" and body
        body = wait_for(not_ready, timeout=30, interval=0.2, what="/readyz to report the cluster's state")
        self.assertEqual(body["status"], "not ready")
        victim.start()  # it rejoins with its slots (nodes.conf), and the cluster is ok again
        wait_for(lambda: self.api.get("/readyz")[0] == 200, timeout=30, interval=0.2, what="/readyz 200 again")


class ClusterPasswordTest(ClusterCase):
    password = "cluster-secret"

    def test_a_password_protected_cluster_with_the_password_in_a_file(self):
        pw = os.path.join(self.tmp, "redis-password")
        with open(pw, "w") as f:
            f.write("cluster-secret\n")
        self.start_api_with("--redis-password-file", pw)
        task = self.create({"name": "p", "action": {"type": "noop"}})
        self.assertEqual(self.api.get(f"/api/v1/tasks/{task['id']}")[0], 200)

    def start_api_with(self, *args):
        port = free_port()
        self.start("api", "--listen", f"127.0.0.1:{port}", *args)
        self.api = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: api_up(self.api), what="api /readyz")


class ClusterUrlTest(unittest.TestCase):
    def test_bad_cluster_and_sentinel_urls_are_refused_in_one_line(self):
        for url in ["redis-cluster://", "redis-cluster://host", "redis-cluster://h:1,h:x",
                    "redis-sentinel://127.0.0.1:1", "redis-sentinel://127.0.0.1:1/"]:
            p = subprocess.run([DTS, "api", "--redis", url], capture_output=True, text=True, timeout=10)
            self.assertNotEqual(p.returncode, 0, url)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn("redis URL", p.stderr)


if __name__ == "__main__":
    unittest.main()
