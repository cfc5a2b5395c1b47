"""
The text block a person reads for a dirty test: a headline, then each
leftover with the code that created it, where it was asked to close, what
to wait for and what to change.
"""

from __future__ import annotations

import linecache
import os
from collections import Counter

from ..core.findings import Finding, Site

_RESET = "\x1b[0m"
_STYLES = {
    "headline": "\x1b[1;31m",
    "kind": "\x1b[1;33m",
    "label": "\x1b[2m",
    "marker": "\x1b[1;31m",
    "fix": "\x1b[32m",
}

_LABEL_WIDTH = 10
_INDENT = "   "


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        if not self.color:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


def headline(findings: list[Finding]) -> str:
    """One line naming what a test left, by kind."""
    # Known ones (the baseline's) are listed, but are not what fails it.
    new = [f for f in findings if not f.baseline]
    known = len(findings) - len(new) if new else 0
    findings = new or findings
    counts = Counter(f"{f.kind} ({f.side})" if f.side else f.kind for f in findings)
    parts = [f"{n} x {k}" if n > 1 else k for k, n in counts.items()]
    noun = "leftover" if len(findings) == 1 else "leftovers"
    also = f" ({known} more kept by the baseline)" if known else ""
    return (
        f"This test left the reactor dirty ({len(findings)} {noun}: "
        f"{', '.join(parts)}); it must wait for or close each one before it ends.{also}"
    )


def code_frame(site: Site, root: str = "", context: int = 1) -> list[str]:
    """The site's line with ``context`` lines around it, the line marked."""
    path = site.file if os.path.isabs(site.file) else os.path.join(root, site.file)
    numbers = range(max(1, site.line - context), site.line + context + 1)
    width = len(str(numbers[-1]))
    lines = []
    for number in numbers:
        text = linecache.getline(path, number).rstrip()
        if number == site.line:
            text = text or site.code or ""
        elif not text.strip():
            continue
        mark = ">" if number == site.line else " "
        lines.append(f"{mark} {number:>{width}} | {text}")
    return lines


def _label(paint, name: str) -> str:
    return paint("label", name.ljust(_LABEL_WIDTH))


def _site_lines(paint, label: str, site: Site, root: str, context: int) -> list[str]:
    out = [f"{_label(paint, label)}{site.location()} in {site.function}"]
    for line in code_frame(site, root, context):
        if line.startswith(">"):
            line = paint("marker", ">") + line[1:]
        out.append(" " * _LABEL_WIDTH + line)
    return out


def render_finding(finding: Finding, number: int, root: str = "", color: bool = False) -> str:
    """One numbered finding: what, where created and closed, what to do."""
    paint = _Painter(color)
    side = f" ({finding.side})" if finding.side else ""
    lines = [f"{number}. {paint('kind', finding.kind + side)}: {finding.resource}"]
    body = [finding.detail or finding.message]
    if finding.created:
        body += _site_lines(paint, "created", finding.created, root, context=1)
        for caller in finding.callers:
            body.append(f"{_label(paint, 'called')}from {caller.location()} in {caller.function}")
    else:
        body.append(f"{_label(paint, 'created')}(no line of the test's code was on the stack)")
    if finding.closed:
        body += _site_lines(paint, "closed", finding.closed, root, context=0)
    if finding.wait_for:
        body.append(f"{_label(paint, 'wait for')}{finding.wait_for}")
    if finding.fix:
        body.append(f"{_label(paint, 'fix')}{paint('fix', finding.fix)}")
    if finding.after:
        body.append(f"{_label(paint, 'after')}{finding.after}")
    if finding.baseline:
        body.append(f"{_label(paint, 'baseline')}known: kept by the baseline, so it does not fail the test")
    lines += [_INDENT + line for line in body]
    return "\n".join(lines)


def render(findings: list[Finding], root: str = "", color: bool = False) -> str:
    """The whole block for one dirty test, related findings side by side."""
    paint = _Painter(color)
    out = [paint("headline", headline(findings))]
    group = None
    for number, finding in enumerate(findings, 1):
        if finding.group != group:
            out.append("")
        group = finding.group
        out.append(render_finding(finding, number, root, color))
    return "\n".join(out) + "\n"


def render_suspension(suspension, root: str = "") -> str:
    """Where a timed-out test was waiting: its frames, innermost first."""
    if not suspension.frames and not suspension.waiting_on:
        return ""
    paint = _Painter(False)
    out = ["It was waiting here (innermost first):"]
    for site in suspension.frames:
        out += [_INDENT + line for line in _site_lines(paint, "at", site, root, context=0)]
    if suspension.waiting_on:
        out.append(f"{_INDENT}{_label(paint, 'on')}{suspension.waiting_on}")
    return "\n".join(out)
