"""
``trial -j``: the same verdicts, findings and text as a single process.
"""

import re

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import cached_run


def _stable(text: str) -> str:
    # Ports and remaining times differ from run to run; nothing else may.
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return re.sub(r"\d+\.\d\ds", "N.NNs", text)


class SameAsOneProcess(SynchronousTestCase):
    def runs(self, *options):
        single = cached_run("--reporter=strictclean", *options, "foundation_suite")
        distributed = cached_run("--reporter=strictclean", "-j2", *options, "foundation_suite")
        return single, distributed

    def test_counts_and_exit_status(self):
        single, distributed = self.runs()
        self.assertEqual(distributed.returncode, single.returncode, distributed.output)
        self.assertEqual(distributed.counts, single.counts, distributed.output)

    def test_same_tests_err_with_the_same_text(self):
        single, distributed = self.runs()
        self.assertEqual(set(distributed.errors), set(single.errors), distributed.output)
        for test_id, texts in single.errors.items():
            self.assertEqual(
                [_stable(t) for t in distributed.errors[test_id]],
                [_stable(t) for t in texts],
                test_id,
            )

    def test_asyncio_reactor_in_workers(self):
        single, distributed = self.runs("--reactor=asyncio")
        self.assertEqual(set(distributed.errors), set(single.errors), distributed.output)

    def test_workers_of_other_reporters_are_untouched(self):
        run = cached_run("-j2", "foundation_suite")
        self.assertNotIn("left the reactor dirty", run.output)
        self.assertNotIn("trial-strictclean", run.output)
