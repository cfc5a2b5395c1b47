"""
Ownership through the reactor and the end of the run (issue 12, items 5
and 6): what the reactor makes for a chain of work begun before a test (a
Site's re-armed timer, a loop started at import, a protocol of an older
connection, the result of thread work an earlier test submitted) is never
blamed on the test that happens to be running; what outlives every test is
reported once, at the end of the run, naming the test that began it.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import jsonschema
from twisted.trial.unittest import SynchronousTestCase

from trial_strictclean.render.json_report import SCHEMA_FILE

from .trialrun import PROJECT, run_trial, tagged_line

FIXTURE = "ownership_suite"
INNOCENT = (
    "ownership_suite.Older.test_wakes_older_connection",
    "ownership_suite.Threads.test_b_runs_the_result",
    "ownership_suite.Ticks.test_spans_loop_ticks",
    "ownership_suite.Ticks.test_spans_site_tick",
)
SUBMITTER = "ownership_suite.Threads.test_a_submits"


class Run:
    def __init__(self, trial, report, junit):
        self.trial = trial
        self.report = report
        self.junit = junit
        self.tests = {t["id"]: t for t in report.get("tests", ())}
        self.run_level = report.get("run_level", [])

    def created_lines(self, kind):
        # A set: under -j each worker reports what it made at import.
        return sorted({f["created"]["line"] for f in self.run_level if f["kind"] == kind and f["created"]})


@functools.lru_cache(maxsize=None)
def run(*options, env=()):
    with tempfile.TemporaryDirectory(prefix="strictclean-own-") as out:
        environment = {
            "TRIAL_STRICTCLEAN_JSON": os.path.join(out, "report.json"),
            "TRIAL_STRICTCLEAN_JUNIT_XML": os.path.join(out, "junit.xml"),
            **dict(env),
        }
        trial = run_trial("--reporter=strictclean", *options, env=environment)
        try:
            with open(environment["TRIAL_STRICTCLEAN_JSON"], encoding="utf-8") as file:
                report = json.load(file)
            junit = ET.parse(environment["TRIAL_STRICTCLEAN_JUNIT_XML"]).getroot()
        except (OSError, ValueError, ET.ParseError):
            report, junit = {}, None
    return Run(trial, report, junit)


class _Ownership:
    options: tuple = ()

    def outcome(self):
        return run(*self.options, FIXTURE)

    def test_older_chains_are_not_blamed(self):
        # Each of these spans work of an older chain: the Site's timer,
        # the loop's re-arms, an older connection's protocol, another
        # test's thread work finishing.
        result = self.outcome()
        for test_id in INNOCENT:
            self.assertEqual(result.tests[test_id]["outcome"], "passed", result.trial.output)
        submitter = result.tests[SUBMITTER]
        self.assertEqual([f["kind"] for f in submitter["findings"]], ["thread-work"], result.trial.output)
        # Said, counted, in the summary.
        self.assertRegex(" ".join(result.trial.output.split()), r"not blamed: \d+ leftovers? the reactor made")

    def test_run_level_names_each_creation_site(self):
        result = self.outcome()
        # A trial -j worker runs each test in a TrialSuite of its own, whose
        # end fires the reactor's "shutdown" event (stock Trial): it stops
        # every port after each test, so no port outlives the run there.
        ports = [] if "-j2" in self.options else [tagged_line(FIXTURE, "site-port"), tagged_line(FIXTURE, "echo-port")]
        self.assertEqual(result.created_lines("listening-port-open"), sorted(ports))
        self.assertEqual(result.created_lines("looping-call"), [tagged_line(FIXTURE, "loop")])
        self.assertIn(tagged_line(FIXTURE, "protocol-call"), result.created_lines("delayed-call"))
        # Made at import: no test began them.
        for finding in result.run_level:
            if finding["kind"] != "delayed-call" or finding["created"] is None:
                continue
            if finding["created"]["line"] == tagged_line(FIXTURE, "protocol-call"):
                self.assertIsNone(finding["started_by"])
        jsonschema.validate(result.report, _schema())
        self.assertEqual(result.report["summary"]["run_level"], len(result.run_level))

    def test_run_level_section_in_text(self):
        output = self.outcome().trial.output
        self.assertIn("Left in the reactor at the end of the run, on no test", output)
        self.assertIn("Made before any test ran", output)
        self.assertIn("left at the end of the run, on no test:", output)
        # Reported once, on no test: never inside a test's block.
        blocks = output.split("=" * 79)
        self.assertFalse(any("ownership_suite.py:" + str(tagged_line(FIXTURE, "site-port")) in b for b in blocks[1:-1]))

    def test_run_level_in_junit(self):
        result = self.outcome()
        cases = [c for c in result.junit.iter("testcase") if c.get("name") == "run-level"]
        self.assertEqual(len(cases), 1)
        self.assertIsNotNone(cases[0].find("error"))
        suite = result.junit.find("testsuite")
        self.assertEqual(int(suite.get("tests")), len(result.tests) + 1)


class DefaultReactor(_Ownership, SynchronousTestCase):
    def test_thread_result_names_the_test_that_began_it(self):
        # The thread work test_a submitted calls back after it; the call it
        # makes then is the run's, started by test_a.  (The thread pool is
        # joined after each test, so the call is made in the next test of
        # this process, deterministically.)
        result = self.outcome()
        line = tagged_line(FIXTURE, "thread-result")
        found = [f for f in result.run_level if f["created"] and f["created"]["line"] == line]
        self.assertEqual([f["started_by"] for f in found], [SUBMITTER], result.trial.output)
        self.assertIn(f"Made for work begun in {SUBMITTER}, after it", " ".join(result.trial.output.split()))

    def test_end_of_run_fails_the_run_by_default(self):
        result = run(FIXTURE + ".Ticks")
        self.assertEqual(result.trial.counts, {"successes": 2}, result.trial.output)
        self.assertEqual(result.trial.status, "FAILED")
        self.assertNotEqual(result.trial.returncode, 0)
        self.assertIn("it fails the run: end-of-run = 'fail'", " ".join(result.trial.output.split()))

    def test_end_of_run_report_only(self):
        result = run(FIXTURE + ".Ticks", env=(("TRIAL_STRICTCLEAN_END_OF_RUN", "report"),))
        self.assertEqual(result.trial.status, "PASSED", result.trial.output)
        self.assertEqual(result.trial.returncode, 0)
        self.assertIn("reported only: end-of-run = 'report'", " ".join(result.trial.output.split()))
        self.assertTrue(result.run_level)

    def test_ignore_rule_on_run_level(self):
        rule = '[{ test = "run-level", reason = "servers of the test modules" }]'
        result = run(FIXTURE + ".Ticks", env=(("TRIAL_STRICTCLEAN_IGNORE", rule),))
        self.assertEqual(result.trial.status, "PASSED", result.trial.output)
        self.assertEqual(result.run_level, [])
        self.assertIn("in environment variable TRIAL_STRICTCLEAN_IGNORE (test='run-level')", result.trial.output)

    def test_bad_end_of_run_value(self):
        trial = run_trial("--reporter=strictclean", FIXTURE, env={"TRIAL_STRICTCLEAN_END_OF_RUN": "never"})
        self.assertNotEqual(trial.returncode, 0)
        self.assertIn("environment variable TRIAL_STRICTCLEAN_END_OF_RUN: end-of-run = 'never'", trial.output)
        self.assertNotIn("Traceback", trial.output)


class AsyncioReactor(_Ownership, SynchronousTestCase):
    options = ("--reactor=asyncio",)


class Distributed(_Ownership, SynchronousTestCase):
    # Each worker imports the module: each reports what it made at import.
    options = ("-j2",)


def _schema():
    with open(SCHEMA_FILE, encoding="utf-8") as file:
        return json.load(file)


class Baseline(SynchronousTestCase):
    def test_run_level_in_the_baseline(self):
        # A legacy suite with servers started at import adopts the tool:
        # today's run-level leftovers go into the baseline, under the test
        # id "run-level", and no longer fail the run.
        with tempfile.TemporaryDirectory(prefix="strictclean-own-") as out:
            first = os.path.join(out, "first.json")
            run_trial("--reporter=strictclean", FIXTURE + ".Ticks", env={"TRIAL_STRICTCLEAN_JSON": first})
            baseline = os.path.join(out, "baseline.json")
            subprocess.run(
                [sys.executable, "-m", "trial_strictclean", "baseline", "--output", baseline, first],
                check=True, capture_output=True, cwd=PROJECT,
                env={**os.environ, "PYTHONPATH": PROJECT},
            )
            with open(baseline, encoding="utf-8") as file:
                entries = json.load(file)["entries"]
            self.assertEqual({e["test"] for e in entries}, {"run-level"})
            again = os.path.join(out, "again.json")
            trial = run_trial(
                "--reporter=strictclean", FIXTURE + ".Ticks",
                env={"TRIAL_STRICTCLEAN_JSON": again, "TRIAL_STRICTCLEAN_BASELINE": baseline},
            )
            with open(again, encoding="utf-8") as file:
                report = json.load(file)
        self.assertEqual((trial.returncode, trial.status), (0, "PASSED"), trial.output)
        self.assertNotIn("Left in the reactor at the end of the run", trial.output)
        self.assertIn("known, kept by the baseline", trial.output)
        self.assertEqual(report["summary"]["run_level"], 0)
        self.assertTrue(report["run_level"])
        self.assertTrue(all(f["baseline"] for f in report["run_level"]))
