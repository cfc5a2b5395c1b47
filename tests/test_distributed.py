"""
``trial -j``: the same verdicts, findings, counts and text as a single
process, for every fixture suite.
"""

import functools
import json
import os
import re
import shutil
import tempfile

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import FIXTURES, cached_run, run_trial


def _stable(text: str) -> str:
    # What differs from run to run whichever process runs the test: ports,
    # remaining times, descriptor numbers, child pids, temporary folders,
    # addresses in an object's default repr; nothing else may. Prose wraps
    # at 80 columns, so a longer port number moves a line break: compare
    # the words.
    text = re.sub(r"(?<=\S)\s+", " ", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r" at 0x[0-9a-f]+>", " at 0xADDR>", text)
    text = re.sub(r"\d+\.\d\ds", "N.NNs", text)
    text = re.sub(r"file descriptor \d+", "file descriptor N", text)
    text = re.sub(r"process \d+", "process N", text)
    text = re.sub(r"strictclean-parity-\w+", "FOLDER", text)
    return re.sub(r"/tmp\w+/", "/TMP/", text)


# Every fixture module is run in one process and with -j 2, all in one run
# each way, except those that cannot run the same under -j by nature.
_UNLIKE_UNDER_J = {
    "ci_interrupt": "it interrupts the run (SIGINT) and kills its process",
    "dist_crash": "it kills the process it runs in",
    # It could, but its clean tests only sleep, to give --exitfirst time to
    # stop the run: seconds added to every mode, and nothing to compare.
    "dist_exitfirst": "it is for --exitfirst (Options below)",
    # 1,000 dirty tests, for the size of the output (test_advice): seconds
    # added to every mode for what the other suites already compare.
    "advice_many": "it is for the size of a big dirty suite's output",
    "advice_passes": "it is for --until-failure, whose passes differ on purpose",
    # Its servers and loop start at import, in every process that imports
    # it (each -j worker lists its own at the end of the run), and stay for
    # the whole run, where the other suites' nested Trial runs see them.
    "ownership_suite": "it leaves import-time servers in its process on purpose (test_ownership)",
}
_SUITES = tuple(
    sorted(
        name[: -len(".py")]
        for name in os.listdir(FIXTURES)
        if name.endswith(".py") and name[: -len(".py")] not in _UNLIKE_UNDER_J
    )
)

# Accepts a leftover in several suites, by kind, by creation site and both;
# the last rule matches nothing, so it is stale.
_RULES = """[tool.trial_strictclean]
ignore = [
    { kind = "delayed-call", where = "ci_ignore:start_cache_timer", reason = "cache timer" },
    { where = "dist_parity:accepted_timer", reason = "accepted by its creation site" },
    { kind = "listening-port-open", where = "kinds_dirty:*", reason = "a whole module's ports" },
    { kind = "delayed-call", where = "foundation_suite:*", reason = "a whole module's timers" },
    { where = "nowhere.py:*", reason = "stale" },
]
"""

# Modes: extra trial options, and whether the rules come from a pyproject
# in the folder trial runs in (which is then the run's root).
_MODES = {
    "plain": ((), False),
    "unclean-warnings": (("--unclean-warnings",), False),
    "ignore-rules": ((), True),
}


@functools.lru_cache(maxsize=None)
def _parity_run(mode: str, jobs: bool):
    """The run of every suite in ``mode``, and its JSON report."""
    options, rules = _MODES[mode]
    folder = tempfile.mkdtemp(prefix="strictclean-parity-")
    try:
        report = os.path.join(folder, "report.json")
        cwd = None
        if rules:
            cwd = os.path.join(folder, "project")
            os.makedirs(cwd)
            with open(os.path.join(cwd, "pyproject.toml"), "w", encoding="utf-8") as file:
                file.write(_RULES)
        args = ("--reporter=strictclean", *(("-j2",) if jobs else ()), *options, *_SUITES)
        run = run_trial(*args, env={"TRIAL_STRICTCLEAN_JSON": report}, cwd=cwd)
        try:
            with open(report, encoding="utf-8") as file:
                data = json.load(file)
        except (OSError, ValueError):
            data = None
        return run, data
    finally:
        shutil.rmtree(folder, True)


def _summary(output: str) -> list:
    """Our summary's lines, sorted (-j reports tests in another order)."""
    lines = output.splitlines()
    if "trial-strictclean summary" not in lines:
        return []
    section = []
    run_level = False
    for line in lines[lines.index("trial-strictclean summary") :]:
        if not line.strip():
            break
        # What outlived the tests is counted per process (_per_test).
        if line.startswith("  left at the end of the run"):
            run_level = True
            continue
        if run_level and line.startswith("    "):
            continue
        run_level = False
        if "report written to" not in line:
            section.append(_stable(line))
    return sorted(section)


