"""
The end of the text output: which tests left the reactor dirty, findings
per kind, what was ignored, what the baseline kept, which ignore rules and
baseline entries are stale, and where the reports were written.
"""

from __future__ import annotations

from collections import Counter

from ..core.baseline import Entry
from ..core.ignore import Ignored
from ..core.outcomes import TestRecord


def _counts(counter: Counter) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items()))


def render_summary(
    records: list[TestRecord],
    ignored: list[Ignored],
    stale: list[str],
    written: list[tuple[str, str]],
    stale_baseline: list[Entry] = (),
    stale_fails: bool = False,
) -> str:
    dirty = [record for record in records if record.dirty]
    known = [item for item in ignored if item.finding.baseline]
    ignored = [item for item in ignored if not item.finding.baseline]
    if not (dirty or ignored or known or stale or stale_baseline or written):
        return ""
    out = ["", "trial-strictclean summary"]
    if dirty:
        out.append(f"  tests left dirty: {len(dirty)}")
        out += [f"    {record.id}" for record in dirty]
        new = Counter(f.kind for r in dirty for f in r.findings if not f.baseline)
        out.append("  findings: " + _counts(new))
    else:
        out.append("  tests left dirty: none")
    if known:
        out.append(
            f"  known, kept by the baseline (not failing their tests): {len(known)} "
            f"({_counts(Counter(i.finding.kind for i in known))})"
        )
        for item in known:
            site = item.finding.created
            where = f"{site.location()} in {site.function}" if site else "(no creation site)"
            out.append(f"    {item.test_id}: {item.finding.kind} at {where}")
    if ignored:
        out.append(f"  ignored: {len(ignored)} ({_counts(Counter(i.finding.kind for i in ignored))})")
        for by, n in Counter(i.by for i in ignored).items():
            out.append(f"    {n} by {by}")
    if stale:
        out.append(f"  stale ignore rules (matched nothing in this run): {len(stale)}")
        out += [f"    {rule}" for rule in stale]
    if stale_baseline:
        effect = "they fail the run: baseline-stale = 'fail'" if stale_fails else "delete them from the baseline"
        out.append(f"  stale baseline entries (their test ran, the leftover did not occur; {effect}): {len(stale_baseline)}")
        out += [f"    stale: {entry.describe()}" for entry in stale_baseline]
    for label, path in written:
        out.append(f"  {label} written to {path}")
    return "\n".join(out) + "\n"
