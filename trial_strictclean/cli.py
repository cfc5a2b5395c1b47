"""
``trial-strictclean``, the command line (also ``python -m trial_strictclean``):

- ``baseline --output FILE REPORT.json...``: a baseline of every leftover in
  the reports, for a suite turning the reporter on (core/baseline.py);
- ``merge --json OUT.json [--junit-xml OUT.xml] REPORT.json...``: one report
  from the reports of a sharded run.

It reads JSON reports back into test records and writes them with the
same renderers the reporter uses.  A mistake in the input is one line on
stderr and exit status 2, never a traceback; ``merge`` exits 1 when the
merged run has dirty tests.
"""

from __future__ import annotations

import argparse
import os
import sys

from .core import baseline
from .core.findings import RUN_LEVEL
from .render import json_report, junit_xml
from .render.report_files import write_atomically

PROG = "trial-strictclean"


class UsageError(Exception):
    """Bad input: its text is the whole message."""


def _records(paths: list[str]) -> list[tuple[str, list, list]]:
    """Per report: its path, its test records, what outlived its tests."""
    try:
        return [(path, *json_report.read_whole_report(path)) for path in paths]
    except json_report.ReportError as error:
        raise UsageError(str(error)) from None


def _write(path: str, data: bytes) -> None:
    try:
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        write_atomically(path, data)
    except OSError as error:
        raise UsageError(f"{path}: cannot be written: {error.strerror or error}") from None


def cmd_baseline(args) -> int:
    reports = _records(args.reports)
    keep = ()
    if os.path.exists(args.output):
        # Rewriting a baseline keeps the reasons people wrote in it.
        try:
            keep = baseline.load(args.output)
        except baseline.BaselineError as error:
            raise UsageError(f"--output {args.output}: exists and is not a usable baseline ({error}); not overwritten") from None
    found = [(record.id, finding) for _, records, _ in reports for record in records for finding in record.findings]
    # What outlived every test is known under the test id "run-level".
    found += [(RUN_LEVEL, finding) for _, _, run_level in reports for finding in run_level]
    entries = baseline.from_findings(found, keep)
    _write(args.output, baseline.dumps(entries).encode("utf-8"))
    tests = len({entry.test for entry in entries})
    print(f"{PROG}: wrote {len(entries)} baseline entries for {tests} tests to {args.output}")
    return 0


def cmd_merge(args) -> int:
    reports = _records(args.reports)
    seen: dict[str, str] = {}
    merged = []
    run_level = [finding for _, _, found in reports for finding in found]
    for path, records, _ in reports:
        for record in records:
            first = seen.get(record.id)
            if first is not None and first != path:
                raise UsageError(f"test {record.id} is in two reports, {first} and {path}: shards must not overlap")
            seen[record.id] = path
            merged.append(record)
    _write(args.json, json_report.render(merged, run_level).encode("utf-8"))
    if args.junit_xml:
        _write(args.junit_xml, junit_xml.render_xml(merged, os.getcwd(), run_level=run_level))
    dirty = [record.id for record in merged if record.dirty]
    outputs = args.json + (f" and {args.junit_xml}" if args.junit_xml else "")
    print(f"{PROG}: merged {len(reports)} reports, {len(merged)} tests, into {outputs}")
    left = sum(1 for finding in run_level if not finding.baseline)
    if left:
        # As end-of-run = "fail", the default, has it.
        print(f"{PROG}: left at the end of the runs, on no test: {left}")
    if dirty:
        print(f"{PROG}: tests left dirty: {len(dirty)}")
        for test_id in dirty:
            print(f"  {test_id}")
        return 1
    print(f"{PROG}: tests left dirty: none")
    return 1 if left else 0


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line and status 2, as for any other bad input.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog=PROG,
        description="Work with the reports of trial --reporter=strictclean: baselines for existing suites, sharded runs.",
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    base = commands.add_parser(
        "baseline",
        help="write a baseline of every leftover in one or more JSON reports",
        description=(
            "Write a baseline file from JSON reports (from several shards too): one entry per leftover, "
            "keyed on test id, kind, and the file, function and text of the line that created it. "
            "Point the baseline setting at it, and those leftovers no longer fail their tests. "
            "Rewriting an existing baseline keeps the reasons written in it."
        ),
    )
    base.add_argument("--output", "-o", required=True, metavar="FILE", help="the baseline file to write")
    base.add_argument("reports", nargs="+", metavar="REPORT.json", help="JSON reports (the json setting)")
    base.set_defaults(run=cmd_baseline)
    merge = commands.add_parser(
        "merge",
        help="merge the JSON reports of a sharded run into one",
        description=(
            "Merge the JSON reports of the shards of one run into one JSON report, and a JUnit XML file if asked. "
            "A test present in two reports is an error. Exits 1 when the merged run has dirty tests."
        ),
    )
    merge.add_argument("--json", required=True, metavar="OUT.json", help="the merged JSON report to write")
    merge.add_argument("--junit-xml", metavar="OUT.xml", help="also write the merged run as JUnit XML")
    merge.add_argument("reports", nargs="+", metavar="REPORT.json", help="the shards' JSON reports")
    merge.set_defaults(run=cmd_merge)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        sys.stderr.write(f"{PROG}: error: {error}\n")
        return 2
