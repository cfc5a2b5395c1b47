"""
Compare two runs test by test: the outcomes ``_trialchild.py`` recorded
(``BENCH_RECORD``) for stock trial (A) and for ``--reporter=strictclean``
(B), with the findings from B's JSON report (``TRIAL_STRICTCLEAN_JSON``).

    python benchmarks/outcomes.py A_EVENTS B_EVENTS [B_JSON]

A test's outcome is the worst of what its reporter received: error >
failure > unexpected-success > passed > expected-failure > skipped; stock
trial's own dirty-reactor error (DirtyReactorAggregateError) is shown as
such, since it arrives after a success.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

_RANK = {
    "addError": 5,
    "addFailure": 4,
    "addUnexpectedSuccess": 3,
    "addSuccess": 2,
    "addExpectedFailure": 1,
    "addSkip": 0,
}
_NAME = {
    "addError": "error",
    "addFailure": "failed",
    "addUnexpectedSuccess": "unexpected-success",
    "addSuccess": "passed",
    "addExpectedFailure": "expected-failure",
    "addSkip": "skipped",
}


def outcomes(path: str) -> dict:
    """Test id -> (outcome, sorted error/failure types)."""
    events = defaultdict(list)
    with open(path) as f:
        for test_id, event, detail in json.load(f):
            events[test_id].append((event, detail))
    result = {}
    for test_id, got in events.items():
        worst = max(got, key=lambda e: _RANK[e[0]])[0]
        details = sorted({d for e, d in got if d})
        result[test_id] = (_NAME[worst], tuple(details))
    return result


def findings(path: str | None) -> dict:
    if not path:
        return {}
    with open(path) as f:
        report = json.load(f)
    return {t["id"]: t["findings"] for t in report["tests"] if t["findings"]}


def differences(a: dict, b: dict, found: dict) -> list:
    rows = []
    for test_id in sorted(set(a) | set(b) | set(found)):
        oa, ob = a.get(test_id, ("absent", ())), b.get(test_id, ("absent", ()))
        if oa != ob or test_id in found:
            rows.append((test_id, oa, ob, found.get(test_id, [])))
    return rows


def main(argv=None) -> int:
    args = (argv if argv is not None else sys.argv)[1:]
    if len(args) not in (2, 3):
        print(__doc__)
        return 2
    a, b = outcomes(args[0]), outcomes(args[1])
    found = findings(args[2] if len(args) == 3 else None)
    rows = differences(a, b, found)
    same = sum(1 for t in set(a) & set(b) if a[t] == b[t])
    print(f"{len(a)} tests in A, {len(b)} in B; {same} with the same outcome; {len(rows)} to review")
    for test_id, oa, ob, fs in rows:
        print(f"{test_id}\n  stock: {oa[0]} {' '.join(oa[1])}\n  strictclean: {ob[0]} {' '.join(ob[1])}")
        for f in fs:
            created = f.get("created") or {}
            print(f"    {f['kind']} ({f['state']}): {f['resource']}  created {created.get('file')}:{created.get('line')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
