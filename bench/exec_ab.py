#!/usr/bin/env python3
"""bench/exec_ab.py: the execution path alone, for A/B runs of two builds.

Seeds N no-op one-time tasks due now on a private redis-server, lets a
scheduler dispatch them all, then starts two executors (--concurrency C
each) and times until every run has completed. Prints the wall time and the
CPU per run of Redis and of the executors. Run two builds interleaved (the
machine's load moves between runs more than most changes do):

    for i in 1 2 3; do for b in /path/to/old/build build-bench; do
        BUILD=$b bench/exec_ab.py 50000; done; done

Environment: BUILD (default build-bench, a Release build with dts and
bench/dtsbench), CONC (default 32). Loopback only."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../tests/lib"))
from dtstest import Redis  # noqa: E402


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().split(")")[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    build = os.environ.get("BUILD", "build-bench")
    conc = os.environ.get("CONC", "32")
    dts, db = os.path.join(build, "dts"), os.path.join(build, "bench", "dtsbench")
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory(prefix="dts-ab-") as tmp:
        redis = Redis(tmp)
        procs = []
        try:
            port = str(redis.port)
            subprocess.run([db, "seed", "127.0.0.1", port, str(n), str(int(time.time() * 1000)), "0", "at-noop"],
                           check=True, stdout=subprocess.DEVNULL)
            procs.append(subprocess.Popen([dts, "scheduler", "--redis", redis.url, "--log-level", "warn"],
                                          stderr=subprocess.DEVNULL))
            subprocess.run([db, "watch", "127.0.0.1", port, "dts", "16", str(-n), str(int(time.time() * 1000)),
                            "300", os.path.join(tmp, "dispatch.txt")], check=True, stdout=subprocess.DEVNULL)
            r0 = cpu_ticks(redis.proc.pid)
            t0 = time.time()
            execs = [subprocess.Popen([dts, "executor", "--redis", redis.url, "--log-level", "warn",
                                       "--concurrency", conc], stderr=subprocess.DEVNULL) for _ in range(2)]
            procs += execs
            subprocess.run([db, "watch", "127.0.0.1", port, "dts", "16", str(n), str(int(t0 * 1000)), "300",
                            os.path.join(tmp, "execute.txt")], check=True, stdout=subprocess.DEVNULL)
            wall = time.time() - t0
            redis_us = (cpu_ticks(redis.proc.pid) - r0) * tick_us / n
            exec_us = sum(cpu_ticks(e.pid) for e in execs) * tick_us / n
            print(f"{build}: {n} runs in {wall:.2f} s ({n / wall:.0f}/s); CPU per run: "
                  f"redis {redis_us:.1f} us, executors {exec_us:.1f} us")
        finally:
            for p in procs:
                p.kill()
                p.wait()
            redis.stop()


if __name__ == "__main__":
    main()
