"""
The triage a run starts with (``new_triage``).

A run that configures no ignore rule and no baseline (most runs) can only
have findings accepted by ``@ignore_leftovers`` markers, and most have none.
Its triage starts as an ``Untriaged``, which answers what ``ignore.Triage``
would answer while nothing was accepted, and becomes that ``Triage`` the
first time it has anything to decide: a test with markers, findings to
triage, another process's ignored findings.  Until then core/ignore.py is
not imported: each module costs about 2 M instructions or more at pytest
start-up (the assertion rewriter imports every module of this package).
"""

from __future__ import annotations

from .findings import markers_of


def new_triage(rules: tuple, root: str, baseline=None):
    """An ``ignore.Triage(rules, root, baseline)``, or what stands for it until it is needed."""
    if rules or baseline is not None:
        from .ignore import Triage

        return Triage(rules, root, baseline)
    return Untriaged(root)


class Untriaged:
    """
    ``ignore.Triage((), root)`` before it has decided anything: the same
    answers, without its module.  Whatever else is asked of it turns it
    into that Triage (its class changes, and its state is then Triage's,
    fresh), so that everyone who holds it holds the real one.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        # Nothing is accepted before it becomes a Triage.
        self.ignored: list = []

    def _become_triage(self):
        from .ignore import Triage

        self.__class__ = Triage
        Triage.__init__(self, (), self.root)
        return self

    def with_baseline(self, report):
        # No baseline: the runner's own delivery.
        return report

    def saw(self, test) -> None:
        # Only markers to note (no baseline): usually none.
        if markers_of(test):
            self._become_triage().saw(test)

    def stale(self) -> list:
        # No rules, and no marker seen: nothing is stale.
        return []

    def stale_baseline(self) -> list:
        return []

    def __call__(self, test, findings: list) -> list:
        return self._become_triage()(test, findings)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            # Probes of protocols (copy, pickle, ...) change nothing.
            raise AttributeError(name)
        return getattr(self._become_triage(), name)