class SameAsOneProcess(SynchronousTestCase):
    def test_same_tests_err_and_fail_with_the_same_text(self):
        single, _ = _parity_run("plain", False)
        distributed, _ = _parity_run("plain", True)
        for flavor in ("errors", "failures"):
            expected, found = getattr(single, flavor), getattr(distributed, flavor)
            self.assertEqual(set(found), set(expected), distributed.output)
            for test_id, texts in expected.items():
                self.assertEqual([_stable(t) for t in found[test_id]], [_stable(t) for t in texts], test_id)
        self.assertGreater(len(single.errors), 5)

    def test_asyncio_reactor_in_workers(self):
        single = cached_run("--reporter=strictclean", "--reactor=asyncio", "foundation_suite")
        distributed = cached_run("--reporter=strictclean", "-j2", "--reactor=asyncio", "foundation_suite")
        self.assertEqual(set(distributed.errors), set(single.errors), distributed.output)
        self.assertEqual(distributed.counts, single.counts, distributed.output)
        self.assertGreater(len(single.errors), 2)

    def test_workers_of_other_reporters_are_untouched(self):
        run = cached_run("-j2", "foundation_suite")
        self.assertNotIn("left the reactor dirty", run.output)
        self.assertNotIn("trial-strictclean", run.output)
        # The tests did run, judged by Trial's own janitor in its workers.
        self.assertIn("DirtyReactorAggregateError: Reactor was unclean.", run.output)
        self.assertIn("test_b_innocent", run.output)


class Options(SynchronousTestCase):
    def test_until_failure_stops_after_a_dirty_pass(self):
        run = cached_run("--reporter=strictclean", "-j2", "--until-failure", "foundation_dirty_only")
        self.assertEqual((run.returncode, run.counts), (1, {"errors": 3}), run.output)
        self.assertNotIn("Test Pass 2", run.output)

    def test_exitfirst_stops_early(self):
        # A dirty test, then 30 clean ones of 0.1 s: the worker that runs
        # the dirty one reports it while the other is in the first few.
        run = cached_run("--reporter=strictclean", "-j2", "--exitfirst", "dist_exitfirst")
        self.assertEqual(run.returncode, 1, run.output)
        self.assertEqual(list(run.errors), ["dist_exitfirst.A_Dirty.test_dirty"], run.output)
        self.assertEqual(run.counts.get("errors"), 1, run.output)
        self.assertLess(sum(run.counts.values()), 31, run.output)


class WorkerCrash(SynchronousTestCase):
    def test_reports_keep_every_result(self):
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


class _SameUnderJ:
    """Every fixture suite: the same report in one process and under -j 2."""

    mode = ""

    def runs(self):
        single, one = _parity_run(self.mode, False)
        distributed, many = _parity_run(self.mode, True)
        self.assertIsNotNone(one, single.output)
        self.assertIsNotNone(many, distributed.output)
        return single, distributed, one, many

    def _tests(self, report) -> dict:
        return {t["id"]: t for t in report["tests"]}

    def test_same_tests_and_outcomes(self):
        single, distributed, one, many = self.runs()
        expected = {i: t["outcome"] for i, t in self._tests(one).items()}
        self.assertEqual({i: t["outcome"] for i, t in self._tests(many).items()}, expected)
        # Not an empty comparison: every suite ran, with every outcome.
        self.assertEqual({i.split(".")[0] for i in expected}, set(_SUITES))
        self.assertTrue({"passed", "error", "failed", "skipped"} <= set(expected.values()), expected)

    def test_same_findings(self):
        single, distributed, one, many = self.runs()
        expected = {i: _stable(json.dumps(t["findings"])) for i, t in self._tests(one).items()}
        found = {i: _stable(json.dumps(t["findings"])) for i, t in self._tests(many).items()}
        for test_id in expected:
            self.assertEqual(found.get(test_id), expected[test_id], test_id)
        self.assertGreater(one["summary"]["dirty_tests"], 5)
        self.assertEqual(_per_test(many["summary"]), _per_test(one["summary"]))

    def test_same_counts_and_exit_status(self):
        single, distributed, one, many = self.runs()
        self.assertEqual(
            (distributed.returncode, distributed.status, distributed.counts),
            (single.returncode, single.status, single.counts),
            distributed.output,
        )
        ran = [re.findall(r"^Ran (\d+) tests? in", run.output, re.M) for run in (single, distributed)]
        self.assertEqual(ran, [[str(len(one["tests"]))]] * 2)

    def test_same_summary(self):
        # What was ignored, by which rule or marker, and which are stale.
        single, distributed, one, many = self.runs()
        expected = _summary(single.output)
        self.assertEqual(_summary(distributed.output), expected)
        self.assertTrue(any(line.startswith("  ignored: ") for line in expected), expected)
        self.assertTrue(any(line.startswith("  stale ignore rules") for line in expected), expected)

    def test_durations_are_where_the_test_ran(self):
        single, distributed, one, many = self.runs()
        slow = ("dist_parity.Slow.test_sleeps_in_the_reactor", "dist_parity.SlowSync.test_sleeps")
        for report in (one, many):
            tests = self._tests(report)
            for test_id in slow:
                self.assertGreaterEqual(tests[test_id]["duration"], 0.15, test_id)
                self.assertLess(tests[test_id]["duration"], 5, test_id)


