"""Runs a few integration tests with the api and executor under valgrind's
memcheck (DTS_BIN=tests/chaos/memcheck.sh), stopping every process with
SIGTERM so that memcheck writes its leak summary, then sums up the reports.

    DTS_REAL_BIN=build/dts DTS_BIN=tests/chaos/memcheck.sh python3 tests/chaos/memcheck.py
"""
import glob
import os
import re
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import dtstest  # noqa: E402

# Valgrind is slow to start: give the harness's waits more time.
_wait_for = dtstest.wait_for
dtstest.wait_for = lambda cond, timeout=10.0, **kw: _wait_for(cond, timeout=max(timeout, 60.0), **kw)

import test_api  # noqa: E402
import test_executor_policies  # noqa: E402


def graceful(cls):
    class Graceful(cls):
        def tearDown(self):
            for p in self.procs:
                p.stop(signal.SIGTERM, timeout=90)
            super().tearDown()
    Graceful.__name__ = cls.__name__
    return Graceful


def main():
    names = sys.argv[1:] or ["test_api", "test_executor_policies"]
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for mod in (test_api, test_executor_policies):
        if mod.__name__ not in names:
            continue
        for name in dir(mod):
            obj = getattr(mod, name)
            if isinstance(obj, type) and issubclass(obj, dtstest.DtsCase) and obj is not dtstest.DtsCase:
                suite.addTests(loader.loadTestsFromTestCase(graceful(obj)))
    unittest.TextTestRunner(verbosity=1).run(suite)
    d = os.environ.get("DTS_MEMCHECK_DIR", "/tmp/dts-memcheck")
    errors = leaks = 0
    for f in sorted(glob.glob(os.path.join(d, "*.log"))):
        text = open(f).read()
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        if m is None:
            continue  # a forked action child (silent after fork) or a process killed with SIGKILL
        lost = re.search(r"definitely lost: ([\d,]+) bytes", text)
        e = int(m.group(1)) if m else -1
        dl = int(lost.group(1).replace(",", "")) if lost else 0
        errors += max(e, 0)
        leaks += dl
        if e != 0 or dl:
            print(f"{os.path.basename(f)}: {e} errors, {dl} bytes definitely lost")
    n = sum(1 for f in glob.glob(os.path.join(d, "*.log")) if "ERROR SUMMARY" in open(f).read())
    print(f"memcheck: {n} processes, {errors} errors, {leaks} bytes definitely lost")
    sys.exit(1 if errors or leaks else 0)


if __name__ == "__main__":
    main()
