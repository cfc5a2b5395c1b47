"""
What judging one test costs when the reactor keeps many calls pending
from before it (issue 18: it used to grow with their number).

Each run, in a fresh interpreter with capture installed, schedules
``--pending`` calls an hour away (as a suite of synchronous tests leaves
them: nothing cleans up after those), then judges ``--tests`` empty tests
through the real session, each making and cancelling one call:
``sync`` as after a ``SynchronousTestCase`` (look, no spin), ``async`` as
after a ``TestCase`` (look, spin twice, clean up).  Runs with none pending
(A) and with ``--pending`` (B) alternate over several pairs, because shared
machines are noisy; the median of the per-pair ratios B/A is printed for
each path.  Target: within 1.10.

    python benchmarks/pending.py [--pairs 7] [--tests 2000] [--pending 10000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

_CHILD = r"""
import sys, time
from trial_strictclean.core import capture
capture.install()
from twisted.internet import reactor
from trial_strictclean.core.session import Session

pending, tests, spin = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "async"
for _ in range(pending):
    reactor.callLater(3600, lambda: None)

class Test:
    def id(self):
        return "bench.Test.test"

class Result:
    def addError(self, test, error):
        raise AssertionError("an empty test was found dirty")

session = Session("", warn=print)
result = Result()
# Earlier releases judged without spinning (their glue spun).
judge = (lambda t: session.judge(t, result, spin_after=spin)) if spin else (lambda t: session.judge(t, result))

def batch():
    began = time.perf_counter()
    for _ in range(tests):
        test = Test()
        session.start(test)
        reactor.callLater(1, lambda: None).cancel()
        judge(test)
        session.stop(test)
    return (time.perf_counter() - began) / tests * 1e6

# The best of five batches: the least disturbed by the rest of the machine.
print(min(batch() for _ in range(5)))
"""


def _run(pending: int, tests: int, path: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(pending), str(tests), path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.split()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--pending", type=int, default=10000)
    args = parser.parse_args(argv)
    for path in ("sync", "async"):
        ratios = []
        for pair in range(args.pairs):
            a = _run(0, args.tests, path)
            b = _run(args.pending, args.tests, path)
            ratios.append(b / a)
            print(f"{path} pair {pair + 1}: none {a:.1f} µs/test, {args.pending} pending {b:.1f} µs/test, ratio {b / a:.3f}")
        print(f"{path}: median ratio {statistics.median(ratios):.3f} over {args.pairs} pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
