"""
What trial-strictclean's capture adds to each ``reactor.callLater``.

Times ``reactor.callLater(...)`` plus ``cancel()`` without (A) and with (B)
``trial_strictclean.core.capture.install()``, each run in a fresh interpreter,
A and B alternated over several pairs because shared machines are noisy.
Prints each pair and the median of the differences, in microseconds per
call.  Budget (issue 3): at most 2 µs median added.

Four call sites are measured: ``user`` (the call is made directly by user
code: capture stops at the first frame), ``helper`` (user code calls
library code that calls ``callLater`` 4 library frames down, as when a test
calls an endpoint or a protocol: the walks capture makes in Twisted's own
TCP/TLS/web tests average 3.1 frames), ``dispatched`` (library code the
reactor runs, as Twisted's own protocols do: capture stops at the reactor's
dispatch frame) and ``library`` (library code 30 frames deep with no user
frame and no dispatch frame in reach: capture walks as far as it looks and
finds nothing, its worst case; no walk in that slice went past 23 frames).

    python benchmarks/calllater.py [--pairs 9] [--calls 200000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import os, sys, time
if sys.argv[1] == "B":
    from trial_strictclean.core import capture
    capture.install()
from twisted.internet import reactor

calls = int(sys.argv[2])
site = sys.argv[3]

def nothing():
    pass

def loop(n):
    later = reactor.callLater
    for _ in range(n):
        later(60, nothing).cancel()

def as_library(source):
    # Compiled under a file name inside Twisted, the code counts as library.
    import twisted
    library_file = os.path.join(os.path.dirname(twisted.__file__), "internet", "_bench_.py")
    namespace = {"reactor": reactor, "nothing": nothing}
    exec(compile(source, library_file, "exec"), namespace)
    return namespace

LIBRARY_LOOP = (
    "def loop(n):\n"
    "    later = reactor.callLater\n"
    "    for _ in range(n):\n"
    "        later(60, nothing).cancel()\n"
    "def deep(depth, n):\n"
    "    return loop(n) if depth == 0 else deep(depth - 1, n)\n"
)

if site == "helper":
    # User code (this file) calling into library code: loop and three
    # frames of deep() are walked before the user frame is found.
    library = as_library(LIBRARY_LOOP)
    run = lambda n: library["deep"](2, n)
elif site == "library":
    # The same loop as library code, called through a deep chain of such
    # frames with no user frame and no reactor dispatch frame in reach.
    library = as_library(LIBRARY_LOOP)
    run = lambda n: library["deep"](30, n)
elif site == "dispatched":
    # Library code the reactor runs from a delayed call, as when a protocol
    # inside Twisted schedules a timeout: no user frame anywhere, but the
    # walk stops at the reactor's dispatch frame instead of climbing to main.
    library = as_library(LIBRARY_LOOP)

    def run(n):
        # Deep below the benchmark's own frames, like a reactor run under
        # Trial: runUntilCurrent is the boundary capture stops at.
        def deep(depth):
            if depth:
                return deep(depth - 1)
            reactor.callLater(0, library["loop"], n)
            reactor.runUntilCurrent()
        deep(25)
else:
    run = loop

def batches(n, size=1000):
    # A running reactor drops cancelled calls on each iteration; without
    # that they pile up in its list of new calls and the garbage collector's
    # work, not callLater, dominates the timing.
    for _ in range(n // size):
        run(size)
        reactor.runUntilCurrent()

batches(calls // 10)  # warm up caches
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    batches(calls)
    best = min(best, time.perf_counter() - start)
print(best / calls * 1e6)
"""


def _measure(variant: str, calls: int, site: str) -> float:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, variant, str(calls), site],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--calls", type=int, default=50_000)
    args = parser.parse_args()
    for site in ("user", "helper", "dispatched", "library"):
        differences = []
        print(f"{site} call site: µs per callLater+cancel")
        for pair in range(args.pairs):
            # Alternate which variant goes first, so drift hits both alike.
            order = ("A", "B") if pair % 2 == 0 else ("B", "A")
            times = {v: _measure(v, args.calls, site) for v in order}
            differences.append(times["B"] - times["A"])
            print(f"  pair {pair + 1}: without {times['A']:.3f}  with {times['B']:.3f}  added {differences[-1]:+.3f}")
        print(f"  median added: {statistics.median(differences):+.3f} µs per call\n")


if __name__ == "__main__":
    main()
