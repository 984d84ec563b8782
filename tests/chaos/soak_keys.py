"""Redis growth under executor restarts (issue 11, item 13).

Runs a fleet (a private redis-server with AOF everysec, 1 api, 2 schedulers,
2 executors) with per-second cron tasks, restarts the executors every
--restart-every seconds (kill -9 and SIGTERM in turn, each restart a new
executor id and new consumers), and samples every --sample-every seconds:
DBSIZE, INFO memory's used_memory (and the part outside the capped event
streams, which fill for longer than a soak), the consumers of each shard's group
(XINFO GROUPS / XINFO CONSUMERS), the pending entries and ZCARD P:executors.
Prints a table and fails if any of them grows after the warm-up (run history
fills up to its count limit in the first --warmup seconds).

`python3 tests/chaos/soak_keys.py --seconds 600` (DTS_BIN points at the
binary). Standard library plus tests/lib/dtstest.py only."""
import argparse
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from dtstest import DtsCase, Http, Role, api_up, free_port, wait_for  # noqa: E402

ARGS = None


def pairs(flat):
    return dict(zip(flat[::2], flat[1::2]))


class Soak(DtsCase):
    appendfsync = "everysec"
    ok = False

    def _outcome_ok(self):
        return self.ok

    def sample(self, t0):
        r = self.redis
        mem = pairs(sum(([l.split(":", 1)[0], l.split(":", 1)[1]] for l in r.cmd("INFO", "memory").splitlines()
                         if ":" in l), []))
        consumers, per_shard, pending, events, events_mem = 0, 0, 0, 0, 0
        for s in range(self.shards):
            ev = f"dts:{{{s}}}:events"
            events += r.cmd("XLEN", ev)
            events_mem += r.cmd("MEMORY", "USAGE", ev) or 0
            key = f"dts:{{{s}}}:ready"
            n = 0
            for g in r.cmd("XINFO", "GROUPS", key) or []:
                g = pairs(g)
                if g["name"] == "exec":
                    n = len(r.cmd("XINFO", "CONSUMERS", key, "exec") or [])
                    pending += int(g["pending"])
            consumers += n
            per_shard = max(per_shard, n)
        used = int(mem["used_memory"])
        return {"t": int(time.monotonic() - t0), "dbsize": r.cmd("DBSIZE"), "used_memory": used,
                "events": events, "other_memory": used - events_mem,
                "consumers": consumers, "per_shard": per_shard, "pending": pending,
                "executors": r.cmd("ZCARD", "dts:executors")}

    def test_redis_stays_flat_while_executors_restart(self):
        a = ARGS
        common = self.common()
        port = free_port()
        Role(self, "api", "api", ["--listen", f"127.0.0.1:{port}"], common=common)
        self.api = Http(f"http://127.0.0.1:{port}")
        for i in range(2):
            Role(self, "scheduler", f"sched{i}", [], common=common)
        execs = [Role(self, "executor", f"exec{i}", ["--concurrency", "4", "--recovery-timeout-ms", "2000",
                                                     "--run-as", "root", "--grace-ms", "1000"], common=common)
                 for i in range(2)]
        wait_for(lambda: api_up(self.api), timeout=30, what="api /readyz")
        for i in range(a.tasks):
            self.create({"name": f"sec-{i}", "schedule": {"cron": "* * * * * *"},
                         "action": {"type": "shell", "command": ["/bin/true"]}})
        t0 = time.monotonic()
        rows, restarts, turn = [], 0, 0
        next_restart, next_sample = t0 + a.restart_every, t0
        while time.monotonic() < t0 + a.seconds + 1:
            now = time.monotonic()
            if now >= next_sample:
                rows.append(self.sample(t0))
                print(self.row(rows[-1]), flush=True)
                next_sample += a.sample_every
            if now >= next_restart:
                for e in execs:  # kill -9 one, SIGTERM the other, alternating
                    sig = signal.SIGKILL if (turn + execs.index(e)) % 2 == 0 else signal.SIGTERM
                    e.signal(sig)
                    e.wait(30)
                    e.start()
                    restarts += 1
                turn += 1
                next_restart += a.restart_every
            time.sleep(0.2)
        print(self.table(rows, restarts))
        grew = self.growth(rows, a.warmup)
        self.assertEqual(grew, [], self.table(rows, restarts))
        self.ok = True

    @staticmethod
    def row(s):
        return (f"{s['t']:>6}  {s['dbsize']:>7}  {s['used_memory']:>12}  {s['events']:>7}  {s['other_memory']:>12}  "
                f"{s['consumers']:>9}  {s['per_shard']:>9}  {s['pending']:>7}  {s['executors']:>9}")

    def table(self, rows, restarts):
        head = (f"{'t (s)':>6}  {'DBSIZE':>7}  {'used_memory':>12}  {'events':>7}  {'w/o events':>12}  {'consumers':>9}  "
                f"{'max/shard':>9}  {'pending':>7}  {'executors':>9}")
        return "\n".join(["", f"soak: {len(rows)} samples, {restarts} executor restarts", head] +
                         [self.row(s) for s in rows])

    @staticmethod
    def growth(rows, warmup):
        """What grew: the last sample above the largest of the first half after
        the warm-up (keys and members exactly, memory by more than 10%)."""
        after = [s for s in rows if s["t"] >= warmup]
        if len(after) < 4:
            return [f"too few samples after the {warmup} s warm-up"]
        base = after[:len(after) // 2]
        last = after[-1]
        out = []
        for k, slack in (("dbsize", 0), ("consumers", 0), ("executors", 0), ("pending", 16)):
            top = max(s[k] for s in base)
            if last[k] > top + slack:
                out.append(f"{k} grew from {top} to {last[k]}")
        # The event streams are capped (10,000 entries a shard) and fill for
        # longer than a soak: their memory is shown, the rest must stay flat.
        top = max(s["other_memory"] for s in base)
        if last["other_memory"] > top * 1.1:
            out.append(f"used_memory without the event streams grew from {top} to {last['other_memory']}")
        return out


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--restart-every", type=float, default=30)
    ap.add_argument("--sample-every", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=150, help="history fills up (100 runs a task) meanwhile")
    ap.add_argument("--tasks", type=int, default=8)
    ARGS = ap.parse_args()
    r = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite(
        [Soak("test_redis_stays_flat_while_executors_restart")]))
    sys.exit(0 if r.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
