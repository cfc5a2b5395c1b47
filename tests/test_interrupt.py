"""
Ctrl-C (issue 12, item 4): a run interrupted with SIGINT to its process
group (a terminal's Ctrl-C; ``trial -j`` workers included) stops within
seconds, exits non-zero without a traceback, and its JSON and JUnit
reports hold every finished test with its outcome, the interrupted test as
``interrupted`` with no findings (Trial's timeout call and what the test
waited for are not leftovers), and no test that never ran.

Each run is real ``trial`` over tests/fixtures/interrupt_suite.py, started
in a session of its own and signalled once the fixture's marker files say
the waiting tests are waiting.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from trial_strictclean.core.outcomes import Outcomes, TestRecord
from trial_strictclean.render import json_report, junit_xml
from trial_strictclean.trial.interrupt import GRACE

from .trialrun import FIXTURES, PROJECT, TRIAL

# From SIGINT to the end of the process: generous for a loaded machine; a
# run that does not stop waits for its fixture's 30 seconds.
STOPS_WITHIN = 6.0
# How long a test may take to start waiting (imports, workers starting).
STARTS_WITHIN = 30.0

M = "interrupt_suite."


@dataclass
class Interrupted:
    returncode: int
    output: str
    # From SIGINT to the end of the process.
    seconds: float
    report: dict
    junit: ET.Element
    # The -j workers' stderr, as Trial keeps it.
    worker_errors: str

    def outcomes(self) -> dict:
        return {t["id"]: t["outcome"] for t in self.report["tests"]}

    def findings(self, test_id: str) -> list:
        return next(t["findings"] for t in self.report["tests"] if t["id"] == test_id)

    def junit_cases(self) -> dict:
        """Test id -> the child elements' (tag, type) of its testcase."""
        return {
            f"{case.get('classname')}.{case.get('name')}": [(child.tag, child.get("type")) for child in case]
            for case in self.junit.iter("testcase")
        }