def _per_test(summary: dict) -> dict:
    # What outlived every test is counted per process: each -j worker
    # reports what it made at import (foundation_preexisting's timer).
    return {k: v for k, v in summary.items() if k != "run_level"}


class SamePlain(_SameUnderJ, SynchronousTestCase):
    mode = "plain"


class SameUncleanWarnings(_SameUnderJ, SynchronousTestCase):
    mode = "unclean-warnings"

    def test_same_findings(self):
        # Dirty tests pass with a warning: no test has findings.
        single, distributed, one, many = self.runs()
        self.assertEqual(_per_test(many["summary"]), _per_test(one["summary"]))
        self.assertEqual(one["summary"]["dirty_tests"], 0)
        self.assertIn("UserWarning: This test left the reactor dirty", distributed.output)


class SameIgnoreRules(_SameUnderJ, SynchronousTestCase):
    mode = "ignore-rules"

    def test_rules_were_applied(self):
        single, distributed, one, many = self.runs()
        for report in (one, many):
            tests = self._tests(report)
            self.assertEqual(tests["dist_parity.Marked.test_rule_accepts"]["outcome"], "passed")
            self.assertEqual(tests["foundation_suite.SyncDirty.test_a_dirty"]["outcome"], "passed")


class ConfigurationError(SynchronousTestCase):
    def test_said_once_before_any_worker_starts(self):
        run = cached_run("--reporter=strictclean", "-j2", "--unclean-warnings", "foundation_dirty_only")
        self.assertEqual(run.counts, {"successes": 3}, run.output)
        bad = run_trial("--reporter=strictclean", "-j2", "foundation_suite", env={"TRIAL_STRICTCLEAN_COLOR": "bogus"})
        self.assertEqual(bad.returncode, 2, bad.output)
        self.assertEqual(bad.output.count("trial-strictclean: configuration error: "), 1, bad.output)
        self.assertNotIn("Traceback", bad.output)
        self.assertNotIn("Running", bad.output)


class WorkerAccount(SynchronousTestCase):
    """What a worker sends after each test, and how the main process counts it."""

    def ignored(self):
        from trial_strictclean.core.config import Rule
        from trial_strictclean.core.findings import Finding, Site
        from trial_strictclean.core.ignore import Triage
        from trial_strictclean.core.markers import ignore_leftovers

        rules = (Rule(reason="r", kind="delayed-call", origin="ignore[0] in here"), Rule(reason="r", kind="writer", origin="ignore[1] in here"))

        class Case:
            _testMethodName = "test_it"

            def id(self):
                return "m.Case.test_it"

            @ignore_leftovers("reader", reason="marked")
            def test_it(self):
                pass

        # A long message: the account goes in several AMP values.
        finding = Finding("delayed-call", "r", "s", "x" * 40_000, created=Site("a.py", 1, "f"))
        worker = Triage(rules, "/")
        kept = worker(Case(), [finding, Finding("reader", "r", "s", "m"), Finding("process-running", "r", "s", "m")])
        self.assertEqual([f.kind for f in kept], ["process-running"])
        return rules, Case(), worker.take_ignored(), Triage

    def test_counted_in_the_main_process_as_in_the_worker(self):
        from trial_strictclean.trial import distributed

        rules, case, ignored, Triage = self.ignored()
        sent = []

        class Worker:
            def callRemote(self, command, **arguments):
                sent.append(command.makeArguments(arguments, None))

        distributed._send(Worker(), distributed.WorkerReport(case.id(), 1.5, tuple(ignored)))
        self.assertGreater(len(sent), 2)

        class Main:
            _testCase = case

        main_side = Main()
        for box in sent:
            distributed._received(main_side, box)
        report = distributed.take(case)
        self.assertIsNone(distributed.take(case))
        self.assertEqual(report.duration, 1.5)
        self.assertEqual(report.ignored, tuple(ignored))

        class Bare:
            pass  # a LocalWorkerAMP that would not say which test it runs

        bare = Bare()
        for box in sent:
            distributed._received(bare, box)
        self.assertEqual(distributed.take(case), report)

        main = Triage(rules, "/")
        main.saw(case)
        self.assertEqual(len(main.stale()), 3)
        main.merge(list(report.ignored))
        self.assertEqual([i.by for i in main.ignored], [i.by for i in ignored])
        # The writer rule matched nothing; the marker and the other rule did.
        self.assertEqual(main.stale(), ["ignore[1] in here (kind='writer')"])
