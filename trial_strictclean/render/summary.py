"""
The end of the text output: how many tests left the reactor dirty, where
the leftovers were created (one entry per creation site, whatever the size
of the suite), findings per kind, what was ignored, what the baseline kept,
which ignore rules and baseline entries are stale, and where the reports
were written.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..core.findings import Finding
from ..core.ignore import Ignored
from .text import WIDTH, items, render, run_level_headline, wrap

if TYPE_CHECKING:
    # Named in annotations only: a summary of a run without a baseline
    # does not import core/baseline.py (each module costs the run its
    # import: docs/internals.rst, "Cost of capture").
    from ..core.baseline import Entry
    from ..core.outcomes import TestRecord

# Creation sites listed; the rest are counted on one line.
MAX_SITES = 8


def _counts(counter: Counter) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items()))


def _site(finding: Finding) -> str:
    if finding.created is None:
        return "(no line of the tests' code was on the stack)"
    return f"{finding.created.location()} in {finding.created.function}"


def by_site(records: list[TestRecord]) -> list[tuple[str, str, list[str]]]:
    """(site, kind, ids of the tests that left it), most tests first."""
    tests: dict[tuple[str, str], set[str]] = {}
    for record in records:
        for parts in items([f for f in record.findings if not f.baseline]):
            lead = parts[0][0]
            tests.setdefault((_site(lead), lead.kind), set()).add(record.id)
    ordered = sorted(tests.items(), key=lambda pair: (-len(pair[1]), pair[0]))
    return [(site, kind, sorted(ids)) for (site, kind), ids in ordered]


def _first_ids(ids: list[str], room: int) -> list[str]:
    """As many test ids as fit in ``room`` columns, at least one."""
    shown: list[str] = []
    for test_id in ids:
        if shown and len(", ".join([*shown, test_id])) > room:
            break
        shown.append(test_id)
    return shown


def render_summary(
    records: list[TestRecord],
    ignored: list[Ignored],
    stale: list[str],
    written: list[tuple[str, str]],
    width: int = WIDTH,
    stale_baseline: list[Entry] = (),
    stale_fails: bool = False,
    run_level: list = (),
    run_level_fails: bool = True,
    not_theirs: int = 0,
    interrupted: list[str] | None = None,
) -> str:
    """
    The summary's text; ``interrupted``, if the run was interrupted
    (Ctrl-C), lists the tests it stopped.
    """
    dirty = [record for record in records if record.dirty]
    known = [item for item in ignored if item.finding.baseline]
    ignored = [item for item in ignored if not item.finding.baseline]
    if not (dirty or ignored or known or stale or stale_baseline or written or run_level or not_theirs or interrupted is not None):
        return ""
    out = ["", "trial-strictclean summary"]
    if interrupted is not None:
        stopped = ", ".join(interrupted) if interrupted else "none (no test's own code was running)"
        out += wrap(
            f"run interrupted (Ctrl-C): the tests that had not started did not run; interrupted: {stopped}",
            width,
            "  ",
            "    ",
        )
    if dirty:
        out.append(f"  tests left dirty: {len(dirty)}")
        sites = by_site(dirty)
        out.append("  where the leftovers were created (line: kind, tests):")
        for site, kind, ids in sites[:MAX_SITES]:
            shown = _first_ids(ids, width - 6)
            noun = "test" if len(ids) == 1 else "tests"
            more = f" ({len(ids) - len(shown)} not listed)" if len(ids) > len(shown) else ""
            out.append(f"    {site}: {kind}, {len(ids)} {noun}{more}")
            out.append("      " + ", ".join(shown))
        if len(sites) > MAX_SITES:
            rest = sites[MAX_SITES:]
            tests = len({test_id for _, _, ids in rest for test_id in ids})
            out.append(f"    and {len(rest)} more sites, in {tests} tests (their blocks are above)")
        new = Counter(f.kind for r in dirty for f in r.findings if not f.baseline)
        out += wrap("findings: " + _counts(new), width, "  ", "    ")
    else:
        out.append("  tests left dirty: none")
    fresh = [f for f in run_level if not f.baseline]
    if fresh:
        effect = "it fails the run: end-of-run = 'fail'" if run_level_fails else "reported only: end-of-run = 'report'"
        out += wrap(
            f"left at the end of the run, on no test: {len(fresh)} ({_counts(Counter(f.kind for f in fresh))}; "
            f"{effect}; the block above)",
            width,
            "  ",
            "    ",
        )
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
    if not_theirs:
        noun = "leftover" if not_theirs == 1 else "leftovers"
        out += wrap(
            f"not blamed: {not_theirs} {noun} the reactor made, while a test ran, for work begun "
            "before it (a re-armed timer, an older connection, an earlier test's thread work)",
            width,
            "  ",
            "    ",
        )
    for label, path in written:
        out.append(f"  {label} written to {path}")
    return "\n".join(out) + "\n"


def render_run_level(findings: list, root: str = "", color: bool = False, width: int = WIDTH) -> str:
    """The block for what outlived every test, printed once before the summary."""
    if all(f.baseline for f in findings):
        return ""  # all known: the summary lists them, as for tests
    return "\n" + render(findings, root, color, width, head=run_level_headline(findings))
