"""
The error a dirty test is failed with, how it is delivered, and its form
on the wire between a ``trial -j`` worker and the main process.

It subclasses Trial's ``DirtyReactorAggregateError`` so that everything
Trial does with its own dirty-reactor errors (``--unclean-warnings`` turning
them into warnings) applies to ours unchanged.  It carries the findings as
data; its text is the plain rendering, for places that only show ``str()``.
"""

from __future__ import annotations

import json

from twisted.python.failure import Failure
from twisted.trial.util import DirtyReactorAggregateError

from ..core.findings import Finding
from ..render.text import headline, render

_MARK = "trial-strictclean-findings: "


class DirtyReactor(DirtyReactorAggregateError):
    """A test left things in the reactor; ``findings`` says what."""

    # In a ``trial -j`` worker the message is all that reaches the main
    # process, so there it carries the findings as data (``encode``).
    wire = False

    def __init__(self, findings, root: str = "") -> None:
        Exception.__init__(self, headline(list(findings)))
        self.findings = tuple(findings)
        self.root = root
        # What Trial's class offers, for code that inspects it.
        self.delayedCalls = []
        self.selectables = []

    def __str__(self) -> str:
        if self.wire:
            return encode(headline(list(self.findings)), self.findings)
        return render(list(self.findings), self.root).rstrip("\n")


# Reports name the error by where users import it from.
DirtyReactor.__module__ = "trial_strictclean"


class Delivery:
    """
    Reports a dirty test as a ``DirtyReactor`` error (``Session.report``),
    and learns whether the error arrived: the reporter sets ``delivered``
    when it receives it, which it does not when ``--unclean-warnings`` put
    Trial's wrapper in between (the test then passes, with a warning).
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.delivered = False

    def __call__(self, test, result, findings) -> bool:
        """Add the error to the test's own result; whether the test erred."""
        self.delivered = False
        result.addError(test, Failure(DirtyReactor(findings, self.root)))
        return self.delivered


def encode(headline: str, findings) -> str:
    """The error message a worker sends for a dirty test."""
    payload = json.dumps([f.to_dict() for f in findings], separators=(",", ":"))
    return f"{headline}\n{_MARK}{payload}"


def decode(message: str) -> list[Finding] | None:
    """The findings inside a worker's error message, or None."""
    for line in message.splitlines():
        if line.startswith(_MARK):
            try:
                return [Finding.from_dict(d) for d in json.loads(line[len(_MARK) :])]
            except (ValueError, TypeError, KeyError):
                return None
    return None
