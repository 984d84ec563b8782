"""A Redis crash with `appendfsync everysec` (what `dts up` runs): redis-server
is killed with kill -9 in the middle of a stream of creates while tasks run,
and restarted from its AOF. Every create acknowledged more than 2 s before the
kill is still there (the README's "What a Redis crash can lose"), every
acknowledged run-now task ran, and every recurring task's occurrences run
again after the restart."""
import threading
import time
import unittest

from dtstest import DtsCase, ledger_action, read_ledger, wait_for

ACK_WINDOW_MS = 2000  # everysec: at most about the last 2 s of acknowledged writes


class RedisCrashEverysecTest(DtsCase):
    appendfsync = "everysec"

    def status(self, tid):
        """GET's status for task TID, past the 503s of a reconnecting api."""
        return wait_for(lambda: (lambda st: st if st != 503 else None)(self.api.get(f"/api/v1/tasks/{tid}")[0]),
                        timeout=15, what="the api to reach Redis")

    def test_creates_acknowledged_before_the_last_seconds_survive_and_tasks_run_on(self):
        ledger = self.ledger_file()
        self.start_api()
        self.start("scheduler")
        self.start("executor", "--concurrency", "8", "--recovery-timeout-ms", "1000", "--run-as", "root")
        recurring = [self.create({"name": f"sec-{i}", "schedule": {"cron": "* * * * * *"},
                                  "action": ledger_action(ledger)})["id"] for i in range(3)]
        acked, stop = [], threading.Event()  # (answered ms, id, kind)

        def creates():
            n = 0
            while not stop.is_set():
                n += 1
                spec = {"name": f"c-{n}", "action": ledger_action(ledger)}
                try:
                    st, body, _ = self.api.post("/api/v1/tasks", spec)
                except OSError:
                    continue
                if st == 201:
                    acked.append((int(time.time() * 1000), body["id"]))

        loader = threading.Thread(target=creates, daemon=True)
        loader.start()
        began = int(time.time() * 1000)
        wait_for(lambda: len(acked) >= 60 and len(read_ledger(ledger)[0]) >= 20 and
                 int(time.time() * 1000) - began > 2 * ACK_WINDOW_MS, timeout=30,
                 what="a stream of acknowledged creates and runs")
        self.redis.proc.kill()
        self.redis.proc.wait()
        killed = int(time.time() * 1000)
        time.sleep(0.5)
        self.redis.start()  # replays the AOF
        restarted = int(time.time() * 1000)
        wait_for(lambda: len([a for a in acked if a[0] > restarted]) >= 5, timeout=30,
                 what="creates acknowledged after the restart")
        stop.set()
        loader.join(15)
        before = [tid for t, tid in acked if t < killed - ACK_WINDOW_MS]
        recent = [tid for t, tid in acked if killed - ACK_WINDOW_MS <= t <= killed]
        exists = {tid: self.status(tid) == 200 for tid in before + recent}
        lost = [tid for tid in before if not exists[tid]]
        self.assertEqual(lost, [], f"{len(lost)} of {len(before)} creates acknowledged more than "
                                   f"{ACK_WINDOW_MS} ms before the kill are gone")
        print(f"\nacknowledged creates: {len(before)} older than {ACK_WINDOW_MS} ms, all kept; "
              f"{len(recent)} in the last {ACK_WINDOW_MS} ms, {sum(exists[t] for t in recent)} kept")
        # Every stored run-now task runs (at least once); the recurring ones go on.
        stored = [tid for tid in before + recent if exists[tid]] + [tid for t, tid in acked if t > restarted]

        def all_ran():
            starts = read_ledger(ledger)[0]
            ran = {s["task"] for s in starts}
            after = {s["task"] for s in starts if s["sched"] > restarted}
            return set(stored) <= ran and set(recurring) <= after
        wait_for(all_ran, timeout=60, interval=0.5, what="every stored task to run after the restart")
        for p in self.procs:
            self.assertIsNone(p.proc.poll(), f"{p.name} died")


if __name__ == "__main__":
    unittest.main()
