"""
The in-code way to accept a leftover: ``@ignore_leftovers(kind, ..., reason=...)``
on a test method or on a test class (and so on all its tests).

Kept free of Twisted imports: test modules import it at collection time.
The markers are read where they are applied (``ignore.markers_of``): a run
whose tests use none never imports this module.
"""

from __future__ import annotations

import inspect
import os

from .findings import ATTRIBUTE, KINDS, Value

# The folder trial was started in.  A marker names its file relative to it,
# as it is when Trial imports the test modules; a ``trial -j`` worker imports
# them from inside ``_trial_temp``, so the worker sets this (distributed.py)
# and its markers read exactly as the main process's.
root: str | None = None


class Marker(Value):
    """One ``ignore_leftovers`` decoration: no kinds means every kind."""

    # A frozen plain value (findings.Value), not a @dataclass: cheaper at start-up.
    _FIELDS = ("kinds", "reason", "origin")

    kinds: tuple[str, ...]
    reason: str
    origin: str

    def __init__(self, kinds: tuple[str, ...], reason: str, origin: str) -> None:
        self._init({"kinds": kinds, "reason": reason, "origin": origin})

    def matches(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def describe(self) -> str:
        kinds = ", ".join(self.kinds) if self.kinds else "any kind"
        return f"@ignore_leftovers({kinds}) on {self.origin}"


def _origin(target) -> str:
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    try:
        path = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return name
    base = root or os.getcwd()
    if path and path.startswith(os.path.join(base, "")):
        path = os.path.relpath(path, base)
    return f"{name} ({path}:{line})"


def ignore_leftovers(*kinds: str, reason: str):
    """
    Accept leftovers of ``kinds`` (every kind if none is given) from the
    decorated test method, or from every test of the decorated class.

    They are still cleaned up after the test; they are counted as ignored
    instead of failing it.  ``reason`` is required: say why they are fine.
    """
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(
            f"ignore_leftovers: {unknown[0]!r} is not a kind of leftover; "
            f"the kinds are {', '.join(KINDS)}"
        )
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("ignore_leftovers: reason= is required: say why these leftovers are acceptable")

    def decorate(target):
        marker = Marker(tuple(kinds), reason.strip(), _origin(target))
        if isinstance(target, type):
            # Only this class's own markers: the ones it inherits are found
            # on its bases when a test is checked.
            existing = target.__dict__.get(ATTRIBUTE, ())
        else:
            existing = getattr(target, ATTRIBUTE, ())
        setattr(target, ATTRIBUTE, tuple(existing) + (marker,))
        return target

    return decorate

