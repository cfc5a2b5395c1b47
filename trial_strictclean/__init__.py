"""
trial-strictclean: a Trial reporter that fails each test which leaves the
Twisted reactor dirty, and tells the reader where the leftover came from.

Importing this package must stay cheap and must never import
``twisted.internet.reactor``: Trial imports it while parsing options, before
it installs the reactor chosen with ``--reactor``.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # Loaded only when asked for: DirtyReactor needs twisted.trial.
    if name == "DirtyReactor":
        from .trial.verdict import DirtyReactor

        return DirtyReactor
    if name == "ignore_leftovers":
        from .core.markers import ignore_leftovers

        return ignore_leftovers
    raise AttributeError(f"module 'trial_strictclean' has no attribute {name!r}")
