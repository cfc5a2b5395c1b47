"""
The verdict is taken the moment the test's last Deferred fires, not after
the reactor finished that iteration (issue 12, item 2).
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import cached_run

SUITE = "last_deferred"
LUCKY = f"{SUITE}.LastDeferred.test_server_end_not_waited_for"
CLEAN = f"{SUITE}.LastDeferred.test_all_three_waited_for"


class TheMoment(SynchronousTestCase):
    def check_found(self, *options):
        run = cached_run("--reporter=strictclean", *options, SUITE)
        self.assertEqual(run.counts, {"errors": 1, "successes": 1}, run.output)
        text = run.error_text(LUCKY)
        self.assertRegex(text, r"1\. connection-(open|closing) \(server\): server end of a TCP connection")
        self.assertNotIn(CLEAN, run.errors)

    def test_server_end_found(self):
        self.check_found()

    def test_server_end_found_under_j(self):
        self.check_found("-j2")

    def test_asyncio_runs_io_before_timers(self):
        # The asyncio loop runs an iteration's I/O callbacks before its
        # timers: the server end has closed before the port's close
        # completes, so at the moment the test ends there is nothing left.
        run = cached_run("--reporter=strictclean", "--reactor=asyncio", SUITE)
        self.assertEqual(run.counts, {"successes": 2}, run.output)

    def test_stock_trial_passes_both(self):
        run = cached_run(SUITE)
        self.assertEqual(run.counts, {"successes": 2}, run.output)
