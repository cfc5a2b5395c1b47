"""
Where a Deferred is stuck: the user's coroutines and ``inlineCallbacks``
generators suspended beneath it, innermost first, and the plain Deferred at
the bottom that nothing has fired yet.

Used when a test times out, so it runs once per timeout, never on a hot
path.  It reads Twisted's objects only through what they plainly hold (a
Deferred's callbacks and canceller, their arguments and closure cells,
a generator's or coroutine's frame), which has the same shape from Twisted
22.10 to 26.10; on anything unexpected it says less, never raises.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from . import provenance
from .findings import Site

# Deferreds and coroutines followed before giving up (a cycle, a long chain).
_MAX_STEPS = 50


@dataclass(frozen=True)
class Suspension:
    """Where a Deferred waits: user frames (innermost first), then what."""

    frames: tuple[Site, ...]
    # The Deferred at the bottom: "a Deferred nobody has fired yet, whose
    # callbacks are Echo.gotReply, ..." or None when nothing is known.
    waiting_on: str | None


def _generators_in(func, args, kw) -> list:
    """Generators and coroutines held by a callback: arguments, closure."""
    held = list(args or ()) + list((kw or {}).values()) + _cells(func)
    return [x for x in held if inspect.isgenerator(x) or inspect.iscoroutine(x)]


def callbacks_of(deferred) -> list:
    """
    A Deferred's callback chain, without the DeprecationWarning that
    ``Deferred.callbacks`` gives from Twisted 25.5 on (a test that counts
    its warnings would fail because of us).
    """
    chain = getattr(deferred, "_callbacks", None)
    if chain is None:
        chain = getattr(deferred, "__dict__", {}).get("callbacks", ())
    return chain


def _cells(func) -> list:
    values = []
    for cell in getattr(func, "__closure__", None) or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    return values


def _status_of(deferred):
    """
    The object an ``inlineCallbacks`` Deferred keeps its wait in: held by
    its canceller, or (Twisted 22.10) by a function its canceller holds.
    """
    reachable = _cells(getattr(deferred, "_canceller", None))
    reachable += [v for f in reachable if callable(f) for v in _cells(f)]
    for value in reachable:
        if hasattr(value, "waitingOn"):
            return value
    return None


def _callback_names(deferred) -> list[str]:
    """The user's callbacks on ``deferred`` (Twisted's and Trial's left out)."""
    names = []
    for pair in callbacks_of(deferred):
        func = pair[0][0] if pair and pair[0] else None
        code = getattr(func, "__code__", None)
        if code is None or provenance.is_library(code.co_filename):
            continue
        names.append(getattr(func, "__qualname__", None) or code.co_name)
    return names


def _frame_site(frame, root: str) -> Site | None:
    if frame is None:
        return None
    code = frame.f_code
    if provenance.is_library(code.co_filename):
        return None
    return provenance.sites((code, frame.f_lasti), root)[0]


def _coroutine_chain(gen, root: str) -> tuple[list[Site], object]:
    """User frames from ``gen`` down through what it awaits, and the bottom."""
    frames: list[Site] = []
    for _ in range(_MAX_STEPS):
        frame = getattr(gen, "cr_frame", None) or getattr(gen, "gi_frame", None)
        site = _frame_site(frame, root)
        if site is not None:
            frames.append(site)
        inner = getattr(gen, "cr_await", None)
        if inner is None:
            inner = getattr(gen, "gi_yieldfrom", None)
        if inner is None or not (inspect.iscoroutine(inner) or inspect.isgenerator(inner)):
            return frames, inner
        gen = inner
    return frames, None


def describe(deferred, root: str = "") -> Suspension:
    """Where ``deferred`` is stuck, as far as can be told."""
    frames: list[Site] = []
    bottom = deferred
    try:
        for _ in range(_MAX_STEPS):
            status = _status_of(bottom)
            awaited = getattr(status, "waitingOn", None) if status is not None else None
            if awaited is None:
                chained = getattr(bottom, "_chainedTo", None)
                if chained is None:
                    break
                bottom = chained
                continue
            # The generator that resumes when ``awaited`` fires is among
            # its callbacks; a coroutine it awaits in turn hangs below it.
            outer = []
            for pair in callbacks_of(awaited):
                for func, args, kw in pair[:1]:
                    outer += _generators_in(func, args, kw)
            found = []
            for gen in outer[:1]:
                found, _ = _coroutine_chain(gen, root)
            frames += found
            bottom = awaited
    except Exception:
        pass
    return Suspension(tuple(_innermost_first(frames)), _bottom_text(bottom))


def _innermost_first(frames: list[Site]) -> list[Site]:
    # Collected outermost first (the test, then what it awaits).
    return list(reversed(frames))


def _bottom_text(deferred) -> str | None:
    try:
        if getattr(deferred, "called", False):
            return None
        names = _callback_names(deferred)
        text = "a Deferred nobody has fired yet"
        if names:
            text += f", with callbacks waiting on it: {', '.join(names[:4])}"
            if len(names) > 4:
                text += f" and {len(names) - 4} more"
        return text
    except Exception:
        return None
