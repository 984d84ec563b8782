"""The chaos suite's short form (tests/chaos/chaos.py), for `make test`: about
15 s of random kill -9s of api, scheduler and executor processes, then a Redis
kill -9 and AOF restart, a stale executor (SIGSTOP past the recovery timeout,
then SIGCONT) and a scheduler cut off from Redis; then every occurrence is
checked against the ledger and the run history. About 45 s in all; the long
form is `make chaos`."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chaos"))

from chaos import ChaosCase  # noqa: E402


class ChaosShortTest(ChaosCase):
    kill_seconds = 15

    def test_guarantees_hold_under_kills_restarts_stops_and_a_partition(self):
        self.run_chaos(recurring=8, seed=int(os.environ.get("DTS_CHAOS_SEED", "0")) or None)


if __name__ == "__main__":
    unittest.main()
