"""
No cascades (issue 17): what the reporter does after a verdict never
changes the outcome of a later test.  Each fixture has dirty tests followed
by tests that use the same library state; the dirty ones must be reported
with findings of their own, and every later one must pass, whatever the
verdict was turned into (an error, a warning, an ignored leftover), on
either reactor, in one process or in ``trial -j``.  Stock Trial passes
every test of these fixtures, and the property checked against it is
generic: a test that does worse than stock carries a finding of its own.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor

from twisted.trial.unittest import SynchronousTestCase

from .trialrun import run_trial

FIXTURES = ("cascade_queue", "cascade_server", "cascade_loop")

# Each dirty test: the kind of its finding, and a name the finding's text
# must contain so a reader knows which leftover it was.
DIRTY = {
    "cascade_queue.DirtyAsync.test_send_and_leave": ("delayed-call", "EventualQueue._turn"),
    "cascade_queue.DirtySync.test_send_and_leave": ("delayed-call", "EventualQueue._turn"),
    "cascade_server.Dirty.test_close_client_only": ("connection-open", "_ServerEnd"),
    "cascade_loop.DirtyAsync.test_submit_and_leave": ("looping-call", "Worker._tick"),
    "cascade_loop.DirtyStdlib.test_submit_and_leave": ("looping-call", "Worker._tick"),
}
LATER = (
    "cascade_queue.Later.test_1_flush",
    "cascade_queue.Later.test_2_send_and_wait",
    "cascade_queue.Later.test_3_earlier_sends_ran",
    "cascade_server.Later.test_1_no_connection_lingers",
    "cascade_server.Later.test_2_no_connection_lingers",
    "cascade_loop.Later.test_1_two_ticks",
    "cascade_loop.Later.test_2_two_ticks",
)

# One rule per leftover, by kind and by the module that created it.
IGNORE = (
    '[{ kind = "delayed-call", where = "cascade_queue:*", reason = "the eventual-send queue" },'
    ' { kind = "connection-open", where = "cascade_server:*", reason = "the shared server" },'
    ' { kind = "looping-call", where = "cascade_loop:*", reason = "the background worker" }]'
)

# Trial's words for outcomes (bwverbose) in the JSON report's terms.
_STOCK_OUTCOMES = {
    "OK": "passed",
    "FAILURE": "failed",
    "ERROR": "error",
    "SKIPPED": "skipped",
    "TODO": "expected-failure",
    "SUCCESS!?!": "unexpected-success",
}
_PASSING = {"passed", "skipped", "expected-failure"}
_WORST_FIRST = ("error", "failed", "unexpected-success", "expected-failure", "skipped", "passed")
_STOCK_LINE = re.compile(r"^(\S+) \.\.\. ((?:\[[^\]]+\])+)$", re.M)


class StrictRun:
    """A strictclean run: trial's output and the JSON report's tests by id."""

    def __init__(self, trial, report):
        self.trial = trial
        self.tests = {t["id"]: t for t in report.get("tests", ())}

    def outcome(self, test_id):
        return self.tests[test_id]["outcome"] if test_id in self.tests else "missing"


def _strict(options, env=()):
    with tempfile.TemporaryDirectory(prefix="strictclean-cascade-") as folder:
        path = os.path.join(folder, "report.json")
        trial = run_trial(
            "--reporter=strictclean", *options, *FIXTURES, env={**dict(env), "TRIAL_STRICTCLEAN_JSON": path}
        )
        try:
            with open(path, encoding="utf-8") as file:
                report = json.load(file)
        except (OSError, ValueError):
            report = {}  # the assertions show trial's output instead
    return StrictRun(trial, report)


def stock_outcomes(output: str) -> dict:
    """Each test's outcome from ``--reporter=bwverbose`` output, the worst if several."""
    outcomes = {}
    for test_id, flags in _STOCK_LINE.findall(output):
        seen = {_STOCK_OUTCOMES.get(flag, flag) for flag in re.findall(r"\[([^\]]+)\]", flags)}
        outcomes[test_id] = min(seen, key=lambda o: _WORST_FIRST.index(o) if o in _WORST_FIRST else -1)
    return outcomes


