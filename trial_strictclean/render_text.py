"""
The text block a person reads for a dirty test: a headline, then each
leftover with the code that created it, where it was asked to close, what
to wait for and what to change.
"""

from __future__ import annotations

import linecache
import os
from collections import Counter

from .findings import Finding, Site

_RESET = "\x1b[0m"
_STYLES = {
    "headline": "\x1b[1;31m",
    "kind": "\x1b[1;33m",
    "label": "\x1b[2m",
    "marker": "\x1b[1;31m",
    "fix": "\x1b[32m",
}

_LABEL_WIDTH = 9


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        if not self.color:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


def headline(findings: list[Finding]) -> str:
    """One line naming what a test left: 'left the reactor dirty: ...'."""
    counts = Counter(
        f"{f.kind} ({f.side})" if f.side else f.kind for f in findings
    )
    parts = [f"{n} x {k}" if n > 1 else k for k, n in counts.items()]
    noun = "thing" if len(findings) == 1 else "things"
    return f"Reactor left dirty: {len(findings)} {noun} still there: {', '.join(parts)}"


def code_frame(site: Site, root: str = "", context: int = 1) -> list[str]:
    """The site's line with ``context`` lines around it, the line marked."""
    path = site.file if os.path.isabs(site.file) else os.path.join(root, site.file)
    lines = []
    first = max(1, site.line - context)
    width = len(str(site.line + context))
    for number in range(first, site.line + context + 1):
        text = linecache.getline(path, number).rstrip("\n")
        if not text and number != site.line:
            continue
        if number == site.line and not text:
            text = site.code or ""
        mark = ">" if number == site.line else " "
        lines.append(f"{mark} {number:>{width}} | {text}")
    return lines


def _site_lines(paint, label: str, site: Site, root: str, frame: bool) -> list[str]:
    where = f"{site.location()} in {site.function}"
    out = [f"{paint('label', label.ljust(_LABEL_WIDTH))}{where}"]
    if frame:
        for line in code_frame(site, root):
            if line.startswith(">"):
                line = paint("marker", ">") + line[1:]
            out.append(" " * _LABEL_WIDTH + line)
    elif site.code:
        out.append(" " * _LABEL_WIDTH + "> " + site.code)
    return out


def render_finding(finding: Finding, number: int, root: str = "", color: bool = False) -> str:
    paint = _Painter(color)
    side = f" ({finding.side})" if finding.side else ""
    lines = [f"{number}. {paint('kind', finding.kind + side)}: {finding.resource}"]
    indent = " " * 3
    body = [finding.message]
    if finding.created:
        body += _site_lines(paint, "created", finding.created, root, frame=True)
        for caller in finding.callers:
            body.append(f"{paint('label', 'called'.ljust(_LABEL_WIDTH))}from {caller.location()} in {caller.function}")
    else:
        body.append(f"{paint('label', 'created'.ljust(_LABEL_WIDTH))}(no line of the test's code was on the stack)")
    if finding.closed:
        body += _site_lines(paint, "closed", finding.closed, root, frame=False)
    if finding.wait_for:
        body.append(f"{paint('label', 'wait for'.ljust(_LABEL_WIDTH))}{finding.wait_for}")
    if finding.fix:
        body.append(f"{paint('label', 'fix'.ljust(_LABEL_WIDTH))}{paint('fix', finding.fix)}")
    lines += [indent + line for line in body]
    return "\n".join(lines)


def render(findings: list[Finding], root: str = "", color: bool = False) -> str:
    """The whole block for one dirty test."""
    paint = _Painter(color)
    out = [paint("headline", headline(findings)), ""]
    group = None
    for number, finding in enumerate(findings, 1):
        if group is not None and finding.group != group:
            out.append("")
        group = finding.group
        out.append(render_finding(finding, number, root, color))
    return "\n".join(out) + "\n"
