"""
Unhandled errors in Deferreds: a Deferred whose callback chain ended in a
failure nothing handled, still alive when its test is judged (kept by a
cycle, an attribute, a closure).  Stock Trial hears of it only when the
garbage collector frees the Deferred and logs "Unhandled error in
Deferred", during whichever test runs then, and fails that test.

Capture costs nothing for a Deferred that succeeds or whose failure is
handled within its chain: Twisted makes a ``DebugInfo`` only for a chain
that ends in a failure, and that is where we note the place, weakly (the
Deferred must die when it would have died).
"""

from __future__ import annotations

import linecache
import weakref

from . import provenance
from .findings import Finding, Site

# Weak references to the DebugInfo objects made since the test started.
_since: list = []


def install() -> None:
    """Note each DebugInfo as Twisted makes it."""
    from twisted.internet import defer

    cls = defer.DebugInfo
    if cls.__dict__.get("_strictclean", False):
        return
    note = _since.append

    def __init__(self, *args, **kwargs):
        try:
            # The user line that fired the Deferred whose chain failed.
            self._strictclean_created = provenance.capture(2)
            note(weakref.ref(self))
        except Exception:
            pass  # never in the way of the user's Deferred

    cls.__init__ = __init__
    cls._strictclean = True


def start() -> None:
    """Forget what earlier tests made."""
    _since.clear()


def pending() -> list:
    """DebugInfo objects made since ``start`` whose failure nothing handled."""
    if not _since:
        return []  # the common case: no chain failed since the test started
    alive = (ref() for ref in _since)
    return [info for info in alive if info is not None and getattr(info, "failResult", None) is not None]


def defuse(infos) -> None:
    """Keep these from being logged later, against another test."""
    for info in infos:
        try:
            info.failResult = None
        except Exception:
            pass


def _raised_at(failure, root: str) -> Site | None:
    """The innermost user frame of the failure's traceback, if any."""
    for frame in reversed(getattr(failure, "frames", None) or ()):
        name, filename, line = frame[0], frame[1], frame[2]
        if provenance.is_library(filename):
            continue
        display = filename[len(root) :].lstrip("/") if root and filename.startswith(root) else filename
        code = linecache.getline(filename, line).strip() or None
        return Site(file=display, line=line, function=name, code=code)
    return None


def finding(info, root: str = "") -> Finding:
    """The finding for one unhandled failure; a bare one if it is odd."""
    try:
        return _finding(info, root)
    except Exception as error:
        return Finding(
            kind="unhandled-error",
            resource="an error in a Deferred",
            state="unhandled",
            message=f"Unhandled error in a Deferred (trial-strictclean could not describe it further: {error!r}).",
        )


def _finding(info, root: str) -> Finding:
    failure = info.failResult
    error = failure.value
    text = str(error)
    kind_name = type(error).__name__
    resource = f"{kind_name}: {text}" if text else kind_name
    if len(resource) > 100:
        resource = resource[:97] + "..."
    fired = provenance.sites(getattr(info, "_strictclean_created", None), root)
    raised = _raised_at(failure, root)
    created = raised or (fired[0] if fired else None)
    where = f" (raised at {created.location()})" if created is not None else ""
    detail = (
        "A Deferred failed with this error and nothing handled it; the "
        "Deferred was still alive when the test ended, so the error would "
        "have been logged later, against whichever test runs then."
    )
    if raised is not None and fired and fired[0] != raised:
        detail += f" The Deferred was fired at {fired[0].location()}."
    return Finding(
        kind="unhandled-error",
        resource=resource,
        state="unhandled",
        detail=detail,
        message=f"Unhandled error in a Deferred: {resource}{where}. {detail}",
        created=created,
        # The user frame above the line that fired it: the test, usually.
        callers=tuple(fired[1:]),
        fix=(
            "Handle the failure where the Deferred is made (d.addErrback(...)), "
            "or in the test: return or await the Deferred, or assert the error "
            "with self.assertFailure(d, " + kind_name + ") or "
            "self.failureResultOf(d, " + kind_name + ")."
        ),
    )
