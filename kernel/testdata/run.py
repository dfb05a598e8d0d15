"""Runs the integration suites (test_protocol, test_client, test_notebook,
test_readme)
against the installed unetlab kernel and ends with "N passed, N failed".

Usage: /usr/bin/python3 run.py [-k PATTERN]   (exit status 1 on any failure)
"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class CountingResult(unittest.TextTestResult):
    """Counts tests, not subtests: a test with a failing subtest failed."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.failed_ids = set()
        self.skipped_ids = set()
        self.started = {}

    def startTest(self, test):
        self.started[test.id()] = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        took = time.monotonic() - self.started.get(test.id(), time.monotonic())
        if took > 5:
            self.stream.write(f"    ({test.id()} took {took:.1f} s)\n")
        super().stopTest(test)

    def addFailure(self, test, err):
        self.failed_ids.add(test.id())
        super().addFailure(test, err)

    def addError(self, test, err):
        # setUpClass errors arrive with a _ErrorHolder, not a test.
        self.failed_ids.add(test.id() if hasattr(test, "id") else str(test))
        super().addError(test, err)

    def addSubTest(self, test, subtest, err):
        if err is not None and not issubclass(err[0], unittest.SkipTest):
            self.failed_ids.add(test.id())
        super().addSubTest(test, subtest, err)

    def addSkip(self, test, reason):
        self.skipped_ids.add(test.id())
        super().addSkip(test, reason)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=None, help="only tests matching this pattern")
    ap.add_argument("modules", nargs="*", default=["test_protocol", "test_client", "test_notebook", "test_readme"])
    args = ap.parse_args()
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in args.k]
    suite = unittest.TestSuite(loader.loadTestsFromName(m) for m in args.modules)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult, stream=sys.stdout)
    res = runner.run(suite)
    failed = len(res.failed_ids)
    skipped = len(res.skipped_ids - res.failed_ids)
    passed = res.testsRun - len(res.failed_ids & set(res.started)) - skipped
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    sys.exit(1 if failed or not res.testsRun else 0)


if __name__ == "__main__":
    main()
