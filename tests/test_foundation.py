"""
The reporter end to end: the real trial, fixture suites with real sockets,
every kind of test, every reactor, Trial's own options.
"""

import ast
import os
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import FIXTURES, TRIAL, cached_run

SUITE = "foundation_suite."
DIRTY = {
    SUITE + "AsyncDirty.test_a_dirty",
    SUITE + "SyncDirty.test_a_dirty",
    SUITE + "StdlibDirty.test_a_dirty",
    SUITE + "PortNotAwaited.test_stop_listening_not_awaited",
    SUITE + "FailingAndDirty.test_fails_and_leaves",
    SUITE + "Isolation.test_a_leaves_port_open",
}
FAILING_AND_DIRTY = SUITE + "FailingAndDirty.test_fails_and_leaves"


def _all_tests():
    """Every test id the suite defines, read from its source, not imported."""
    with open(os.path.join(FIXTURES, "foundation_suite.py")) as source:
        tree = ast.parse(source.read())
    return {
        f"{SUITE}{node.name}.{item.name}"
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
    }


# So a check over the tree cannot pass on a run that ran fewer tests.
ALL = _all_tests()

COUNTS = {
    "errors": 6,
    "failures": 1,
    "skips": 1,
    "expectedFailures": 1,
    "unexpectedSuccesses": 1,
    "successes": 8,
}


def tree_statuses(output):
    """
    Each test id in Trial's tree output, with the statuses shown for it in
    order (a test reported twice gets its second on a line of its own).
    """
    statuses = {}
    module = cls = test_id = None
    for line in output.splitlines():
        if line.startswith("=" * 10):
            break  # the tree is over; the reports follow
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if " ... " in line and indent == 4:
            name, _, status = stripped.partition(" ... ")
            test_id = f"{module}.{cls}.{name.strip()}"
            statuses.setdefault(test_id, []).append(status.strip())
        elif stripped.startswith("[") and test_id is not None:
            statuses[test_id].append(stripped)
        elif stripped and indent == 2:
            cls = stripped
        elif stripped and indent == 0:
            module = stripped
    return statuses


class Discovery(SynchronousTestCase):
    def test_listed_by_help_reporters(self):
        output = subprocess.run(
            [*TRIAL, "--help-reporters"], stdout=subprocess.PIPE, text=True, check=True
        ).stdout
        line = [l for l in output.splitlines() if l.split()[:1] == ["strictclean"]]
        self.assertEqual(len(line), 1, output)
        self.assertIn("reactor", line[0])

    def test_loading_does_not_install_a_reactor(self):
        # Trial loads reporters before it installs the one --reactor names.
        code = (
            "import sys, twisted.plugins.strictclean_plugin, trial_strictclean.trial.reporter;"
            "sys.exit('twisted.internet.reactor' in sys.modules)"
        )
        subprocess.run([sys.executable, "-c", code], check=True)


class Verdicts(SynchronousTestCase):
    reactor = None

    def run_suite(self, *extra):
        args = ["--reporter=strictclean", *extra]
        if self.reactor:
            args.append(f"--reactor={self.reactor}")
        return cached_run(*args, "foundation_suite")

    def test_counts_and_exit_status(self):
        run = self.run_suite()
        self.assertEqual(run.returncode, 1, run.output)
        self.assertEqual(run.counts, COUNTS, run.output)

    def test_each_dirty_test_errs_and_no_other(self):
        run = self.run_suite()
        self.assertEqual(set(run.errors), DIRTY, run.output)
        for test_id in DIRTY:
            self.assertEqual(len(run.errors[test_id]), 1, run.error_text(test_id))
            self.assertIn("left the reactor dirty", run.error_text(test_id))

    def test_dirty_test_is_not_also_a_success(self):
        run = self.run_suite()
        statuses = tree_statuses(run.output)
        self.assertEqual(set(statuses), ALL, run.output)
        for test_id in DIRTY:
            expected = ["[FAIL]", "[ERROR]"] if test_id == FAILING_AND_DIRTY else ["[ERROR]"]
            self.assertEqual(statuses[test_id], expected, test_id)

    def test_trial_own_dirty_error_never_appears(self):
        self.assertNotIn("DirtyReactorAggregateError", self.run_suite().output)

    def test_failing_and_dirty_reports_both(self):
        run = self.run_suite()
        test_id = SUITE + "FailingAndDirty.test_fails_and_leaves"
        self.assertIn("the assertion failed", "\n".join(run.failures[test_id]))
        self.assertIn("delayed-call", run.error_text(test_id))

    def test_unawaited_stop_listening_is_caught(self):
        text = self.run_suite().error_text(SUITE + "PortNotAwaited.test_stop_listening_not_awaited")
        self.assertIn("listening-port-closing", text)

    def test_sites_point_at_the_fixture(self):
        text = self.run_suite().error_text(SUITE + "SyncDirty.test_a_dirty")
        self.assertIn("foundation_suite.py:15 in _timer", text)
        # Python 3.10 has no co_qualname: the class name is missing there.
        self.assertRegex(text, r"foundation_suite.py:28 in (SyncDirty\.)?test_a_dirty\n")


