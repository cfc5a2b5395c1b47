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
from dataclasses import dataclass

from twisted.python.failure import Failure

from .findings import Finding, Site
from .provenance import is_library

OUTCOMES = ("passed", "failed", "error", "skipped", "expected-failure", "unexpected-success")


@dataclass(frozen=True)
class Problem:
    """A failure, error or skip as Trial reported it, ready to render."""

    flavor: str  # "failure", "error", "skipped", "expected-failure"
    type: str
    message: str
    text: str
    # The innermost frame of the test's own code, for annotations.
    site: Site | None = None


@dataclass(frozen=True)
class TestRecord:
    id: str
    outcome: str
    duration: float
    findings: tuple[Finding, ...] = ()
    problems: tuple[Problem, ...] = ()
    # Where the test is defined (relative to the run's root when inside it).
    file: str | None = None
    line: int | None = None


def _display(path: str, root: str) -> str:
    root = os.path.join(root, "")
    return path[len(root) :] if root != os.sep and path.startswith(root) else path


def _definition(test, root: str) -> tuple[str | None, int | None]:
    method = getattr(test, getattr(test, "_testMethodName", "") or "", None)
    function = inspect.unwrap(getattr(method, "__func__", method)) if method is not None else None
    code = getattr(function, "__code__", None)
    if code is None:
        return None, None
    return _display(os.path.abspath(code.co_filename), root), code.co_firstlineno


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


class _Running:
    def __init__(self, test_id: str, file, line) -> None:
        self.id = test_id
        self.file = file
        self.line = line
        self.start = time.perf_counter()
        self.duration = 0.0
        self.flags: set[str] = set()
        self.findings: list[Finding] = []
        self.problems: list[Problem] = []

    def outcome(self) -> str:
        flags = self.flags
        if "failure" in flags:
            return "failed"
        if "error" in flags or self.findings:
            return "error"
        for flag in ("unexpected-success", "expected-failure", "skipped"):
            if flag in flags:
                return flag
        return "passed"

    def freeze(self) -> TestRecord:
        return TestRecord(
            self.id, self.outcome(), self.duration, tuple(self.findings), tuple(self.problems), self.file, self.line
        )


class Outcomes:
    """Collects a run's test records in the order the tests started."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._tests: dict[str, _Running] = {}

    def _get(self, test) -> _Running:
        test_id = test.id()
        running = self._tests.get(test_id)
        if running is None:
            original = test
            for _ in range(10):  # Trial's adapters around the real test
                inner = getattr(original, "_originalTest", None)
                if inner is None:
                    break
                original = inner
            try:
                file, line = _definition(original, self.root)
            except Exception:
                file, line = None, None
            running = self._tests[test_id] = _Running(test_id, file, line)
        return running

    def start(self, test) -> None:
        self._get(test).start = time.perf_counter()

    def stop(self, test) -> None:
        running = self._get(test)
        running.duration = time.perf_counter() - running.start

    def success(self, test) -> None:
        self._get(test)

    def skip(self, test, reason) -> None:
        running = self._get(test)
        running.flags.add("skipped")
        text = str(reason)
        running.problems.append(Problem("skipped", "unittest.case.SkipTest", _first_line(text), text))

    def expected_failure(self, test, error, todo=None) -> None:
        running = self._get(test)
        running.flags.add("expected-failure")
        failure = as_failure(error)
        reason = getattr(todo, "reason", None) or failure.getErrorMessage()
        running.problems.append(
            Problem("expected-failure", _type_name(failure), _first_line(str(reason)), failure.getTraceback())
        )

    def unexpected_success(self, test, todo=None) -> None:
        self._get(test).flags.add("unexpected-success")

    def failure(self, test, error, flavor: str = "failure") -> None:
        running = self._get(test)
        running.flags.add(flavor)
        failure = as_failure(error)
        running.problems.append(
            Problem(
                flavor,
                _type_name(failure),
                _first_line(failure.getErrorMessage()),
                failure.getTraceback(),
                _test_frame(failure, running.file, self.root),
            )
        )

    def dirty(self, test, findings) -> None:
        self._get(test).findings.extend(findings)

    def records(self) -> list[TestRecord]:
        return [running.freeze() for running in self._tests.values()]
