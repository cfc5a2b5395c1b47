"""
A test that times out says where it was waiting (issue 12, item 1): the
user's suspended frames, innermost first, then the Deferred at the bottom.
"""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import FIXTURES, cached_run, tagged_line

SUITE = "timeouts_suite"
PATH = os.path.join(os.path.relpath(FIXTURES), f"{SUITE}.py")


# timed-out test -> the tagged lines of its waiting frames, innermost first
EXPECTED = {
    "Hangs.test_coroutine": ["helper_await", "coroutine_await"],
    "Hangs.test_inline_callbacks": ["inline_helper_yield", "inline_yield"],
    "Hangs.test_plain_deferred": [],
    "HangsInSetUp.test_never_reached": ["setup_await"],
}


class WhereItWaited(SynchronousTestCase):
    def check(self, *options):
        run = cached_run("--reporter=strictclean", *options, SUITE)
        self.assertEqual(run.counts, {"errors": 4, "successes": 2}, run.output)
        for test, tags in EXPECTED.items():
            text = run.error_text(f"{SUITE}.{test}")
            self.assertIn("still running at 0.3 secs", text)
            self.assertIn("It was waiting here (innermost first):", text)
            places = [f"{PATH}:{tagged_line(SUITE, tag)}" for tag in tags]
            found = [text.index(place) for place in places]
            self.assertEqual(found, sorted(found), f"{test}: innermost first\n{text}")
            self.assertIn("a Deferred nobody has fired yet", text)
        # Prose wraps at 80 columns: compare it as words.
        plain = " ".join(run.error_text(f"{SUITE}.Hangs.test_plain_deferred").split())
        self.assertIn("callbacks waiting on it: Hangs.got_reply", plain)
        # Trial's own timeout call and Deferreds are never leftovers.
        self.assertNotIn("left the reactor dirty", run.output)

    def test_default_reactor(self):
        self.check()

    def test_asyncio_reactor(self):
        self.check("--reactor=asyncio")

    def test_distributed(self):
        self.check("-j2")

    def test_stock_trial_is_untouched(self):
        run = cached_run(SUITE)
        self.assertEqual(run.counts, {"errors": 4, "successes": 2}, run.output)
        self.assertNotIn("waiting here", run.output)
