"""
What the checks for threads, asyncio tasks and handles, system event
triggers and log observers (issue 13) add to a clean test.

Each run, in a fresh interpreter with capture installed, judges ``--tests``
empty tests through the real session, each wrapped as Trial wraps a test
(Trial adds its log observer before the test and removes it after, through
``twisted.python.log``, which our observer hook sees every time):
``sync`` as after a ``SynchronousTestCase`` (look, no spin), ``async`` as
after a ``TestCase`` (look, spin twice, clean up).  Runs with the new
checks (B) and without them (A: their four hooks unwrapped, the snapshot
and the look without them) alternate over several pairs, because shared
machines are noisy; the median of the per-pair differences B - A is
printed for each path.  Target: at most 20 µs per test.

    python benchmarks/more_kinds.py [--pairs 7] [--tests 3000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

_CHILD = r"""
import sys, time
from trial_strictclean.core import capture, inspection
capture.install()
from twisted.internet import reactor
from trial_strictclean.core.session import Session

tests, spin, checks = int(sys.argv[1]), sys.argv[2] == "async", sys.argv[3] == "with"
if not checks:
    import asyncio, threading
    from twisted.internet.base import ReactorBase
    from twisted.logger import LogPublisher
    for owner, name in (
        (threading.Thread, "start"),
        (ReactorBase, "addSystemEventTrigger"),
        (LogPublisher, "addObserver"),
        (asyncio.BaseEventLoop, "call_soon"),
        (asyncio.BaseEventLoop, "call_later"),
        (asyncio.BaseEventLoop, "call_at"),
        (asyncio.BaseEventLoop, "create_task"),
    ):
        setattr(owner, name, getattr(owner, name).__wrapped__)
    inspection._forget_others = lambda: None
    inspection._others_left = lambda reactor, left: None

# Trial's own per-test observer, added and removed around every test.
from twisted.trial._synctest import _logObserver

class Test:
    def id(self):
        return "bench.Test.test"

class Result:
    def addError(self, test, error):
        raise AssertionError("an empty test was found dirty")

session = Session("", warn=print)
result = Result()
judge = (lambda t: session.judge(t, result, spin_after=True)) if spin else (lambda t: session.judge(t, result))

def batch():
    began = time.perf_counter()
    for _ in range(tests):
        test = Test()
        session.start(test)
        _logObserver._add()
        judge(test)
        _logObserver._remove()
        session.stop(test)
    return (time.perf_counter() - began) / tests * 1e6

# The best of five batches: the least disturbed by the rest of the machine.
print(min(batch() for _ in range(5)))
"""


def _run(tests: int, path: str, checks: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tests), path, checks],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.split()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--tests", type=int, default=3000)
    args = parser.parse_args(argv)
    for path in ("sync", "async"):
        added = []
        for pair in range(args.pairs):
            a = _run(args.tests, path, "without")
            b = _run(args.tests, path, "with")
            added.append(b - a)
            print(f"{path} pair {pair + 1}: without {a:.1f} µs/test, with {b:.1f} µs/test, added {b - a:+.2f} µs")
        print(f"{path}: median added {statistics.median(added):+.2f} µs per clean test over {args.pairs} pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