class VerdictsSelect(Verdicts):
    reactor = "select"


class VerdictsPoll(Verdicts):
    reactor = "poll"


class VerdictsAsyncio(Verdicts):
    reactor = "asyncio"


class Stock(SynchronousTestCase):
    def test_stock_trial_blames_innocent_tests(self):
        # What we fix: Trial's janitor spins first, misses unawaited closes,
        # and blames sync and stdlib leftovers on the next async test.
        run = cached_run("foundation_suite")
        statuses = tree_statuses(run.output)
        self.assertEqual(set(statuses), ALL, run.output)
        for missed in (
            "PortNotAwaited.test_stop_listening_not_awaited",
            "SyncDirty.test_a_dirty",
            "StdlibDirty.test_a_dirty",
        ):
            self.assertEqual(statuses[SUITE + missed], ["[OK]"], missed)
        # The first async test after those two gets both their timers.
        blamed = run.error_text(SUITE + "Threads.test_awaited_thread")
        self.assertIn("DirtyReactorAggregateError", blamed)
        self.assertEqual(blamed.count("print('too late')"), 2, blamed)


class Outside(SynchronousTestCase):
    def test_import_time_leftover_blames_no_test(self):
        # It is reported once, after the last test, and (end-of-run =
        # "fail", the default) fails the run, not a test.
        run = cached_run("--reporter=strictclean", "foundation_preexisting")
        self.assertEqual((run.returncode, run.counts), (1, {"successes": 3}), run.output)
        self.assertIn("Left in the reactor at the end of the run, on no test", run.output)
        self.assertIn("Made before any test ran", run.output)


class Options(SynchronousTestCase):
    def run_dirty(self, *options):
        return cached_run("--reporter=strictclean", *options, "foundation_dirty_only")

    def test_unclean_warnings_turn_verdicts_into_warnings(self):
        run = self.run_dirty("--unclean-warnings")
        self.assertEqual((run.returncode, run.counts), (0, {"successes": 3}), run.output)
        warnings = [l for l in run.output.splitlines() if "UserWarning" in l and "left the reactor dirty" in l]
        self.assertEqual(len(warnings), 3, run.output)

    def test_exitfirst_stops_at_the_first_dirty_test(self):
        run = self.run_dirty("--exitfirst")
        self.assertEqual(run.counts, {"errors": 1}, run.output)
        self.assertIn("Ran 1 tests", run.output)

    def test_until_failure_stops_after_a_dirty_pass(self):
        run = self.run_dirty("--until-failure")
        self.assertEqual(run.counts, {"errors": 3}, run.output)
        self.assertIn("Test Pass 1", run.output)
        self.assertNotIn("Test Pass 2", run.output)

    def test_other_options_keep_the_verdicts(self):
        for option in ("--random=7", "--force-gc", "--debug-stacktraces", "--tbformat=brief"):
            run = self.run_dirty(option)
            self.assertEqual((run.returncode, run.counts), (1, {"errors": 3}), option)
