"""
Faults found by running Twisted's own suite under the reporter
(docs/real-world.rst, "Ownership and the end of the run"), each reduced to
a fixture.  A test marked ``todo`` shows a fault still open.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import run_trial


class TrialsOwnTimeoutCall(SynchronousTestCase):

    def test_reentrant_teardown_is_clean(self):
        """
        Trial's own per-phase timeout call is never a finding, even when the
        last phase's Deferred is still running its callbacks at the look.
        """
        run = run_trial("--reporter=strictclean", "realworld_reentrant.ReentrantTearDown")
        self.assertEqual(run.status, "PASSED", run.output)
        self.assertNotIn("describe_then_time_out", run.output)


class NoImportWhileAPhaseRuns(SynchronousTestCase):

    def test_emptied_sys_modules_is_clean(self):
        """
        A test that empties sys.modules until a cleanup restores it passes,
        as under stock Trial: nothing of ours imports between its phases.
        """
        run = run_trial("--reporter=strictclean", "realworld_reentrant.EmptiesSysModules")
        self.assertEqual(run.status, "PASSED", run.output)
