"""
The end of the text output: which tests left the reactor dirty, findings
per kind, what was ignored, which ignore rules are stale, and where the
reports were written.
"""

from __future__ import annotations

from collections import Counter

from ..core.ignore import Ignored
from ..core.outcomes import TestRecord
from .text import WIDTH, wrap


def _counts(counter: Counter) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items()))


def render_summary(records: list[TestRecord], ignored: list[Ignored], stale: list[str], written: list[tuple[str, str]]) -> str:
    dirty = [record for record in records if record.findings]
    if not (dirty or ignored or stale or written):
        return ""
    out = ["", "trial-strictclean summary"]
    if dirty:
        out.append(f"  tests left dirty: {len(dirty)}")
        out += [f"    {record.id}" for record in dirty]
        out += wrap("findings: " + _counts(Counter(f.kind for r in dirty for f in r.findings)), WIDTH, "  ", "    ")
    else:
        out.append("  tests left dirty: none")
    if ignored:
        out.append(f"  ignored: {len(ignored)} ({_counts(Counter(i.finding.kind for i in ignored))})")
        for by, n in Counter(i.by for i in ignored).items():
            out.append(f"    {n} by {by}")
    if stale:
        out.append(f"  stale ignore rules (matched nothing in this run): {len(stale)}")
        out += [f"    {rule}" for rule in stale]
    for label, path in written:
        out.append(f"  {label} written to {path}")
    return "\n".join(out) + "\n"
