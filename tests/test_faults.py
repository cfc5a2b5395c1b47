"""
The inspector never breaks a test or the run: odd objects in every hook,
and faults injected into trial-strictclean's own steps
(tests/fixtures/faults_suite.py), compared test by test with stock trial.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import cached_run, run_trial

SUITE = "faults_suite"
TESTS = 15
DIRTY = "left the reactor dirty"


def _faulty(fault: str, *options: str):
    return run_trial("--reporter=strictclean", *options, SUITE, env={"STRICTCLEAN_FAULT": fault})


class OddObjects(SynchronousTestCase):
    """No fault of ours: odd objects in every hook change no outcome."""

    def test_only_the_leftovers_fail(self):
        run = cached_run("--reporter=strictclean", SUITE)
        self.assertEqual(run.counts, {"errors": 3, "successes": TESTS - 3}, run.output)
        self.assertEqual(
            sorted(run.errors),
            [f"{SUITE}.{kind}.test_odd_call_left" for kind in ("AsyncChecks", "StdlibChecks", "SyncChecks")],
            run.output,
        )
        for texts in run.errors.values():
            self.assertIn(DIRTY, texts[0])
        self.assertNotIn("Traceback", run.output)
        self.assertNotIn("could not", run.output)


class Faults(SynchronousTestCase):
    """A step of ours that raises: every test runs, none changes outcome."""

    def stock(self):
        run = cached_run(SUITE)
        # The baseline itself: stock fails only the TestCase leaving a call.
        self.assertEqual(run.counts, {"errors": 1, "successes": TESTS - 1}, run.output)
        return run

    def assertLikeStock(self, run):
        stock = self.stock()
        self.assertEqual(run.counts, stock.counts, run.output)
        self.assertEqual(sorted(run.errors), sorted(stock.errors), run.output)
        self.assertEqual(run.returncode, stock.returncode, run.output)

    def assertNoted(self, run, what: str):
        self.assertIn(f"trial-strictclean: could not {what}", run.output)
        self.assertIn("a fault in trial-strictclean, not in the test", run.output)
        # Our traceback goes to test.log, not into a test's outcome.
        self.assertNotIn("injected fault\n", run.output.replace("RuntimeError: injected fault\n", ""))
        self.assertNotIn('trial_strictclean/', _tracebacks(run.output))

    def test_look_before_the_test(self):
        run = _faulty("snapshot")
        self.assertLikeStock(run)
        self.assertNoted(run, "look at the reactor before")

    def test_ignore_rules(self):
        run = _faulty("triage")
        self.assertLikeStock(run)
        self.assertNoted(run, "judge")

    def test_describing_keeps_a_bare_verdict(self):
        run = _faulty("diagnose")
        self.assertEqual(run.counts, {"errors": 3, "successes": TESTS - 3}, run.output)
        for texts in run.errors.values():
            self.assertIn("no further detail", texts[0])
        self.assertNoted(run, "describe what was left by")

    def test_saying_what_became_of_a_leftover(self):
        run = _faulty("aftermath")
        self.assertEqual(run.counts, {"errors": 3, "successes": TESTS - 3}, run.output)
        self.assertNoted(run, "say what became of the leftovers of")

    def test_records_for_the_reports(self):
        # Trial's own results come first: each test keeps its outcome, the
        # dirty ones included, and the run ends with its summary.
        run = _faulty("record")
        self.assertEqual(run.counts, {"errors": 3, "successes": TESTS - 3}, run.output)
        self.assertEqual(run.output.count("could not record a result"), 1, run.output)
        self.assertNotIn('trial_strictclean/', _tracebacks(run.output))

    def test_distributed(self):
        # The workers' notes reach the main process's output.
        run = _faulty("snapshot", "-j2")
        self.assertLikeStock(run)
        self.assertNoted(run, "look at the reactor before")
        self.assertEqual(run.output.count("could not look at the reactor before"), TESTS, run.output)

    def test_distributed_ignore_rules(self):
        run = _faulty("triage", "-j2")
        self.assertLikeStock(run)


def _tracebacks(output: str) -> str:
    """Every traceback's frames in ``output``."""
    return "\n".join(line for line in output.splitlines() if line.startswith('  File "'))
