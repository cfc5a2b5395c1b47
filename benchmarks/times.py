"""
Where B's extra time goes: per-module sums of per-test durations.

``compare.py --record DIR`` writes each run's test durations to
``DIR/pairN-A-times.json`` and ``DIR/pairN-B-times.json``; this prints the
test modules whose median B-A difference over the pairs is largest, so a
wall-time ratio can be traced to the tests that pay it before profiling.

    python benchmarks/times.py DIR [--top 25] [--depth 4]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
from collections import defaultdict


def _by_prefix(times: dict, depth: int) -> dict:
    sums: dict = defaultdict(float)
    for test_id, seconds in times.items():
        sums[".".join(test_id.split(".")[:depth])] += seconds
    return sums


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--depth", type=int, default=3, help="dotted name parts to group by (3: module)")
    args = parser.parse_args(argv)
    differences: dict = defaultdict(list)
    totals = []
    for a_path in sorted(glob.glob(os.path.join(args.folder, "pair*-A-times.json"))):
        b_path = a_path.replace("-A-times.json", "-B-times.json")
        if not os.path.exists(b_path):
            continue
        with open(a_path) as f:
            a = _by_prefix(json.load(f), args.depth)
        with open(b_path) as f:
            b = _by_prefix(json.load(f), args.depth)
        totals.append((sum(a.values()), sum(b.values())))
        for name in set(a) | set(b):
            differences[name].append((a.get(name, 0.0), b.get(name, 0.0)))
    if not totals:
        raise SystemExit(f"no pair*-A-times.json with its B in {args.folder}")
    print(f"{len(totals)} pair(s); time inside tests, A and B: " + ", ".join(f"{a:.1f}s {b:.1f}s" for a, b in totals))
    rows = []
    for name, pairs in differences.items():
        median_a = statistics.median(a for a, _ in pairs)
        median_b = statistics.median(b for _, b in pairs)
        rows.append((statistics.median(b - a for a, b in pairs), median_a, median_b, name))
    rows.sort(reverse=True)
    print(f"{'B-A (median)':>12} {'A':>9} {'B':>9}  group")
    for extra, a, b, name in rows[: args.top]:
        print(f"{extra:+11.3f}s {a:8.3f}s {b:8.3f}s  {name}")
    print(f"sum of median differences: {sum(r[0] for r in rows):+.2f}s")


if __name__ == "__main__":
    main()
