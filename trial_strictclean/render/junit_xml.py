"""
The JUnit XML report, shaped as Jenkins and pytest's ``--junitxml`` write
it: ``testsuites`` / ``testsuite`` / ``testcase`` with ``failure``,
``error`` and ``skipped`` elements.

A dirty test carries an ``error`` of type ``trial_strictclean.DirtyReactor``
whose text is the same block the terminal shows, without colour.  The file
must be valid XML whatever a test printed, so text is cleaned first.

A test Ctrl-C interrupted carries ``skipped`` of type
``trial_strictclean.Interrupted``: it did not finish, so it neither passed
nor failed, and CI tools count a skip as neither (an ``error`` would list it
among broken tests); the run's exit status says it was interrupted.
"""

from __future__ import annotations

import re
import socket
import time
import xml.etree.ElementTree as ET

from ..core.outcomes import TestRecord
from .text import headline, render, run_level_headline

DIRTY_TYPE = "trial_strictclean.DirtyReactor"
INTERRUPTED_TYPE = "trial_strictclean.Interrupted"
INTERRUPTED_MESSAGE = "interrupted (Ctrl-C) before the test finished"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Everything XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape_char(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    """``text`` without ANSI codes, with what XML cannot hold spelled out."""
    return _NOT_XML.sub(_escape_char, _ANSI.sub("", text))


def _split_id(test_id: str) -> tuple[str, str]:
    classname, dot, name = test_id.rpartition(".")
    return (classname, name) if dot else ("", test_id)


def _add(parent, tag: str, attrs: dict, text: str | None = None):
    element = ET.SubElement(parent, tag, {k: xml_text(str(v)) for k, v in attrs.items() if v is not None})
    if text:
        element.text = xml_text(text)
    return element


def _counts(records: list[TestRecord]) -> dict:
    return {
        "tests": len(records),
        "errors": sum(r.outcome == "error" for r in records),
        "failures": sum(r.outcome == "failed" for r in records),
        "skipped": sum(r.outcome in ("skipped", "expected-failure", "interrupted") for r in records),
        "time": f"{sum(r.duration for r in records):.3f}",
    }


# What outlived every test is one more testcase, so CI lists it where it
# lists failures: JUnit has no place for a run's own result.
RUN_LEVEL_CLASS = "trial-strictclean"
RUN_LEVEL_NAME = "run-level"


def render_xml(records: list[TestRecord], root: str = "", started: float | None = None, run_level=()) -> bytes:
    """The whole file."""
    counts = _counts(records)
    if run_level:
        # The run-level testcase counts like a test, so the totals add up.
        counts["tests"] += 1
        counts["errors"] += any(not f.baseline for f in run_level)
    suites = ET.Element("testsuites", {"name": "trial", **{k: str(v) for k, v in counts.items()}})
    suite = _add(
        suites,
        "testsuite",
        {
            "name": "trial",
            **counts,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started or time.time())),
            "hostname": socket.gethostname(),
        },
    )
    for record in records:
        classname, name = _split_id(record.id)
        case = _add(
            suite,
            "testcase",
            {
                "classname": classname,
                "name": name,
                "time": f"{record.duration:.3f}",
                "file": record.file,
                "line": record.line,
            },
        )
        if record.outcome == "interrupted":
            # What it reported before it was stopped says nothing about it.
            _add(case, "skipped", {"type": INTERRUPTED_TYPE, "message": INTERRUPTED_MESSAGE})
            continue
        for problem in record.problems:
            tag = {"expected-failure": "skipped"}.get(problem.flavor, problem.flavor)
            kind = "trial.todo" if problem.flavor == "expected-failure" else problem.type
            _add(case, tag, {"type": kind, "message": problem.message}, problem.text)
        if record.dirty:
            # Known findings (the baseline's) are listed with the new ones,
            # marked; alone they fail nothing.
            findings = list(record.findings)
            _add(case, "error", {"type": DIRTY_TYPE, "message": headline(findings)}, render(findings, root, color=False))
    if run_level:
        findings = list(run_level)
        case = _add(suite, "testcase", {"classname": RUN_LEVEL_CLASS, "name": RUN_LEVEL_NAME, "time": "0.000"})
        text = render(findings, root, color=False, head=run_level_headline(findings))
        if any(not f.baseline for f in findings):
            _add(case, "error", {"type": DIRTY_TYPE, "message": run_level_headline(findings)}, text)
        else:
            _add(case, "system-out", {}, text)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
