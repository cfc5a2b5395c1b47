"""
The JSON report, schema ``trial-strictclean/2``: every test of the run once,
with its outcome and the leftovers it was failed for.

The schema ships as ``trial_strictclean/schema/trial-strictclean-2.json``;
a required field is only ever added to it under a new schema name (/2
added ``after``; the /1 schema ships beside it for older reports); the
optional ``baseline`` flag and the ``group`` number of a finding were added
to /2 in place, and so was the ``interrupted`` outcome (Ctrl-C), counted in
the summary only by a report of an interrupted run.

``read_report`` turns a report back into test records, for the command
line (``trial-strictclean merge`` and ``baseline``).
"""

from __future__ import annotations

import json
import os
from collections import Counter

from ..core.findings import Finding, Site, replace
from ..core.outcomes import OUTCOMES, Problem, TestRecord

SCHEMA = "trial-strictclean/2"
# The schemas read_report reads: /1 lacks only ``after``.
READABLE = ("trial-strictclean/1", SCHEMA)
SCHEMA_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schema", "trial-strictclean-2.json"
)


def _site(site: Site | None) -> dict | None:
    if site is None:
        return None
    return {"file": site.file, "line": site.line, "function": site.function, "code": site.code}


def finding_dict(finding: Finding) -> dict:
    data = {
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
    if finding.baseline:
        # Optional: present only on a known leftover, which fails no test.
        data["baseline"] = True
    return data


def run_level_dict(finding: Finding) -> dict:
    return {"started_by": finding.started_by, **finding_dict(finding)}


def report(records: list[TestRecord], run_level: list[Finding] = ()) -> dict:
    """The whole report as plain data."""
    kinds = Counter(f.kind for record in records for f in record.findings if not f.baseline)
    outcomes = dict.fromkeys(OUTCOMES, 0)
    outcomes.update(Counter(record.outcome for record in records))
    if not outcomes["interrupted"]:
        # Added to /2 in place: absent where /2 readers never saw it.
        del outcomes["interrupted"]
    data = {
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
            "dirty_tests": sum(1 for record in records if record.dirty),
            "findings_by_kind": dict(sorted(kinds.items())),
            "outcomes": outcomes,
        },
    }
    if run_level:
        # Optional keys: a run where nothing outlived the tests writes the
        # report it always did.
        data["run_level"] = [run_level_dict(f) for f in run_level]
        data["summary"]["run_level"] = sum(1 for f in run_level if not f.baseline)
    return data


def render(records: list[TestRecord], run_level: list[Finding] = ()) -> str:
    return json.dumps(report(records, run_level), indent=2, ensure_ascii=False) + "\n"


class ReportError(Exception):
    """A file that is not a readable report; its text says why."""


def _read_site(data, where: str) -> Site | None:
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("file"), str) or not isinstance(data.get("line"), int):
        raise ReportError(f"{where} = {data!r} is not a site (file, line, function, code)")
    return Site(data["file"], data["line"], str(data.get("function") or ""), data.get("code"))


def _read_finding(data, where: str) -> Finding:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise ReportError(f"{where} is not a finding (an object with a kind)")
    return Finding(
        kind=data["kind"],
        resource=str(data.get("resource") or ""),
        state=str(data.get("state") or ""),
        message=str(data.get("message") or ""),
        side=data.get("side"),
        created=_read_site(data.get("created"), f"{where}.created"),
        closed=_read_site(data.get("closed"), f"{where}.closed"),
        wait_for=data.get("wait_for"),
        fix=data.get("fix"),
        after=data.get("after"),
        baseline=data.get("baseline") is True,
    )


# A report keeps outcomes, not tracebacks: what JUnit shows for each.
_PROBLEMS = {
    "failed": ("failure", "trial.failure"),
    "error": ("error", "trial.error"),
    "skipped": ("skipped", "unittest.case.SkipTest"),
    "expected-failure": ("expected-failure", "trial.todo"),
}
# An interrupted test is rendered from its outcome (junit_xml), not a problem.


def _problems(outcome: str, dirty: bool) -> tuple[Problem, ...]:
    if outcome not in _PROBLEMS or (outcome == "error" and dirty):
        return ()
    flavor, kind = _PROBLEMS[outcome]
    text = f"{outcome} (the report keeps outcomes only; the shard's own output has the details)"
    return (Problem(flavor, kind, text, text),)


def records_from(data, name: str = "report") -> list[TestRecord]:
    """The test records of a parsed report; ReportError if it is not one."""
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema not in READABLE:
        found = "no \"schema\" field" if schema is None else f"schema {schema!r}"
        raise ReportError(
            f"{name}: not a trial-strictclean report ({found}; this version reads "
            f"{', '.join(READABLE)}: the files the json setting writes)"
        )
    tests = data.get("tests")
    if not isinstance(tests, list):
        raise ReportError(f"{name}: tests = {tests!r} must be a list")
    records = []
    for index, test in enumerate(tests):
        where = f"{name}: tests[{index}]"
        if not isinstance(test, dict) or not isinstance(test.get("id"), str):
            raise ReportError(f"{where} is not a test (an object with an id)")
        outcome = test.get("outcome")
        if outcome not in OUTCOMES:
            raise ReportError(f"{where}: outcome = {outcome!r} must be one of {', '.join(OUTCOMES)}")
        duration = test.get("duration", 0.0)
        if not isinstance(duration, (int, float)) or isinstance(duration, bool):
            raise ReportError(f"{where}: duration = {duration!r} must be a number")
        found = test.get("findings", [])
        if not isinstance(found, list):
            raise ReportError(f"{where}: findings = {found!r} must be a list")
        findings = tuple(_read_finding(f, f"{where}.findings[{i}]") for i, f in enumerate(found))
        dirty = any(not f.baseline for f in findings)
        records.append(TestRecord(test["id"], outcome, float(duration), findings, _problems(outcome, dirty)))
    return records


def run_level_from(data, name: str = "report") -> list[Finding]:
    """What outlived every test in a parsed report (its optional ``run_level``)."""
    found = data.get("run_level", []) if isinstance(data, dict) else []
    if not isinstance(found, list):
        raise ReportError(f"{name}: run_level = {found!r} must be a list")
    findings = []
    for i, item in enumerate(found):
        finding = _read_finding(item, f"{name}: run_level[{i}]")
        started_by = item.get("started_by")
        if started_by is not None and not isinstance(started_by, str):
            raise ReportError(f"{name}: run_level[{i}].started_by = {started_by!r} must be a test id or null")
        findings.append(replace(finding, started_by=started_by))
    return findings


def read_report(path: str) -> list[TestRecord]:
    """The test records of the report file at ``path``; ReportError if unusable."""
    return read_whole_report(path)[0]


def read_whole_report(path: str) -> tuple[list[TestRecord], list[Finding]]:
    """The test records and run-level findings of the report file at ``path``."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: cannot be read: {getattr(error, 'strerror', None) or error}") from None
    except ValueError as error:
        raise ReportError(f"{path}: not valid JSON: {error}") from None
    return records_from(data, path), run_level_from(data, path)
