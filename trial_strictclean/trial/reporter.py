"""
``trial --reporter=strictclean``: Trial's default tree output, plus a
verdict on every test that leaves something in the reactor.

Trial imports this module while it parses its options, before it changes
into ``_trial_temp`` and before it installs the reactor chosen with
``--reactor``; so the working directory is read here, and the reactor only
when the first test starts.
"""

from __future__ import annotations

import os
import sys

from twisted.python.failure import Failure
from twisted.trial.reporter import TreeReporter

from ..core import capture, config
from ..core.outcomes import as_failure
from ..core.session_factory import new_session
from ..render.github import annotations, repository_root
from ..render.report_files import Reports, check_writable
from ..render.summary import render_run_level, render_summary
from ..render.text import WIDTH, render, render_repeat, signature
from . import distributed, glue, interrupt
from .verdict import Delivery, DirtyReactor

# Sites are shown relative to where the user ran trial.
ROOT = os.getcwd()

# Installed at import: resources created while Trial imports the test
# modules get a creation site too.
capture.install()


# trial --until-failure builds a reporter for every pass and stops after
# the first pass that fails: only that pass (the last) prints our summary.
_UNTIL_FAILURE = any(
    arg == "--until-failure" or (arg[:1] == "-" and arg[1:2] != "-" and "u" in arg[1:].split("=")[0])
    for arg in sys.argv[1:]
)
_passes = 0


def _wants_color(stream, setting: str = "auto") -> bool:
    if setting != "auto":
        return setting == "always"
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except Exception:
        return False


def _text_width(stream) -> int:
    """80 columns, or the terminal's width when it is narrower."""
    columns = 0
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        pass
    if not columns:
        try:
            if stream.isatty():
                columns = os.get_terminal_size(stream.fileno()).columns
        except Exception:
            pass
    return max(40, min(WIDTH, columns)) if columns > 0 else WIDTH


def _load_config() -> config.Config:
    """The run's settings; on a mistake, say it and stop before any test."""
    try:
        settings = config.load(ROOT)
        check_writable(settings)
    except config.ConfigError as error:
        sys.stderr.write(f"trial-strictclean: configuration error: {error}\n")
        sys.stderr.flush()
        # Trial builds its reporter before it runs anything, and lets
        # SystemExit through: no test runs, no traceback.
        raise SystemExit(2) from None
    return settings


# Also at import: trial -j starts its workers before it creates this
# reporter, and they must start with inspection in them.
distributed.install_main(ROOT, check=_load_config)


# How many tests must tell the same story before all but one refer back.
REFER_BACK_FROM = 10


def _first_with(results) -> dict:
    """
    For each story that many dirty tests tell (text.signature), the test
    that gets the full block: the first by id, so that trial -j, which
    reports in another order, says the same.
    """
    tests: dict = {}
    for case, fail, *_ in results:
        if isinstance(fail, Failure) and fail.check(DirtyReactor):
            key = signature(list(fail.value.findings))
            if key is not None:
                tests.setdefault(key, []).append(case.id())
    # A few tests get their full blocks each; many refer back.
    return {key: min(ids) for key, ids in tests.items() if len(ids) >= REFER_BACK_FROM}


class _Colorizer:
    """Trial's tree colours, on or off as configured."""

    _CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34"}

    def __init__(self, stream, color: bool) -> None:
        self.stream = stream
        self.color = color

    def write(self, text, color):
        code = self._CODES.get(color)
        if self.color and code:
            text = f"\x1b[{code};1m{text}\x1b[0m"
        self.stream.write(text)


