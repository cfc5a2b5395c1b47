"""
The text block a person reads for a dirty test: a headline, then one
numbered item per root cause (a group of findings), with the code that
created it, where it was asked to close, what to wait for and one fix.

Prose wraps at ``width`` columns (80 unless the terminal is narrower); only
code frames and site lines (paths) may be longer.
"""

from __future__ import annotations

import linecache
import os
import re
import textwrap
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

WIDTH = 80
_LABEL_WIDTH = 10
_INDENT = "   "


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        if not self.color or not text:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


def wrap(text: str, width: int, first: str = "", rest: str | None = None) -> list[str]:
    """``text`` wrapped to ``width``; words (paths, dotted names) never split."""
    rest = first if rest is None else rest
    return textwrap.wrap(
        text, width=max(width, len(first) + 20, 20), initial_indent=first, subsequent_indent=rest,
        break_long_words=False, break_on_hyphens=False,
    ) or [first.rstrip()]


def _kind(finding: Finding) -> str:
    return f"{finding.kind} ({finding.side})" if finding.side else finding.kind


def items(findings: list[Finding]) -> list[list[list[Finding]]]:
    """
    Findings as items (one per group: one root cause), each a list of parts,
    each part the identical findings (same kind and creation site) it stands for.
    """
    groups: dict[int, list[Finding]] = {}
    for index, finding in enumerate(findings):
        groups.setdefault(finding.group or -1 - index, []).append(finding)
    result = []
    for members in groups.values():
        parts: dict[tuple, list[Finding]] = {}
        for index, finding in enumerate(members):
            key = (finding.kind, finding.side, finding.created) if finding.created else index
            parts.setdefault(key, []).append(finding)
        result.append(list(parts.values()))
    return result


def headline(findings: list[Finding]) -> str:
    """One line naming what a test left, by kind, counting root causes."""
    # Known ones (the baseline's) are listed, but are not what fails it.
    new = [f for f in findings if not f.baseline]
    known = len(findings) - len(new) if new else 0
    findings = new or findings
    counts = Counter(_kind(f) for f in findings)
    parts = [f"{n} x {k}" if n > 1 else k for k, n in counts.items()]
    noun = "leftover" if len(findings) == 1 else "leftovers"
    n_items = len(items(findings))
    what = f"{len(findings)} {noun}"
    if n_items != len(findings):
        what = f"{n_items} {'item' if n_items == 1 else 'items'}, {what}"
    also = f" ({known} more kept by the baseline)" if known else ""
    return (
        f"This test left the reactor dirty ({what}: "
        f"{', '.join(parts)}); it must wait for or close each one before it ends.{also}"
    )


