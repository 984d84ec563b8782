"""The dispatch and execution guarantees of DESIGN.md under racing and dying
processes: no occurrence lost, none dispatched twice, and a run whose executor
dies runs again on another one."""
import os
import signal
import time
import unittest

from dtstest import DtsCase, parse_time, wait_for


class DispatchTest(DtsCase):
    """Schedulers only: ready entries stay in the streams, so they can be counted."""

    def make_tasks(self, n):
        self.start_api()
        tasks = [self.create({"name": f"t{i}", "schedule": {"cron": "* * * * * *"},
                              "action": {"type": "noop"}}) for i in range(n)]
        return {t["id"]: parse_time(t["next_run_at"]) for t in tasks}

    def check_exactly_once(self, first, until_ms):
        """Every occurrence of every task from its first fire to UNTIL_MS is in a
        ready stream exactly once, and nothing else is."""
        entries = self.ready_entries()
        seen = {}
        for task, sched, _ in entries:
            seen.setdefault(task, []).append(sched)
        doubles = sum(len(v) - len(set(v)) for v in seen.values())
        self.assertEqual(doubles, 0, "an occurrence was dispatched twice")
        missing = 0
        for task, start in first.items():
            expected = set(range(start, until_ms + 1, 1000))
            missing += len(expected - set(seen.get(task, [])))
        self.assertEqual(missing, 0, "an occurrence was lost")
        return len(entries)

    def dispatch_delays(self):
        """Per entry: dispatch time (from the stream id) minus due time, ms."""
        out = []
        for s in range(self.shards):
            for entry_id, fields in self.redis.cmd("XRANGE", f"dts:{{{s}}}:ready", "-", "+") or []:
                f = dict(zip(fields[::2], fields[1::2]))
                out.append((int(f["sched"]), int(entry_id.split("-")[0]) - int(f["sched"])))
        return out

    def test_two_schedulers_dispatch_each_occurrence_exactly_once(self):
        first = self.make_tasks(100)
        self.start("scheduler")
        self.start("scheduler")
        time.sleep(30)  # the window under test: two schedulers sharing shards for 30 s
        until = int(time.time() * 1000) - 1500
        owners = [self.redis.cmd("GET", f"dts:{{{s}}}:lease") for s in range(self.shards)]
        self.assertEqual(len(set(owners)), 2, "the shards are not split between both schedulers")
        self.assertEqual(sorted(owners.count(o) for o in set(owners)), [8, 8])
        n = self.check_exactly_once(first, until)
        self.assertGreater(n, 100 * 28)
        for _, delay in self.dispatch_delays():
            self.assertGreaterEqual(delay, 0, "dispatched before its time")

    def test_racing_schedulers_without_leases_still_never_double(self):
        first = self.make_tasks(100)
        for _ in range(3):
            self.start("scheduler", "--ignore-leases", "1")
        time.sleep(10)  # three schedulers all dispatching every shard at once
        self.check_exactly_once(first, int(time.time() * 1000) - 1500)

    def test_killed_scheduler_loses_nothing(self):
        first = self.make_tasks(100)
        a = self.start("scheduler", "--lease-ttl-ms", "3000")
        b = self.start("scheduler", "--lease-ttl-ms", "3000")
        # Both must hold leases before one dies.
        wait_for(lambda: len(set(self.redis.cmd("GET", f"dts:{{{s}}}:lease") for s in range(self.shards))) == 2,
                 timeout=10, what="both schedulers to hold leases")
        time.sleep(3)
        killed_at = int(time.time() * 1000)
        a.kill9()
        time.sleep(10)  # the survivor must take over and catch up
        until = int(time.time() * 1000) - 1500
        self.check_exactly_once(first, until)
        after = [d for sched, d in self.dispatch_delays() if sched > killed_at]
        failover = max(after)
        print(f"\nscheduler failover: worst dispatch delay after kill -9 = {failover} ms "
              f"(lease TTL 3000 ms); {len(after)} occurrences dispatched after the kill")
        self.assertLess(failover, 7000)
        self.assertEqual(b.proc.poll(), None)


class ExecutionTest(DtsCase):
    def test_executor_killed_mid_run_reruns_elsewhere_once(self):
        self.start_api()
        self.start("scheduler")
        e1 = self.start("executor", "--recovery-timeout-ms", "2000", name="e1")
        e2 = self.start("executor", "--recovery-timeout-ms", "2000", name="e2")
        marker = os.path.join(self.tmp, "ran")
        pids = os.path.join(self.tmp, "pid")
        task = self.create({"name": "slow", "action": {"type": "shell", "command": [
            "sh", "-c", f'echo $$ > {pids}.$DTS_ATTEMPT; echo "$DTS_RUN_ID" >> {marker}; sleep 5; echo done']}})
        first = wait_for(lambda: (lambda r: r[0] if r and r[0]["status"] == "running" else None)(
            self.runs(task["id"])), what="the first attempt to start")
        # Kill only once the action itself is running (it wrote its run id).
        wait_for(lambda: os.path.exists(marker) and first["id"] in open(marker).read(),
                 what="the action to be running")
        victim = e1 if str(e1.pid) in first["executor"] else e2
        survivor = e2 if victim is e1 else e1
        victim.kill9()
        # Its action dies with it (parent-death signal): no orphan keeps running.
        orphan = int(open(f"{pids}.1").read())
        wait_for(lambda: not os.path.exists(f"/proc/{orphan}") or
                 open(f"/proc/{orphan}/stat").read().split()[2] == "Z", timeout=2, what="the orphaned action to die")
        runs = wait_for(lambda: (lambda r: r if any(x["status"] == "succeeded" for x in r) else None)(
            self.runs(task["id"])), timeout=20, what="the rerun to succeed")
        ok = [r for r in runs if r["status"] == "succeeded"]
        self.assertEqual(len(ok), 1, runs)
        self.assertEqual(ok[0]["attempt"], 2)
        self.assertEqual(ok[0]["occurrence_id"], first["occurrence_id"])
        self.assertIn(str(survivor.pid), ok[0]["executor"])
        self.assertEqual(ok[0]["output"], "done\n")
        lost = [r for r in runs if r["attempt"] == 1]
        self.assertEqual(len(lost), 1)
        self.assertEqual(lost[0]["status"], "failed")
        self.assertIn("lost", lost[0]["error"])
        with open(marker) as f:
            self.assertEqual(f.read().split(), [first["id"], ok[0]["id"]])
        task_now = self.api.get(f"/api/v1/tasks/{task['id']}")[1]
        self.assertEqual((task_now["state"], task_now["runs"]["succeeded"]), ("completed", 1))
        # The stream is clean: nothing pending, nothing left.
        self.assertEqual(self.ready_entries(), [])

    def test_sigterm_drains_running_actions(self):
        self.start_api()
        self.start("scheduler")
        e = self.start("executor", "--grace-ms", "10000")
        task = self.create({"name": "drain", "action": {"type": "shell", "command": ["sh", "-c", "sleep 1; echo ok"]}})
        wait_for(lambda: (lambda r: r and r[0]["status"] == "running")(self.runs(task["id"])),
                 what="the run to start")
        self.assertEqual(e.stop(signal.SIGTERM), 0)
        runs = self.runs(task["id"])
        self.assertEqual([(r["status"], r["output"]) for r in runs], [("succeeded", "ok\n")])


if __name__ == "__main__":
    unittest.main()
