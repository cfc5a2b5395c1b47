"""
GitHub Actions annotations: ``::error file=...,line=...,title=...::...``
workflow commands, one per leftover at the line that created it and one per
failing test at its innermost frame in the test's code.
"""

from __future__ import annotations

import os

from ..core.findings import Site
from ..core.outcomes import TestRecord
from .junit_xml import xml_text as _printable
from .text import items


def escape_data(text: str) -> str:
    text = _printable(text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def repository_root(start: str) -> str:
    """The nearest folder with a .git from ``start`` upward, else ``start``."""
    folder = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.abspath(start)
        folder = parent


def command(title: str, message: str, site: Site | None, root: str, repo: str) -> str:
    properties = []
    if site is not None:
        path = os.path.relpath(os.path.join(root, site.file), repo).replace(os.sep, "/")
        properties += [f"file={escape_property(path)}", f"line={site.line}"]
    properties.append(f"title={escape_property(title)}")
    return f"::error {','.join(properties)}::{escape_data(message)}"


def annotations(records: list[TestRecord], root: str, repo: str) -> list[str]:
    """The workflow commands for a run, tests in order."""
    lines = []
    for record in records:
        for problem in record.problems:
            if problem.flavor not in ("failure", "error"):
                continue
            site = problem.site
            if site is None and record.file is not None:
                site = Site(record.file, record.line or 1, "")
            word = "failed" if problem.flavor == "failure" else "errored"
            lines.append(command(f"{record.id} {word}", f"{problem.type}: {problem.message}", site, root, repo))
        # One annotation per root cause (a group), on its lead's line.
        for parts in items(list(record.findings)):
            finding = parts[0][0]
            if finding.baseline:
                continue  # known: it fails nothing, so it annotates nothing
            body = finding.message
            others = sum(len(part) for part in parts) - 1
            if others:
                body += f"\n(with {others} more leftover{'s' if others > 1 else ''} from the same cause)"
            if finding.fix:
                body += "\n" + finding.fix
            body += f"\n(left by {record.id})"
            lines.append(command(f"Reactor left dirty: {finding.kind}", body, finding.created, root, repo))
    return lines