def interrupt(*args: str, waiting: tuple[str, ...], group: bool = True) -> Interrupted:
    """
    Run trial --reporter=strictclean with ``args``, and send SIGINT once
    every test named in ``waiting`` is waiting: to the process group, or
    only to trial's own process.
    """
    with tempfile.TemporaryDirectory(prefix="strictclean-interrupt-") as folder:
        markers = os.path.join(folder, "markers")
        os.mkdir(markers)
        report, junit = os.path.join(folder, "report.json"), os.path.join(folder, "report.xml")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TRIAL_STRICTCLEAN_")}
        environment.update(
            NO_COLOR="1",
            PYTHONPATH=os.pathsep.join(p for p in (FIXTURES, PROJECT, os.environ.get("PYTHONPATH")) if p),
            INTERRUPT_MARKERS=markers,
            TRIAL_STRICTCLEAN_JSON=report,
            TRIAL_STRICTCLEAN_JUNIT_XML=junit,
        )
        temp = os.path.join(folder, "_trial_temp")
        process = subprocess.Popen(
            [*TRIAL, f"--temp-directory={temp}", "--reporter=strictclean", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=PROJECT,
            env=environment,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTS_WITHIN
            while not all(os.path.exists(os.path.join(markers, name)) for name in waiting):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{waiting} never started waiting:\n{process.communicate()[0]}")
                time.sleep(0.01)
            signalled = time.monotonic()
            (os.killpg if group else os.kill)(process.pid, signal.SIGINT)
            try:
                output = process.communicate(timeout=STOPS_WITHIN + 30)[0]
            except subprocess.TimeoutExpired:
                raise AssertionError("the run did not stop after SIGINT") from None
            seconds = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
        errors = ""
        for path in sorted(glob.glob(os.path.join(temp, "*", "err.log"))):
            with open(path) as file:
                errors += file.read()
        with open(report) as file:
            data = json.load(file)
        return Interrupted(process.returncode, output, seconds, data, ET.parse(junit).getroot(), errors)


class _Checks:
    def assertStoppedCleanly(self, run: Interrupted, interrupted: int, passed: int) -> None:
        self.assertLess(run.seconds, STOPS_WITHIN, run.output)
        self.assertEqual(run.returncode, 1, run.output)
        self.assertNotIn("Traceback", run.output)
        self.assertNotIn("Traceback", run.worker_errors)
        counts = f"interrupted={interrupted}, successes={passed}" if passed else f"interrupted={interrupted}"
        self.assertIn(f"FAILED ({counts})", run.output)
        self.assertEqual(run.output.count("[INTERRUPTED]"), interrupted, run.output)

    def assertReports(self, run: Interrupted, expected: dict) -> None:
        """JSON and JUnit hold exactly ``expected`` (test id -> outcome)."""
        self.assertEqual(run.outcomes(), expected)
        # Trial's own count: no test that never ran was started.
        self.assertIn(f"\nRan {len(expected)} tests in ", run.output)
        counts = run.report["summary"]["outcomes"]
        self.assertEqual(counts["interrupted"], list(expected.values()).count("interrupted"))
        self.assertEqual(counts["error"], 0)
        for test_id, outcome in expected.items():
            if outcome == "interrupted":
                # Never judged: not Trial's timeout call, not the wait.
                self.assertEqual(run.findings(test_id), [])
        cases = run.junit_cases()
        self.assertEqual(sorted(cases), sorted(expected))
        for test_id, outcome in expected.items():
            want = [("skipped", "trial_strictclean.Interrupted")] if outcome == "interrupted" else []
            self.assertEqual(cases[test_id], want, test_id)
        self.assertEqual(run.junit.get("errors"), "0")


class OneProcess(SynchronousTestCase, _Checks):
    def _in_the_reactor(self, *options: str) -> None:
        run = interrupt(*options, M + "Fast", M + "Waits", M + "Later", waiting=("Waits.test_a",))
        self.assertStoppedCleanly(run, interrupted=1, passed=2)
        self.assertReports(
            run, {M + "Fast.test_1": "passed", M + "Fast.test_2": "passed", M + "Waits.test_a": "interrupted"}
        )

    def test_waiting_in_the_reactor(self):
        """The test waiting in the reactor is interrupted; the rest never run."""
        self._in_the_reactor()

    def test_waiting_in_the_asyncio_reactor(self):
        self._in_the_reactor("--reactor=asyncio")

    def test_asleep_outside_the_reactor(self):
        """
        A synchronous test is interrupted where it blocks, after other
        tests ran the reactor (stock Trial's reactor then keeps SIGINT, and
        the test sleeps on).
        """
        run = interrupt(M + "Fast", M + "Sleeps", M + "Later", waiting=("Sleeps.test_sleep",))
        self.assertStoppedCleanly(run, interrupted=1, passed=2)
        self.assertReports(
            run, {M + "Fast.test_1": "passed", M + "Fast.test_2": "passed", M + "Sleeps.test_sleep": "interrupted"}
        )


    def test_standard_library_test(self):
        """unittest re-raises KeyboardInterrupt; it still ends only the test."""
        run = interrupt(M + "Fast", M + "Blocks", M + "Later", waiting=("Blocks.test_block",))
        self.assertStoppedCleanly(run, interrupted=1, passed=2)
        self.assertReports(
            run, {M + "Fast.test_1": "passed", M + "Fast.test_2": "passed", M + "Blocks.test_block": "interrupted"}
        )


class Distributed(SynchronousTestCase, _Checks):
    """trial -j 2: each worker interrupts its test; no test goes out after."""

    BOTH = ("Waits.test_a", "Waits.test_b")

    def _check(self, run: Interrupted, passed: tuple[str, ...], waiting=BOTH, killed: bool = False) -> None:
        expected = {M + test_id: "passed" for test_id in passed}
        expected.update({M + test_id: "interrupted" for test_id in waiting})
        self.assertStoppedCleanly(run, interrupted=len(waiting), passed=len(passed))
        self.assertReports(run, expected)
        # Workers stop by themselves, unless deaf to SIGINT.
        self.assertEqual("trial-strictclean: killed the workers" in run.output, killed, run.output)

    def test_two_workers(self):
        run = interrupt("-j", "2", M + "Fast", M + "Waits", M + "Later", waiting=self.BOTH)
        self._check(run, ("Fast.test_1", "Fast.test_2"))

    def test_two_workers_asyncio(self):
        # The waiting tests come first in their workers: stock Trial under
        # -j 2 with asyncio breaks a worker's later tests that wait
        # (docs/internals.rst).
        run = interrupt("-j", "2", "--reactor=asyncio", M + "Waits", M + "Later", waiting=self.BOTH)
        self._check(run, ())

    def test_only_the_main_process_signalled(self):
        """``kill -INT`` on trial's own process: it tells the workers."""
        run = interrupt("-j", "2", M + "Fast", M + "Waits", M + "Later", waiting=self.BOTH, group=False)
        self._check(run, ("Fast.test_1", "Fast.test_2"))

    def test_a_deaf_worker_is_killed(self):
        """A worker that ignores SIGINT is killed after a grace period."""
        waiting = ("Deaf.test_deaf", "Waits.test_a")
        run = interrupt("-j", "2", M + "Deaf", M + "Waits.test_a", M + "Later", waiting=waiting)
        self._check(run, (), waiting, killed=True)
        self.assertGreater(run.seconds, GRACE)


class Rendering(SynchronousTestCase):
    """The interrupted outcome in the reports, from records alone."""

    RECORDS = [
        TestRecord("pkg.Case.test_done", "passed", 0.1),
        TestRecord("pkg.Case.test_stopped", "interrupted", 0.2),
    ]

    def test_json_counts_it_only_when_a_test_has_it(self):
        self.assertEqual(json_report.report(self.RECORDS)["summary"]["outcomes"]["interrupted"], 1)
        self.assertNotIn("interrupted", json_report.report(self.RECORDS[:1])["summary"]["outcomes"])

    def test_json_schema_and_reading_back(self):
        import jsonschema

        data = json_report.report(self.RECORDS)
        with open(json_report.SCHEMA_FILE, encoding="utf-8") as file:
            jsonschema.validate(data, json.load(file))
        self.assertEqual([r.outcome for r in json_report.records_from(data)], ["passed", "interrupted"])

    def test_junit_skipped(self):
        root = ET.fromstring(junit_xml.render_xml(self.RECORDS))
        self.assertEqual(root.get("skipped"), "1")
        self.assertEqual(root.get("errors"), "0")
        stopped = [case for case in root.iter("testcase") if case.get("name") == "test_stopped"][0]
        self.assertEqual([(c.tag, c.get("type")) for c in stopped], [("skipped", junit_xml.INTERRUPTED_TYPE)])

    def test_interrupted_wins_over_what_came_before(self):
        outcomes = Outcomes("/", every_test=True)
        test = _Test()
        outcomes.start(test)
        outcomes.failure(test, Failure(ValueError("cancelled under it")), "error")
        outcomes.interrupted(test)
        outcomes.stop(test)
        self.assertEqual([r.outcome for r in outcomes.records()], ["interrupted"])
        outcomes.forget(test)
        self.assertEqual(outcomes.records(), [])

    def test_a_test_the_run_ended_under(self):
        """Reports written at exit, the test still running: interrupted."""
        outcomes = Outcomes("/", every_test=True)
        outcomes.start(_Test())
        self.assertEqual([r.outcome for r in outcomes.records()], ["interrupted"])


class _Test:
    def id(self):
        return "pkg.Case.test_stopped"
