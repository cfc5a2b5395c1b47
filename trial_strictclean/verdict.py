"""
The error a dirty test is failed with.

It subclasses Trial's ``DirtyReactorAggregateError`` so that everything
Trial does with its own dirty-reactor errors (``--unclean-warnings`` turning
them into warnings) applies to ours unchanged.  It carries the findings as
data; its text is the plain rendering, for places that only show ``str()``.
"""

from __future__ import annotations

from twisted.trial.util import DirtyReactorAggregateError

from .render_text import headline, render


class DirtyReactor(DirtyReactorAggregateError):
    """A test left things in the reactor; ``findings`` says what."""

    # In a ``trial -j`` worker the message is all that reaches the main
    # process, so there it carries the findings as data (distributed.py).
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
            from .distributed import encode

            return encode(headline(list(self.findings)), self.findings)
        return render(list(self.findings), self.root).rstrip("\n")


# Reports name the error by where users import it from.
DirtyReactor.__module__ = "trial_strictclean"