def _stock(options):
    trial = run_trial("--reporter=bwverbose", *options, *FIXTURES)
    return trial, stock_outcomes(trial.output)


# Every run the module needs, started together the first time one is
# needed: today's code makes later tests hang until their 5 s timeout,
# time spent waiting, which runs side by side share.
_RUNS = {
    ("strict", "default", "plain"): lambda: _strict(()),
    ("strict", "default", "warnings"): lambda: _strict(("--unclean-warnings",)),
    ("strict", "default", "ignore"): lambda: _strict((), {"TRIAL_STRICTCLEAN_IGNORE": IGNORE}.items()),
    ("strict", "asyncio", "plain"): lambda: _strict(("--reactor=asyncio",)),
    ("strict", "asyncio", "warnings"): lambda: _strict(("--reactor=asyncio", "--unclean-warnings")),
    ("strict", "asyncio", "ignore"): lambda: _strict(
        ("--reactor=asyncio",), {"TRIAL_STRICTCLEAN_IGNORE": IGNORE}.items()
    ),
    # Not -j2 with asyncio: there stock Trial itself breaks any test that
    # waits more than one loop iteration, unless it is the first test of its
    # worker (the worker's first TrialSuite._bail crashes a loop that is not
    # running, and the stale stop ends the next run at once: KeyboardInterrupt,
    # the worker dies).  Measured on 22.10 and 26.10.
    ("strict", "default", "-j2"): lambda: _strict(("-j2",)),
    ("stock", "default"): lambda: _stock(()),
    ("stock", "asyncio"): lambda: _stock(("--reactor=asyncio",)),
}


@functools.lru_cache(maxsize=None)
def _futures():
    pool = ThreadPoolExecutor(max_workers=4)
    futures = {key: pool.submit(make) for key, make in _RUNS.items()}
    # Joined before the first test that needs a run ends: the pool's
    # threads left running would be that test's thread-running leftovers
    # (whenever a run outlasts it).
    pool.shutdown(wait=True)
    return futures


def run(*key):
    return _futures()[key].result()


def assert_never_worse_than_stock(case, strict: StrictRun, stock: dict):
    """
    Every test whose outcome differs from stock Trial's carries a finding
    of its own; the same tests ran.  A test may do better than stock
    (stock blames a synchronous test's leftover on the next test) but
    never worse without a finding that says why.
    """
    case.assertEqual(sorted(strict.tests), sorted(stock), strict.trial.output)
    worse = []
    for test_id in sorted(stock):
        ours, theirs = strict.outcome(test_id), stock[test_id]
        if ours == theirs or (ours in _PASSING and theirs not in _PASSING):
            continue
        if not strict.tests[test_id]["findings"]:
            worse.append(f"{test_id}: {ours} here, {theirs} under stock Trial:\n{_texts(strict.trial, test_id)}")
    case.assertEqual(worse, [], "\n\n".join(["worse than stock without a finding of its own:", *worse]))


def _texts(trial, test_id):
    return "\n".join(trial.errors.get(test_id, []) + trial.failures.get(test_id, [])) or trial.output


class _Property:
    """Checks shared by every configuration; subclasses name the runs."""

    reactor = "default"
    mode = "plain"

    def setUp(self):
        self.strict = run("strict", self.reactor, self.mode)
        self.stock_trial, self.stock = run("stock", self.reactor)

    def test_stock_passes_everything(self):
        # The fixtures are worth something only if stock Trial passes them.
        self.assertEqual(
            self.stock, dict.fromkeys([*DIRTY, *LATER], "passed"), self.stock_trial.output
        )

    def test_every_later_test_passes(self):
        broken = {t: self.strict.outcome(t) for t in LATER if self.strict.outcome(t) != "passed"}
        self.assertEqual(
            broken,
            {},
            "later tests broken by what was done to an earlier test's leftover:\n\n"
            + "\n\n".join(f"{t}:\n{_texts(self.strict.trial, t)}" for t in broken),
        )

    def test_never_worse_than_stock(self):
        assert_never_worse_than_stock(self, self.strict, self.stock)


