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


class Options(SynchronousTestCase):
    def test_until_failure_stops_after_a_dirty_pass(self):
        run = cached_run("--reporter=strictclean", "-j2", "--until-failure", "foundation_dirty_only")
        self.assertEqual((run.returncode, run.counts), (1, {"errors": 3}), run.output)
        self.assertNotIn("Test Pass 2", run.output)

    def test_exitfirst_stops_early(self):
        run = cached_run("--reporter=strictclean", "-j2", "--exitfirst", "foundation_dirty_only")
        self.assertEqual(run.returncode, 1, run.output)
        self.assertGreaterEqual(run.counts.get("errors", 0), 1, run.output)
        self.assertNotIn("successes", run.counts, run.output)


class WorkerCrash(SynchronousTestCase):
    def test_reports_keep_every_result(self):
        import json
        import os
        import tempfile

        from .trialrun import run_trial

        with tempfile.TemporaryDirectory() as temp:
            report = os.path.join(temp, "report.json")
            run = run_trial(
                "--reporter=strictclean", "-j2", "dist_crash",
                env={"TRIAL_STRICTCLEAN_JSON": report},
            )
            with open(report) as f:
                tests = {t["id"]: t for t in json.load(f)["tests"]}
        self.assertEqual(len(tests), 4, run.output)
        dirty = tests["dist_crash.A.test_1_dirty"]
        self.assertEqual((dirty["outcome"], len(dirty["findings"])), ("error", 1))
        self.assertEqual(tests["dist_crash.A.test_3_crash"]["outcome"], "error")
