"""
The CI outputs as a CI job sees them: real trial over a suite mixing clean,
dirty, failing, erroring, skipped and todo tests, its JUnit file read by
junitparser, its JSON report validated against the shipped schema, and its
GitHub annotations.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET

import jsonschema
from junitparser import Error, Failure, JUnitXml, Skipped
from twisted.trial import unittest

from tests.trialrun import run_trial as _run_trial
from trial_strictclean.core.findings import Finding, Site
from trial_strictclean.core.outcomes import Outcomes, Problem, TestRecord
from trial_strictclean.render.github import annotations, escape_data, escape_property
from trial_strictclean.render.json_report import SCHEMA_FILE, report
from trial_strictclean.render.junit_xml import render_xml, xml_text

MIXED = "tests/fixtures/ci_mixed.py"


def run_trial(*args, **kw):
    return _run_trial("--reporter=strictclean", *args, **kw)


def _temp_dir() -> str:
    path = tempfile.mkdtemp(prefix="strictclean-ci-")
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.lru_cache(maxsize=None)
def mixed_run():
    """One run of the mixed suite with every output on."""
    out = _temp_dir()
    env = {
        "TRIAL_STRICTCLEAN_JSON": os.path.join(out, "report.json"),
        "TRIAL_STRICTCLEAN_JUNIT_XML": os.path.join(out, "junit", "report.xml"),
        "GITHUB_ACTIONS": "true",
    }
    return run_trial("ci_mixed", env=env), out


def _schema() -> dict:
    with open(SCHEMA_FILE, encoding="utf-8") as file:
        return json.load(file)


class JSONReport(unittest.SynchronousTestCase):
    def setUp(self):
        self.run, out = mixed_run()
        with open(os.path.join(out, "report.json"), encoding="utf-8") as file:
            self.report = json.load(file)

    def test_valid(self):
        """The report validates against the schema shipped in the package."""
        jsonschema.validate(self.report, _schema())
        self.assertEqual(self.report["schema"], "trial-strictclean/2")

    def test_every_test_once_with_its_outcome(self):
        outcomes = {t["id"].rpartition(".")[2]: t["outcome"] for t in self.report["tests"]}
        self.assertEqual(len(self.report["tests"]), len(outcomes))
        self.assertEqual(
            outcomes,
            {
                "test_clean": "passed",
                "test_dirty": "error",
                "test_failing": "failed",
                "test_erroring": "error",
                "test_skipped": "skipped",
                "test_failing_and_dirty": "failed",
                "test_port": "error",
                "test_noisy": "passed",
                "test_todo": "expected-failure",
                "test_unexpected": "unexpected-success",
                "test_sync_clean": "passed",
            },
        )

    def test_findings(self):
        tests = {t["id"]: t for t in self.report["tests"]}
        [finding] = tests["ci_mixed.Mixed.test_failing_and_dirty"]["findings"]
        self.assertEqual(finding["kind"], "delayed-call")
        self.assertEqual(finding["created"]["file"], MIXED)
        self.assertEqual(finding["created"]["line"], 31)
        self.assertIn("callLater", finding["created"]["code"])
        self.assertEqual(tests["ci_mixed.Mixed.test_port"]["findings"][0]["kind"], "listening-port-open")
        self.assertEqual(tests["ci_mixed.Mixed.test_failing"]["findings"], [])

    def test_summary(self):
        summary = self.report["summary"]
        self.assertEqual(summary["tests"], 11)
        self.assertEqual(summary["dirty_tests"], 3)
        self.assertEqual(summary["findings_by_kind"], {"delayed-call": 2, "listening-port-open": 1})
        self.assertEqual(
            summary["outcomes"],
            {"passed": 3, "failed": 2, "error": 3, "skipped": 1, "expected-failure": 1, "unexpected-success": 1},
        )

    def test_schema_rejects_drift(self):
        """The schema is strict enough to catch a renamed or missing field."""
        broken = json.loads(json.dumps(self.report))
        broken["tests"][0]["outcome"] = "ok"
        self.assertRaises(jsonschema.ValidationError, jsonschema.validate, broken, _schema())
        broken = json.loads(json.dumps(self.report))
        del broken["summary"]["dirty_tests"]
        self.assertRaises(jsonschema.ValidationError, jsonschema.validate, broken, _schema())


class JUnitReport(unittest.SynchronousTestCase):
    def setUp(self):
        self.run, out = mixed_run()
        self.path = os.path.join(out, "junit", "report.xml")
        xml = JUnitXml.fromfile(self.path)
        self.suites = list(xml)
        self.cases = {(c.classname, c.name): c for s in self.suites for c in s}

    def results(self, name, classname="ci_mixed.Mixed"):
        return list(self.cases[(classname, name)].result)

    def test_every_test(self):
        self.assertEqual(len(self.cases), 11)
        [suite] = self.suites
        self.assertEqual((suite.tests, suite.errors, suite.failures, suite.skipped), (11, 3, 2, 2))

    def test_file_and_line(self):
        case = self.cases[("ci_mixed.Mixed", "test_dirty")]
        self.assertEqual(case._elem.get("file"), MIXED)
        self.assertEqual(case._elem.get("line"), "18")

    def test_dirty(self):
        [error] = self.results("test_dirty")
        self.assertIsInstance(error, Error)
        self.assertEqual(error.type, "trial_strictclean.DirtyReactor")
        self.assertIn("delayed-call", error.message)
        self.assertIn(f"{MIXED}:19", error.text)
        self.assertNotIn("\x1b", error.text)

    def test_failing_and_dirty(self):
        failure, error = self.results("test_failing_and_dirty")
        self.assertIsInstance(failure, Failure)
        self.assertIn("1 != 2", failure.message)
        self.assertEqual(error.type, "trial_strictclean.DirtyReactor")

    def test_other_outcomes(self):
        self.assertEqual(self.results("test_clean"), [])
        [skip] = self.results("test_skipped")
        self.assertIsInstance(skip, Skipped)
        self.assertEqual(skip.message, "not on this platform")
        [error] = self.results("test_erroring")
        self.assertEqual(error.type, "ValueError")
        [todo] = self.results("test_todo")
        self.assertIsInstance(todo, Skipped)

    def test_unprintable_text(self):
        """Control characters and ANSI codes from a test do not break the XML."""
        [failure] = self.results("test_failing")
        self.assertIn("expected <3> & got 'four' red", failure.message)
        self.assertIn("\\x00\\x07", failure.message)
        with open(self.path, "rb") as file:
            ET.fromstring(file.read())

    def test_no_temp_files_left(self):
        self.assertEqual(os.listdir(os.path.dirname(self.path)), ["report.xml"])


class Annotations(unittest.SynchronousTestCase):
    def setUp(self):
        self.lines = [line for line in mixed_run()[0].output.splitlines() if line.startswith("::error ")]

    def test_one_per_finding_and_failing_test(self):
        files = sorted(line.split(",", 2)[:2][1] for line in self.lines)
        # 3 findings, 3 failing or erroring tests (the failing+dirty one twice).
        self.assertEqual(len(self.lines), 6)
        self.assertEqual(files, ["line=19", "line=22", "line=25", "line=31", "line=32", "line=35"])
        for line in self.lines:
            self.assertTrue(line.startswith(f"::error file={MIXED},line="), line)

    def test_escaped(self):
        dirty = [line for line in self.lines if "line=19" in line][0]
        self.assertIn("title=Reactor left dirty%3A delayed-call::", dirty)
        self.assertIn("%0A", dirty)
        failing = [line for line in self.lines if "line=22" in line][0]
        self.assertNotIn("\x1b", failing)
        self.assertNotIn("\x00", failing)

    def test_text_summary(self):
        output = mixed_run()[0].output
        self.assertIn("tests left dirty: 3", output)
        self.assertIn("findings: 2 delayed-call, 1 listening-port-open", output)
        self.assertIn("JSON report written to ", output)
        self.assertIn("JUnit XML written to ", output)

    def test_same_without_report_files(self):
        """
        Without JSON or JUnit, passing tests are not kept (they cost no
        memory), yet the annotations and the summary say the same.
        """
        run = run_trial("ci_mixed", env={"GITHUB_ACTIONS": "true"})
        lines = [line for line in run.output.splitlines() if line.startswith("::error ")]
        def stable(line):
            # Ports, and remaining times (29.99s on a busy machine), vary.
            line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line)
            return re.sub(r"due in \d+\.\d\ds", "due in N.NNs", line)

        self.assertEqual(sorted(map(stable, lines)), sorted(map(stable, self.lines)))
        self.assertIn("tests left dirty: 3", run.output)
        self.assertIn("findings: 2 delayed-call, 1 listening-port-open", run.output)

    def test_off_outside_github(self):
        run = run_trial("ci_mixed.Mixed.test_dirty", env={"GITHUB_ACTIONS": ""})
        self.assertNotIn("::error", run.output)
        run = run_trial("ci_mixed.Mixed.test_dirty", env={"TRIAL_STRICTCLEAN_GITHUB_ANNOTATIONS": "always"})
        self.assertIn("::error file=", run.output)


class Interrupted(unittest.SynchronousTestCase):
    def test_ctrl_c(self):
        """After Ctrl-C the tests finished so far are in the JUnit file."""
        path = os.path.join(_temp_dir(), "report.xml")
        run_trial("ci_interrupt.Interrupted", env={"TRIAL_STRICTCLEAN_JUNIT_XML": path})
        names = [case.name for suite in JUnitXml.fromfile(path) for case in suite]
        self.assertEqual(names[:2], ["test_1_first", "test_2_second"])
        self.assertNotIn("test_4_never", names)

    def test_crash(self):
        """A process that dies mid-run leaves the file as last rewritten."""
        path = os.path.join(_temp_dir(), "report.xml")
        run = run_trial(
            "ci_interrupt.Interrupted.test_1_first", "ci_interrupt.Crashed", env={"TRIAL_STRICTCLEAN_JUNIT_XML": path}
        )
        self.assertEqual(run.returncode, 3)
        names = [case.name for suite in JUnitXml.fromfile(path) for case in suite]
        self.assertEqual(names, ["test_1_first"])


def _record(**kw) -> TestRecord:
    values = {"id": "pkg.mod.Case.test_x", "outcome": "passed", "duration": 0.5}
    values.update(kw)
    return TestRecord(**values)


FINDING = Finding(
    kind="delayed-call",
    resource="reactor.callLater(..., f())",
    state="pending",
    message="A delayed call, 100% pending,\r\nstill there",
    created=Site("src/app.py", 12, "start"),
    fix="Cancel it.",
)


class Rendering(unittest.SynchronousTestCase):
    def test_xml_text(self):
        self.assertEqual(xml_text("a\x1b[1;31mb\x1b[0m\x00\ufffe\tc"), "ab\\x00\\ufffe\tc")

    def test_junit_survives_anything(self):
        nasty = "\x00\x08\x0b\x1b[2J\udcff]]> </error> & <"
        record = _record(
            outcome="failed",
            problems=(Problem("failure", "E", nasty, nasty),),
            findings=(FINDING,),
        )
        root = ET.fromstring(render_xml([record]))
        case = root.find("testsuite/testcase")
        self.assertEqual(case.get("classname"), "pkg.mod.Case")
        self.assertEqual(case.find("failure").text, "\\x00\\x08\\x0b\\udcff]]> </error> & <")

    def test_escape_rules(self):
        self.assertEqual(escape_data("100%\r\nok: a,b"), "100%25%0D%0Aok: a,b")
        self.assertEqual(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A")

    def test_annotation_path_relative_to_repository(self):
        record = _record(outcome="error", findings=(FINDING,))
        [line] = annotations([record], "/repo/sub", "/repo")
        self.assertTrue(line.startswith("::error file=sub/src/app.py,line=12,title=Reactor left dirty%3A delayed-call::"))
        self.assertIn("100%25 pending,%0D%0Astill there", line)

    def test_report_matches_schema_without_sites(self):
        bare = Finding(kind="reader", resource="r", state="unknown", message="m")
        data = report([_record(outcome="error", findings=(bare,)), _record(id="x.y", outcome="skipped")])
        jsonschema.validate(data, _schema())
        self.assertEqual(data["summary"]["dirty_tests"], 1)
        self.assertIsNone(data["tests"][0]["findings"][0]["created"])


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Sample(unittest.SynchronousTestCase):
    # Methods not named test_*: instances are made by hand, never run.
    def sample_passes(self):
        pass

    def sample_skips(self):
        pass

    def sample_dirty(self):
        pass


class OutcomesKept(unittest.SynchronousTestCase):
    """Which tests the records keep, with and without report files."""

    def _feed(self, outcomes):
        passes, skips, dirty = _Sample("sample_passes"), _Sample("sample_skips"), _Sample("sample_dirty")
        for test in (passes, skips, dirty):
            outcomes.start(test)
        outcomes.success(passes)
        outcomes.skip(skips, "no network")
        outcomes.dirty(dirty, [FINDING])
        for test in (passes, skips, dirty):
            outcomes.stop(test)
        return {record.id.rsplit(".", 1)[1]: record for record in outcomes.records()}

    def test_every_test(self):
        records = self._feed(Outcomes(_ROOT))
        self.assertEqual(list(records), ["sample_passes", "sample_skips", "sample_dirty"])
        self.assertEqual(records["sample_passes"].outcome, "passed")
        self.assertEqual(records["sample_passes"].file, os.path.join("tests", "test_outputs.py"))
        self.assertGreaterEqual(records["sample_passes"].duration, 0.0)

    def test_only_tests_with_something_to_say(self):
        records = self._feed(Outcomes(_ROOT, every_test=False))
        self.assertEqual(list(records), ["sample_skips", "sample_dirty"])
        self.assertEqual(records["sample_dirty"].outcome, "error")
        self.assertEqual(records["sample_dirty"].findings, (FINDING,))
        self.assertEqual(records["sample_dirty"].file, os.path.join("tests", "test_outputs.py"))
