"""
An unhandled error in a Deferred kept alive past its test is a finding on
that test, and never fails a later one (issue 12, item 3).
"""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import FIXTURES, cached_run, tagged_line

SUITE = "unhandled_suite"
PATH = os.path.join(os.path.relpath(FIXTURES), f"{SUITE}.py")


DIRTY = {
    "Unhandled.test_a_kept_by_a_cycle": ("ValueError: kept by a cycle", "raised_here"),
    "Unhandled.test_b_raised_in_a_callback": ("KeyError: 'missing'", "callback_raises"),
    "SyncUnhandled.test_a_kept_on_an_attribute": ("ValueError: kept on an attribute", "raised_here"),
    "StdlibUnhandled.test_a_kept_by_a_cycle": ("ValueError: stdlib cycle", "raised_here"),
}


class OnTheTestThatMadeIt(SynchronousTestCase):
    def check(self, *options):
        run = cached_run("--reporter=strictclean", *options, SUITE)
        self.assertEqual(sorted(run.errors), sorted(f"{SUITE}.{t}" for t in DIRTY), run.output)
        self.assertEqual(run.counts, {"errors": 4, "successes": 4}, run.output)
        for test, (resource, tag) in DIRTY.items():
            text = run.error_text(f"{SUITE}.{test}")
            self.assertIn(f"1. unhandled-error: {resource}", text)
            self.assertIn(f"created   {PATH}:{tagged_line(SUITE, tag)} in ", text)
            self.assertIn("self.assertFailure(d, ", text)
            self.assertIn("defused after the test", text)
        # Prose wraps at 80 columns: compare it as words.
        fired = " ".join(run.error_text(f"{SUITE}.Unhandled.test_b_raised_in_a_callback").split())
        self.assertIn(f"fired at {PATH}:{tagged_line(SUITE, 'fired_here')}", fired)

    def test_one_process(self):
        self.check()

    def test_distributed(self):
        self.check("-j2")

    def test_stock_blames_the_test_that_collects(self):
        # What this replaces: the error lands on the innocent test whose
        # gc.collect() freed the cycle.
        run = cached_run(SUITE)
        self.assertIn(f"{SUITE}.Unhandled.test_d_innocent", run.errors, run.output)
        self.assertIn("ValueError: kept by a cycle", run.error_text(f"{SUITE}.Unhandled.test_d_innocent"))
