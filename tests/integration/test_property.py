"""The property test over ordinary operations (tests/chaos/property.py), short
form for `make test`: about 55 s of random pause, resume, label-only edit,
trigger, delete, run-now, one-time creates and kill -9 / SIGTERM of a
scheduler or executor, on a fleet of 2 schedulers and 2 executors with skewed
host clocks, then every occurrence is checked against the actions' ledger.
DTS_PROPERTY_SEED replays a seed; the long form is `make property`."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chaos"))

from property import PropertyCase  # noqa: E402


class PropertyShortTest(PropertyCase):
    seconds = 55

    def test_no_occurrence_lost_doubled_early_or_overlapped_under_operations(self):
        seed = os.environ.get("DTS_PROPERTY_SEED")
        self.run_property(seed=int(seed) if seed else None)


if __name__ == "__main__":
    unittest.main()