def run_level_headline(findings: list[Finding]) -> str:
    """One line naming what outlived every test (Session.finish)."""
    counts = Counter(_kind(f) for f in findings if not f.baseline) or Counter(_kind(f) for f in findings)
    parts = [f"{n} x {k}" if n > 1 else k for k, n in counts.items()]
    n = sum(counts.values())
    return (
        f"Left in the reactor at the end of the run, on no test ({n} "
        f"{'leftover' if n == 1 else 'leftovers'}: {', '.join(parts)}): whatever "
        "started each one must stop it, and wait for that."
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


class _Block:
    """Lines of one item, labelled and wrapped."""

    def __init__(self, paint, root: str, width: int, indent: str = _INDENT) -> None:
        self.paint = paint
        self.root = root
        self.width = width
        self.indent = indent
        self.lines: list[str] = []

    def prose(self, text: str, label: str = "", style: str | None = None) -> None:
        pad = self.indent + (" " * _LABEL_WIDTH if label else "")
        for index, body in enumerate(wrap(text, self.width - len(pad))):
            if index == 0 and label:
                head = self.indent + self.paint("label", label.ljust(_LABEL_WIDTH))
            else:
                head = pad
            self.lines.append(head + (self.paint(style, body) if style else body))

    def site(self, label: str, site: Site, context: int) -> None:
        # A path may be longer than the width: it is never split.
        self.lines.append(
            f"{self.indent}{self.paint('label', label.ljust(_LABEL_WIDTH))}"
            f"{site.location()} in {site.function}"
        )
        for line in code_frame(site, self.root, context):
            if line.startswith(">"):
                line = self.paint("marker", ">") + line[1:]
            self.lines.append(self.indent + " " * _LABEL_WIDTH + line)

    def callers(self, finding: Finding) -> None:
        """The user's lines that led to the creation site: the test's, for a helper's."""
        for caller in finding.callers:
            self.lines.append(
                f"{self.indent}{self.paint('label', 'called'.ljust(_LABEL_WIDTH))}"
                f"from {caller.location()} in {caller.function}"
            )

    def sites(self, finding: Finding, closed: bool = True) -> None:
        if finding.created:
            self.site("created", finding.created, context=1)
            self.callers(finding)
        else:
            self.prose("(no line of the test's code was on the stack)", "created")
        if closed and finding.closed:
            self.site("closed", finding.closed, context=0)


def _times(part: list[Finding]) -> str:
    return f" (x {len(part)})" if len(part) > 1 else ""


def render_item(parts: list[list[Finding]], number: int, root: str = "", color: bool = False, width: int = WIDTH) -> str:
    """One numbered item: its lead finding, the other parts, one fix."""
    paint = _Painter(color)
    lead = parts[0][0]
    block = _Block(paint, root, width)
    title = wrap(f"{number}. {_kind(lead)}{_times(parts[0])}: {lead.resource}", width, "", _INDENT)
    # Colour the kind only: it is on the first line, after the number.
    prefix = f"{number}. "
    kind_text = _kind(lead) + _times(parts[0])
    title[0] = prefix + paint("kind", kind_text) + title[0][len(prefix) + len(kind_text):]
    block.prose(lead.detail or lead.message)
    block.sites(lead)
    if lead.wait_for:
        block.prose(lead.wait_for, "wait for")
    for part in parts[1:]:
        finding = part[0]
        block.prose(f"{_kind(finding)}{_times(part)}: {finding.resource}", "part")
        sub = _Block(paint, root, width, _INDENT + " " * _LABEL_WIDTH)
        sub.prose(finding.detail or finding.message)
        if finding.created is not None and finding.created != lead.created:
            sub.sites(finding)
        elif finding.closed and finding.closed != lead.closed:
            sub.site("closed", finding.closed, context=0)
        if finding.wait_for and finding.wait_for != lead.wait_for:
            sub.prose(finding.wait_for, "wait for")
        if finding.after and finding.after != lead.after:
            sub.prose(finding.after, "after")
        block.lines += sub.lines
    if lead.fix:
        block.prose(lead.fix, "fix", style="fix")
    if lead.after:
        block.prose(lead.after, "after")
    if lead.baseline:
        block.prose("known: kept by the baseline, so it does not fail the test", "baseline")
    return "\n".join(title + block.lines)


def render(findings: list[Finding], root: str = "", color: bool = False, width: int = WIDTH, head: str | None = None) -> str:
    """The whole block for one dirty test (or ``head``'s): one numbered item per root cause."""
    paint = _Painter(color)
    out = [paint("headline", line) for line in wrap(head or headline(findings), width)]
    for number, parts in enumerate(items(findings), 1):
        out.append("")
        out.append(render_item(parts, number, root, color, width))
    return "\n".join(out) + "\n"


_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\d+")


def signature(findings: list[Finding]) -> tuple | None:
    """
    What makes two tests' blocks the same story: each item's kinds,
    resources (numbers aside: ports, addresses) and creation sites, but not
    the test's own line that led there. None when a leftover has no site.
    """
    if any(f.created is None for f in findings):
        return None
    return tuple(
        tuple((p[0].kind, p[0].side, len(p), p[0].created, _NUMBERS.sub("N", p[0].resource)) for p in parts)
        for parts in items(findings)
    )


def render_repeat(findings: list[Finding], first: str, width: int = WIDTH, color: bool = False) -> str:
    """A short block for a test that left the same as an earlier one."""
    paint = _Painter(color)
    out = [paint("headline", line) for line in wrap(headline(findings), width)]
    for number, parts in enumerate(items(findings), 1):
        lead = parts[0][0]
        out.append("")
        out += wrap(f"{number}. {_kind(lead)}{_times(parts[0])}: {lead.resource}", width, "", _INDENT)
        block = _Block(paint, "", width)
        block.prose(
            f"as in {first}, whose block above says where it came from and how to fix it.", "same"
        )
        block.lines.append(f"{_INDENT}{paint('label', 'created'.ljust(_LABEL_WIDTH))}{lead.created.location()} in {lead.created.function}")
        # The shared site is the same; the test's own line that led there is not.
        block.callers(lead)
        out += block.lines
    return "\n".join(out) + "\n"


def render_suspension(suspension, root: str = "") -> str:
    """Where a timed-out test was waiting: its frames, innermost first."""
    if not suspension.frames and not suspension.waiting_on:
        return ""
    block = _Block(_Painter(False), root, WIDTH)
    for site in suspension.frames:
        block.site("at", site, context=0)
    if suspension.waiting_on:
        block.prose(suspension.waiting_on, "on")
    return "\n".join(["It was waiting here (innermost first):", *block.lines])


def render_cleanup_order(order) -> str:
    """
    Why a cleanup that timed out could never finish: it ran before the
    cleanups registered ahead of it that close, stop or fire what it waits
    for (``diagnosis.cleanups.Misorder``), and the order that works.
    """
    if order is None:
        return ""
    block = _Block(_Painter(False), "", WIDTH)
    block.prose(
        "The cleanup that timed out ran before cleanups registered ahead of it, "
        "which close, stop or fire what it may be waiting for: Trial runs "
        "cleanups last in, first out, so nothing had asked for it yet."
    )
    for label, cleanup in (("ran first", order.waiting), *(("not run", c) for c in order.causes)):
        block.lines.append(f"{_INDENT}{label.ljust(_LABEL_WIDTH)}{cleanup.code}")
        if cleanup.site is not None:
            block.lines.append(f"{_INDENT}{' ' * _LABEL_WIDTH}at {cleanup.site.location()}")
    block.prose("register them the other way round, the waiting one first:", "fix")
    block.lines += [f"{_INDENT}{' ' * _LABEL_WIDTH}{code}" for code in order.fixed]
    return "\n".join(["Cleanups registered in an order that cannot work:", *block.lines])
