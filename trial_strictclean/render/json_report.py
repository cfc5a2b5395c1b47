"""
The JSON report, schema ``trial-strictclean/2``: every test of the run once,
with its outcome and the leftovers it was failed for.

The schema ships as ``trial_strictclean/schema/trial-strictclean-2.json``;
a field is only ever added to it under a new schema name (/2 added
``after`` and ``group``; the /1 schema ships beside it for older reports).
"""

from __future__ import annotations

import json
import os
from collections import Counter

from ..core.findings import Finding, Site
from ..core.outcomes import OUTCOMES, TestRecord

SCHEMA = "trial-strictclean/2"
SCHEMA_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schema", "trial-strictclean-2.json"
)


def _site(site: Site | None) -> dict | None:
    if site is None:
        return None
    return {"file": site.file, "line": site.line, "function": site.function, "code": site.code}


def finding_dict(finding: Finding) -> dict:
    return {
        "kind": finding.kind,
        "side": finding.side,
        "state": finding.state,
        "resource": finding.resource,
        "created": _site(finding.created),
        "closed": _site(finding.closed),
        "wait_for": finding.wait_for,
        "fix": finding.fix,
        "message": finding.message,
        "after": finding.after,
        "group": finding.group,
    }


def report(records: list[TestRecord]) -> dict:
    """The whole report as plain data."""
    kinds = Counter(f.kind for record in records for f in record.findings)
    outcomes = dict.fromkeys(OUTCOMES, 0)
    outcomes.update(Counter(record.outcome for record in records))
    return {
        "schema": SCHEMA,
        "tests": [
            {
                "id": record.id,
                "outcome": record.outcome,
                "duration": round(record.duration, 6),
                "findings": [finding_dict(f) for f in record.findings],
            }
            for record in records
        ],
        "summary": {
            "tests": len(records),
            "dirty_tests": sum(1 for record in records if record.findings),
            "findings_by_kind": dict(sorted(kinds.items())),
            "outcomes": outcomes,
        },
    }


def render(records: list[TestRecord]) -> str:
    return json.dumps(report(records), indent=2, ensure_ascii=False) + "\n"
