"""
One way to build the session that judges tests, for every process of a run:
the single process of a plain ``trial`` run, and each worker of ``trial -j``.

Whatever decides a verdict (ignore rules, ``@ignore_leftovers`` markers, the
baseline) is set up here and nowhere else, so a test gets
the same verdict whichever process runs it.  What only reports (outcomes,
the summary, the JSON and JUnit files) stays in the main process, which
counts a worker's ignored findings with ``Triage.merge``.
"""

from __future__ import annotations

from . import config
from .ignore import Triage
from .session import Session


def new_session(root: str, settings: config.Config, warn, report) -> Session:
    """
    The session that judges the tests this process runs; ``report`` is the
    runner's way to deliver a verdict (``Session.report``).
    """
    session = Session(root, warn=warn)
    baseline = None
    if settings.baseline or settings.baseline_entries:
        # Only with a baseline: without one the triage's empty default
        # stands in and core/baseline.py is never imported (each module
        # costs the run its import: docs/internals.rst, "Cost of capture").
        from .baseline import Baseline

        baseline = Baseline(settings.baseline_entries, settings.baseline or "")
    triage = Triage(settings.ignore, root, baseline)
    session.triage = triage
    # Known findings (the baseline) are decided as the verdict is delivered,
    # after the session said what became of each leftover.
    session.report = triage.with_baseline(report)
    return session


def worker_settings(root: str, warn) -> config.Config:
    """
    The run's settings, read again in a ``trial -j`` worker.

    The worker reads the same pyproject.toml and environment as the main
    process, which read them first and stops the run on a mistake; so a
    mistake here only needs a word, not a second message.
    """
    try:
        return config.load(root)
    except config.ConfigError as error:
        warn(f"configuration error: {error}")
        return config.Config()
