"""
What became of each test of a run, as plain values for the CI reports:
one record per test id, with its outcome, duration, findings and the
failures, errors and skips Trial reported for it.

Trial reports a test through several calls (an error, then our dirty-reactor
error; or a failure that arrives after the test stopped), so records are
keyed by test id and their outcome is decided from everything they got.
"""

from __future__ import annotations

import inspect
import os
import time

from twisted.python.failure import Failure

from .findings import Finding, Site, Value
from .provenance import is_library

OUTCOMES = ("passed", "failed", "error", "skipped", "expected-failure", "unexpected-success", "interrupted")


class Problem(Value):
    """A failure, error or skip as Trial reported it, ready to render."""

    # Frozen plain values (findings.Value), not @dataclasses: cheaper at start-up.
    _FIELDS = ("flavor", "type", "message", "text", "site")

    flavor: str  # "failure", "error", "skipped", "expected-failure"
    type: str
    message: str
    text: str
    # The innermost frame of the test's own code, for annotations.
    site: Site | None

    def __init__(self, flavor: str, type: str, message: str, text: str, site: Site | None = None) -> None:
        self._init({"flavor": flavor, "type": type, "message": message, "text": text, "site": site})


class TestRecord(Value):
    _FIELDS = ("id", "outcome", "duration", "findings", "problems", "file", "line")

    id: str
    outcome: str
    duration: float
    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]
    # Where the test is defined (relative to the run's root when inside it).
    file: str | None
    line: int | None

    def __init__(
        self,
        id: str,
        outcome: str,
        duration: float,
        findings: tuple[Finding, ...] = (),
        problems: tuple[Problem, ...] = (),
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        self._init(
            {
                "id": id, "outcome": outcome, "duration": duration, "findings": findings, "problems": problems,
                "file": file, "line": line,
            }
        )

    @property
    def dirty(self) -> bool:
        """Whether the test left a leftover the baseline does not know."""
        return any(not f.baseline for f in self.findings)


def _display(path: str, root: str) -> str:
    root = os.path.join(root, "")
    return path[len(root) :] if root != os.sep and path.startswith(root) else path


def _definition(test, root: str, paths: dict) -> tuple[str | None, int | None]:
    method = getattr(test, getattr(test, "_testMethodName", "") or "", None)
    function = inspect.unwrap(getattr(method, "__func__", method)) if method is not None else None
    code = getattr(function, "__code__", None)
    if code is None:
        return None, None
    # Tests share files: resolve each file name once per run.
    shown = paths.get(code.co_filename)
    if shown is None:
        shown = paths[code.co_filename] = _display(os.path.abspath(code.co_filename), root)
    return shown, code.co_firstlineno


def _type_name(failure: Failure) -> str:
    cls = failure.type
    module = getattr(cls, "__module__", "")
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", str(cls))
    return name if module in ("builtins", "exceptions", None, "") else f"{module}.{name}"


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _test_frame(failure: Failure, test_file: str | None, root: str) -> Site | None:
    """The innermost frame in the test's file, else in any user code."""
    frames = list(getattr(failure, "frames", None) or [])
    fallback = None
    for frame in reversed(frames):
        name, path, line = frame[0], frame[1], frame[2]
        shown = _display(os.path.abspath(path), root)
        if test_file is not None and shown == test_file:
            return Site(shown, line, name)
        if fallback is None and not is_library(path):
            fallback = Site(shown, line, name)
    return fallback


def as_failure(error) -> Failure:
    """A Failure for whatever shape Trial hands an error or a todo in."""
    if isinstance(error, Failure):
        return error
    if isinstance(error, tuple):
        return Failure(error[1], error[0], error[2])
    if isinstance(error, str):
        # trial -j on Twisted 22.10 passes an expected failure as its text.
        return Failure(Exception(error))
    return Failure(error)


def _outcome(flags: tuple[str, ...], dirty: bool) -> str:
    # A test Ctrl-C stopped did not finish: what it reported before (or an
    # error the stop caused) says nothing about the test.
    if "interrupted" in flags:
        return "interrupted"
    if "failure" in flags:
        return "failed"
    if "error" in flags or dirty:
        return "error"
    for flag in ("unexpected-success", "expected-failure", "skipped"):
        if flag in flags:
            return flag
    return "passed"


class Outcomes:
    """
    Collects a run's test records in the order the tests started.

    Kept as columns (one dict per field, keyed by test id) rather than an
    object per test: the values are strings, numbers and tuples of them,
    which Python's garbage collector stops tracking, so the 11,000 tests of
    a large suite add a handful of containers to each full collection, not
    tens of thousands.  Twisted's own suite calls gc.collect() often enough
    for that to show in its wall time.

    With ``every_test`` false (no JSON or JUnit report asked for), only
    tests that had something to say are kept, without durations, in the
    order they first said it: the summary and the annotations need no
    more, and a passing test then costs no memory at all.
    """

    def __init__(self, root: str, every_test: bool = True) -> None:
        self.root = root
        self.every_test = every_test
        # test id -> (file, line) where it is defined; also the run's order.
        self._where: dict[str, tuple] = {}
        self._paths: dict[str, str] = {}
        self._start: dict[str, float] = {}
        self._duration: dict[str, float] = {}
        self._flags: dict[str, tuple[str, ...]] = {}
        self._findings: dict[str, tuple[Finding, ...]] = {}
        # Known findings (the baseline's), which do not make a test dirty.
        self._known: dict[str, tuple[Finding, ...]] = {}
        self._problems: dict[str, tuple[Problem, ...]] = {}

    def _id(self, test) -> str:
        """The test's id, noting where it is defined the first time."""
        test_id = test.id()
        if test_id not in self._where:
            original = test
            for _ in range(10):  # Trial's adapters around the real test
                inner = getattr(original, "_originalTest", None)
                if inner is None:
                    break
                original = inner
            try:
                self._where[test_id] = _definition(original, self.root, self._paths)
            except Exception:
                self._where[test_id] = (None, None)
        return test_id

    def _flag(self, test_id: str, flag: str) -> None:
        self._flags[test_id] = self._flags.get(test_id, ()) + (flag,)

    def _problem(self, test_id: str, problem: Problem) -> None:
        self._problems[test_id] = self._problems.get(test_id, ()) + (problem,)

    def start(self, test) -> None:
        if self.every_test:
            self._start[self._id(test)] = time.perf_counter()

    def stop(self, test, duration: float | None = None) -> None:
        """The test ended; ``duration``, if given, is its time where it ran."""
        if self.every_test:
            test_id = self._id(test)
            started = self._start.pop(test_id, None)
            if duration is None and started is not None:
                duration = time.perf_counter() - started
            if duration is not None:
                self._duration[test_id] = duration

    def success(self, test) -> None:
        if self.every_test:
            self._id(test)

    def skip(self, test, reason) -> None:
        test_id = self._id(test)
        self._flag(test_id, "skipped")
        text = str(reason)
        self._problem(test_id, Problem("skipped", "unittest.case.SkipTest", _first_line(text), text))

    def expected_failure(self, test, error, todo=None) -> None:
        test_id = self._id(test)
        self._flag(test_id, "expected-failure")
        failure = as_failure(error)
        reason = getattr(todo, "reason", None) or failure.getErrorMessage()
        self._problem(
            test_id,
            Problem("expected-failure", _type_name(failure), _first_line(str(reason)), failure.getTraceback()),
        )

    def unexpected_success(self, test, todo=None) -> None:
        self._flag(self._id(test), "unexpected-success")

    def failure(self, test, error, flavor: str = "failure") -> None:
        test_id = self._id(test)
        self._flag(test_id, flavor)
        failure = as_failure(error)
        self._problem(
            test_id,
            Problem(
                flavor,
                _type_name(failure),
                _first_line(failure.getErrorMessage()),
                failure.getTraceback(),
                _test_frame(failure, self._where[test_id][0], self.root),
            ),
        )

    def interrupted(self, test) -> None:
        """Ctrl-C stopped ``test`` before it finished."""
        test_id = self._id(test)
        if "interrupted" not in self._flags.get(test_id, ()):
            self._flag(test_id, "interrupted")

    def forget(self, test) -> None:
        """``test`` never ran after all (an interrupted run): no record."""
        test_id = test.id()
        for column in (
            self._where, self._start, self._duration, self._flags, self._findings, self._known, self._problems
        ):
            column.pop(test_id, None)

    def dirty(self, test, findings) -> None:
        test_id = self._id(test)
        # Known ones also arrive through ``known``, for every test: once.
        new = tuple(f for f in findings if not f.baseline)
        self._findings[test_id] = self._findings.get(test_id, ()) + new

    def known(self, test, findings) -> None:
        """Findings of ``test`` the baseline accepted: listed, not failing."""
        if findings:
            test_id = self._id(test)
            self._known[test_id] = self._known.get(test_id, ()) + tuple(findings)

    def records(self) -> list[TestRecord]:
        records = []
        for test_id, (file, line) in self._where.items():
            findings = self._findings.get(test_id, ())
            flags = self._flags.get(test_id, ())
            if test_id in self._start:
                # Started, never stopped: the run ended under it (the
                # reports written at exit after a KeyboardInterrupt).
                flags += ("interrupted",)
            records.append(
                TestRecord(
                    test_id,
                    _outcome(flags, bool(findings)),
                    self._duration.get(test_id, 0.0),
                    findings + self._known.get(test_id, ()),
                    self._problems.get(test_id, ()),
                    file,
                    line,
                )
            )
        return records
