"""
Per-run state: the test running now, what the reactor held when it started,
and the checkpoint that judges it once its cleanups and tearDown are done.
"""

from __future__ import annotations

from twisted.python.failure import Failure

from .diagnosis import diagnose
from .findings import Finding
from .inspection import Snapshot, clean, drop_cancelled_calls, settle_threads
from .verdict import DirtyReactor


def _unwrapped(test):
    # Reporters see tests through Trial's adapters (TestDecorator and
    # friends); the hooks see the test itself.
    for _ in range(10):
        inner = getattr(test, "_originalTest", None)
        if inner is None:
            break
        test = inner
    return test


class Session:
    """Judges each test of one Trial run, at most once."""

    def __init__(self, root: str, warn) -> None:
        self.root = root
        self._warn = warn
        self._test = None
        self._snapshot = None
        self._reactor = None
        # Set by the reporter when it receives a DirtyReactor error; stays
        # False when a wrapper (--unclean-warnings) turned it into a warning.
        self.delivered = False
        # Optional policy (ignore rules): triage(test, findings) returns the
        # findings to report; it keeps its own account of the others.
        self.triage = None

    def start(self, test) -> None:
        """Note what the reactor holds as ``test`` starts."""
        from twisted.internet import reactor

        self._reactor = reactor
        self._test = _unwrapped(test)
        try:
            self._snapshot = Snapshot(reactor)
        except Exception as error:
            self._snapshot = None
            self._warn(f"could not look at the reactor before {test.id()}: {error!r}")

    def stop(self, test) -> None:
        if self._test is _unwrapped(test):
            self._test = self._snapshot = None

    def running(self, test) -> bool:
        """Whether ``test`` is the test this session is watching now."""
        return self._test is not None and self._test is _unwrapped(test)

    def pending(self, test) -> bool:
        """Whether ``test`` is running and not judged yet."""
        return self._test is test and self._snapshot is not None

    def inspect(self, test) -> list:
        """Findings for what ``test`` left, which are then cleaned up."""
        if not self.pending(test):
            return []
        snapshot, self._snapshot = self._snapshot, None
        reactor = self._reactor
        # The run goes on whatever breaks in here, and says so; a verdict
        # with less detail beats a lost one.
        try:
            left = snapshot.new_since(reactor)
            settle_threads(reactor, left)
        except Exception as error:
            self._warn(f"could not look at the reactor after {test.id()}: {error!r}")
            return []
        if not left:
            drop_cancelled_calls(reactor)
            return []
        try:
            findings, sockets = diagnose(reactor, left, self.root)
        except Exception as error:
            self._warn(f"could not describe what {test.id()} left: {error!r}")
            findings, sockets = _undescribed(left), ()
        try:
            clean(reactor, left, sockets)
            drop_cancelled_calls(reactor)
        except Exception as error:
            self._warn(f"could not clean up after {test.id()}: {error!r}")
        return findings

    def judge(self, test, result) -> bool:
        """
        Inspect ``test`` and, if it left anything, report the error through
        ``result`` (the result the test itself reports to, so wrappers such
        as --exitfirst see it).  True if the test now counts as errored.
        """
        findings = self.inspect(test)
        if findings and self.triage is not None:
            findings = self.triage(test, findings)
        if not findings:
            return False
        self.delivered = False
        result.addError(test, Failure(DirtyReactor(findings, self.root)))
        return self.delivered


def _undescribed(left) -> list:
    """Bare findings for when diagnosis itself failed."""
    groups = (
        ("delayed-call", left.calls),
        ("reader", left.readers),
        ("writer", left.writers),
        ("process-running", left.processes),
        ("thread-work", left.threads),
    )
    findings = []
    for kind, objects in groups:
        for obj in objects:
            text = f"a {type(obj).__name__}"
            findings.append(
                Finding(
                    kind=kind,
                    resource=text,
                    state="unknown",
                    message=f"The test left {text} in the reactor (no further detail: see the warning above).",
                )
            )
    return findings