class StrictCleanReporter(TreeReporter):
    """Trial's tree reporter that fails each test leaving the reactor dirty."""

    def __init__(self, stream=sys.stdout, tbformat="default", realtime=False, publisher=None):
        global _passes
        settings = _load_config()
        super().__init__(stream, tbformat, realtime, publisher)
        _passes += 1
        self._color = _wants_color(stream, settings.color)
        self._width = _text_width(stream)
        # Trial colours a terminal whatever NO_COLOR says; ours does not.
        self._colorizer = _Colorizer(stream, self._color)
        # Under trial -j this session judges nothing (the workers do, with
        # sessions built the same way), but its triage keeps the run's count.
        self._record_failed = False
        self._delivery = Delivery(ROOT)
        self._session = new_session(ROOT, settings, self._warn, self._delivery)
        self._reports = Reports(settings, ROOT, warn=self._warn, triage=self._session.triage)
        self._fail_stale = settings.baseline_stale == "fail"
        # How much of the triage's list of accepted findings was recorded.
        self._accounted = 0
        # Ctrl-C: tests between their startTest and stopTest here, whether
        # the one between them got any outcome, and the interrupted ones.
        self._between: set[str] = set()
        self._got_outcome = False
        self._interrupted: list[str] = []
        interrupt.install("single")
        glue.activate(self._session)

    def _warn(self, text: str) -> None:
        self._stream.write(f"\ntrial-strictclean: {text}\n")

    def _record(self, step, *args) -> None:
        """
        Run one bookkeeping step of ours after Trial's own handling, so a
        fault here never costs Trial's result for the test; say so once.
        """
        try:
            step(*args)
        except Exception as error:
            if not self._record_failed:
                self._record_failed = True
                self._warn(
                    f"could not record a result for the reports: {error!r} "
                    "(Trial's own results stand; the summary and report files may miss tests)"
                )

    @property
    def shouldStop(self):
        # Trial's suites look here before each test: after Ctrl-C no other
        # test starts.
        return self._stop_asked or interrupt.requested()

    @shouldStop.setter
    def shouldStop(self, value):
        self._stop_asked = value

    def startTest(self, test):
        self._between.add(test.id())
        self._got_outcome = False
        super().startTest(test)
        self._record(self._reports.outcomes.start, test)
        self._record(self._reports.triage.saw, test)
        if not distributed.workers_judge:
            self._session.start(test)

    def stopTest(self, test):
        self._between.discard(test.id())
        self._session.stop(test)
        super().stopTest(test)
        self._record(self._stopped, test)

    def _stopped(self, test) -> None:
        duration = None
        if distributed.workers_judge:
            worker = distributed.take(test)
            if worker is not None:
                self._reports.triage.merge(worker.ignored)
                self._session.not_theirs += worker.not_theirs
                duration = worker.duration
                for text in worker.notes:
                    self._warn(text)
        self._record_known(test)
        if interrupt.requested() and not self._got_outcome:
            if distributed.workers_judge:
                # A worker got Ctrl-C before this test began and did not run it.
                self._reports.outcomes.forget(test)
                return
            # It ended without an outcome: a KeyboardInterrupt (a second
            # Ctrl-C) went past Trial.
            self._interrupted.append(test.id())
            self._reports.outcomes.interrupted(test)
        self._reports.outcomes.stop(test, duration)
        self._reports.test_done()

    def _record_known(self, test) -> None:
        """Put the test's findings the baseline knows into its record."""
        ignored = self._reports.triage.ignored
        fresh, self._accounted = ignored[self._accounted :], len(ignored)
        test_id = test.id()
        self._reports.outcomes.known(test, [i.finding for i in fresh if i.finding.baseline and i.test_id == test_id])

    def wasSuccessful(self):
        if interrupt.requested():
            return False
        # With baseline-stale = "fail", an entry that can be deleted fails
        # the run (Trial's exit status and its PASSED/FAILED line).
        if self._fail_stale and self._reports.triage.stale_baseline():
            return False
        # With end-of-run = "fail", what outlived every test fails it too.
        if self._reports.run_failed():
            return False
        return super().wasSuccessful()

    def addSuccess(self, test):
        self._got_outcome = True
        super().addSuccess(test)
        self._record(self._reports.outcomes.success, test)

    def addFailure(self, test, fail):
        self._got_outcome = True
        super().addFailure(test, fail)
        self._record(self._reports.outcomes.failure, test, fail)

    def addSkip(self, test, reason):
        self._got_outcome = True
        super().addSkip(test, reason)
        self._record(self._reports.outcomes.skip, test, reason)
        self._record(self._reports.triage.skipped, test)

    def addExpectedFailure(self, test, error, todo=None):
        self._got_outcome = True
        super().addExpectedFailure(test, error, todo)
        self._record(self._reports.outcomes.expected_failure, test, error, todo)

    def addUnexpectedSuccess(self, test, todo=None):
        self._got_outcome = True
        super().addUnexpectedSuccess(test, todo)
        self._record(self._reports.outcomes.unexpected_success, test, todo)

    def addError(self, test, error):
        self._got_outcome = True
        if self._is_interruption(test, error):
            self._interrupt(test)
            return
        dirty = isinstance(error, Failure) and error.check(DirtyReactor)
        if dirty:
            self._delivery.delivered = True
        super().addError(test, error)
        if dirty:
            self._record(self._reports.outcomes.dirty, test, error.value.findings)
        else:
            self._record(lambda: self._reports.outcomes.failure(test, as_failure(error), "error"))

    def _is_interruption(self, test, error) -> bool:
        """Whether ``error`` says Ctrl-C stopped ``test``."""
        try:
            if as_failure(error).check(KeyboardInterrupt):
                return True
        except Exception:
            return False  # an odd error object: Trial's handling decides
        # Under trial -j, a worker killed or gone after Ctrl-C fails the test
        # it ran once that test has stopped (Trial's worker driver).
        return distributed.workers_judge and interrupt.requested() and test.id() not in self._between

    def _interrupt(self, test) -> None:
        """Record ``test`` as interrupted; no other test starts after it."""
        interrupt.request()
        if test.id() not in self._interrupted:
            self._interrupted.append(test.id())
        self._record(self._reports.outcomes.interrupted, test)
        try:
            self.endLine("[INTERRUPTED]", "yellow")
        except Exception:
            pass

    def _getSummary(self):
        summary = super()._getSummary()
        if not self._interrupted:
            return summary
        count = f"interrupted={len(self._interrupted)}"
        return f" ({count}, {summary[2:]}" if summary else f" ({count})"

    def _groupResults(self, results, formatter):
        # Trial's own grouping (tests whose text is the same are listed under
        # one block), knowing which test each text is for.
        self._first_with = _first_with(results)
        groups = {}
        for case, *outcome in results:
            self._formatting = case
            groups.setdefault(formatter(*outcome), []).append(case)
        self._formatting = None
        return list(groups.items())

    def _formatFailureTraceback(self, fail):
        if isinstance(fail, Failure) and fail.check(DirtyReactor):
            findings = list(fail.value.findings)
            # A helper that leaves the same thing in 1,000 tests: the full
            # block once, then a short one (the same text for all, so Trial
            # lists those tests under one block).
            case = getattr(self, "_formatting", None)
            first = getattr(self, "_first_with", {}).get(signature(findings))
            if case is not None and first is not None and first != case.id():
                return render_repeat(findings, first, self._width, self._color)
            return render(findings, ROOT, self._color, self._width)
        return super()._formatFailureTraceback(fail)

    def _finish_run(self) -> None:
        if interrupt.requested():
            return  # what the interrupted run left is not "the end of the run"
        if distributed.workers_judge:
            # Each worker's, asked for once its tests were done.
            self._reports.run_level = list(distributed.run_level)
        else:
            self._reports.run_level = self._session.finish()

    def _printUnexpectedSuccess(self, todo):
        # Under trial -j the todo arrives as its reason string, which
        # Trial's own reporters crash on (22.10 to 26.10 alike).
        if isinstance(todo, str):
            return f"Reason: {todo!r}\n"
        return super()._printUnexpectedSuccess(todo)

    def _printSummary(self):
        # The end of our text comes just before Trial's PASSED/FAILED line.
        reports = self._reports
        written = reports.finish()
        if _UNTIL_FAILURE and self.wasSuccessful() and self.testsRun:
            # Another pass follows; the reports of this one are written.
            super()._printSummary()
            return
        block = render_run_level(reports.run_level, ROOT, self._color, self._width)
        if block:
            self._write("%s", block)
        # A rule or baseline entry may have matched nothing only because
        # the run stopped early: say nothing about it then.
        complete = not interrupt.requested()
        text = render_summary(
            reports.outcomes.records(),
            reports.triage.ignored,
            reports.triage.stale() if complete else [],
            written,
            self._width,
            stale_baseline=reports.triage.stale_baseline() if complete else [],
            stale_fails=self._fail_stale,
            run_level=reports.run_level,
            run_level_fails=reports.config.end_of_run == "fail",
            not_theirs=self._session.not_theirs,
            interrupted=None if complete else self._interrupted,
        )
        if text and _UNTIL_FAILURE and _passes > 1:
            text = text.replace(
                "trial-strictclean summary", f"trial-strictclean summary (pass {_passes}; the passes before it passed)", 1
            )
        if text:
            self._write("%s\n", text)
        super()._printSummary()

    def done(self):
        glue.deactivate(self._session)
        # Before Trial prints anything: the summary and the exit status
        # (wasSuccessful) include what outlived every test.
        self._record(self._finish_run)
        super().done()
        self._reports.finish()
        if self._reports.config.annotations_wanted():
            lines = annotations(self._reports.outcomes.records(), ROOT, repository_root(ROOT))
            for line in lines:
                self._stream.write(line + "\n")