class _Reported(_Property):
    """Dirty tests fail with a finding of their own that names the leftover."""

    def test_each_dirty_test_has_its_own_finding(self):
        for test_id, (kind, name) in DIRTY.items():
            test = self.strict.tests.get(test_id, {})
            self.assertEqual(
                (test.get("outcome"), [f["kind"] for f in test.get("findings", ())]),
                ("error", [kind]),
                f"{test_id}:\n{_texts(self.strict.trial, test_id)}",
            )
            self.assertIn(name, self.strict.trial.error_text(test_id), test_id)

    def test_only_the_dirty_tests_err(self):
        trial = self.strict.trial
        self.assertEqual((sorted(trial.errors), trial.failures), (sorted(DIRTY), {}), trial.output)
        self.assertEqual(trial.counts, {"errors": len(DIRTY), "successes": len(LATER)}, trial.output)


class Plain(_Reported, SynchronousTestCase):
    pass


class PlainAsyncio(_Reported, SynchronousTestCase):
    reactor = "asyncio"


class Distributed(_Reported, SynchronousTestCase):
    # Trial -j hands out tests one by one to whichever worker is free, so
    # which later tests share a worker with a dirty one varies; every
    # assertion here holds whatever the split.
    mode = "-j2"


class _Warned(_Property):
    """--unclean-warnings: dirty tests pass, each with a warning naming its leftover."""

    mode = "warnings"

    def test_dirty_tests_pass_with_a_warning(self):
        trial = self.strict.trial
        self.assertEqual((trial.errors, trial.failures), ({}, {}), trial.output)
        self.assertEqual(trial.counts, {"successes": len(DIRTY) + len(LATER)}, trial.output)
        self.assertEqual(trial.output.count("UserWarning: This test left the reactor dirty"), len(DIRTY), trial.output)
        for kind, name in DIRTY.values():
            self.assertIn(kind, trial.output)
            self.assertIn(name, trial.output)


class Warned(_Warned, SynchronousTestCase):
    pass


class WarnedAsyncio(_Warned, SynchronousTestCase):
    reactor = "asyncio"


class _Ignored(_Property):
    """An ignore rule for each leftover: dirty tests pass, counted as ignored."""

    mode = "ignore"

    def test_dirty_tests_pass_and_are_counted(self):
        trial = self.strict.trial
        self.assertEqual((trial.errors, trial.failures), ({}, {}), trial.output)
        self.assertEqual(trial.counts, {"successes": len(DIRTY) + len(LATER)}, trial.output)
        self.assertIn("ignored: 5 (1 connection-open, 2 delayed-call, 2 looping-call)", trial.output)
        for index, count in enumerate((2, 1, 2)):
            self.assertIn(f"{count} by ignore[{index}] in environment variable TRIAL_STRICTCLEAN_IGNORE", trial.output)
        self.assertNotIn("stale ignore rules", trial.output)


class Ignored(_Ignored, SynchronousTestCase):
    pass


class IgnoredAsyncio(_Ignored, SynchronousTestCase):
    reactor = "asyncio"


class StockOutcomes(SynchronousTestCase):
    """The parser the property relies on."""

    def test_worst_flag_wins(self):
        output = "a.B.test_1 ... [OK]\na.B.test_2 ... [OK][ERROR]\na.B.test_3 ... [TODO]\nnoise ... x\n"
        self.assertEqual(
            stock_outcomes(output),
            {"a.B.test_1": "passed", "a.B.test_2": "error", "a.B.test_3": "expected-failure"},
        )
