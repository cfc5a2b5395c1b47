"""
Cleanups registered in an order that cannot work.

Trial runs a test's cleanups last in, first out.  A cleanup that waits
(for ``connectionLost``, for a Deferred a close or a stop fires) registered
*after* the cleanup that causes what it waits for runs *before* it, so it
waits for something nothing has asked for yet: the test times out in that
cleanup, then Trial runs the rest, the close among them, which nobody waits
for any more, and the test is dirty too.

What can be told for sure, and is said: at the timeout, which cleanup was
running and which cleanups registered before it had not run yet; among
those, the ones that close, stop or fire something (by the name of what
they call) are the likely cause.  The runner adapter notes each
registration (``note_registered``: the function and the line that
registered it) and, at a cleanup's timeout, asks ``at_timeout``; the
objects those causes act on are marked, so the findings about them (a
connection left closing, a port, a loop) name the order as well
(``order_of``).  Nothing here runs for a test that neither times out nor is
dirty, but the note of each registration.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import provenance
from ..findings import Site
from .common import describe_callable, safe

# On the test case: its cleanups as registered, in order, with their lines.
_REGISTERED = "_strictclean_cleanups"
# On an object a misordered cause acts on (a transport, a port, a loop).
_MISORDERED = "_strictclean_misordered"

# What a cleanup calls that closes, stops or fires something another
# cleanup may be waiting for.
CAUSES = frozenset(
    {
        "loseConnection",
        "abortConnection",
        "loseWriteConnection",
        "stopListening",
        "disconnect",
        "stopConnecting",
        "signalProcess",
        "closeStdin",
        "stop",
        "stopService",
        "cancel",
        "callback",
        "errback",
        "set",
        "closeCachedConnections",
        "close",
        "shutdown",
        "stopProducing",
        "kill",
        "terminate",
    }
)


@dataclass(frozen=True)
class Cleanup:
    """One registered cleanup, as the user wrote it."""

    # "self.addCleanup(self.client.transport.loseConnection)", from the
    # registering line when it holds the call, else rebuilt.
    code: str
    site: Site | None


@dataclass(frozen=True)
class Misorder:
    """A cleanup that timed out waiting, and the ones registered before it that had not run."""

    waiting: Cleanup
    causes: tuple[Cleanup, ...]
    # The cleanups' code in an order that works: the waiting one first.
    fixed: tuple[str, ...]


def note_registered(test, func, args, kwargs, depth: int = 3) -> None:
    """Note a cleanup ``test`` registered, with the line that registered it."""
    try:
        held = test.__dict__.setdefault(_REGISTERED, [])
        # Identities, not the objects: Trial keeps every test case for the
        # whole run, and what a cleanup holds must go once it has run.  At a
        # timeout, the cleanups asked about are alive, so their ids are theirs.
        held.append((id(func), id(args), provenance.capture(depth)))
    except Exception:
        pass


def running_cleanup(phase):
    """
    ``(func, args, kwargs)`` of the cleanup a phase runs, if ``phase`` is
    the function Trial made to run one (it closes over the three), else None.
    """
    code = getattr(phase, "__code__", None)
    cells = getattr(phase, "__closure__", None)
    if code is None or not cells or set(code.co_freevars) != {"func", "args", "kwargs"}:
        return None
    try:
        values = {name: cell.cell_contents for name, cell in zip(code.co_freevars, cells)}
    except ValueError:
        return None
    return values["func"], values["args"], values["kwargs"]


def _registration(test, func, args):
    for entry in reversed(test.__dict__.get(_REGISTERED, ())):
        if entry[0] == id(func) and entry[1] == id(args):
            return entry
    return None


def _described(test, func, args, kwargs, root: str) -> Cleanup:
    entry = _registration(test, func, args)
    sites = provenance.sites(entry[2], root) if entry is not None else ()
    site = sites[0] if sites else None
    code = _without_comment((site.code or "") if site is not None else "")
    if "addCleanup(" not in code:
        # A helper registered it, or the line is gone: say it as a call.
        name = describe_callable(func)[: -len("()")]
        rest = [safe(lambda: repr(a), "...") for a in args]
        rest += [f"{k}={safe(lambda: repr(v), '...')}" for k, v in kwargs.items()]
        code = f"self.addCleanup({', '.join([name, *rest])})"
    return Cleanup(code, site)


def _without_comment(code: str) -> str:
    """``self.addCleanup(f)`` of ``self.addCleanup(f)  # why``."""
    end = code.rfind(")") + 1
    if end and code[end:].lstrip().startswith("#"):
        return code[:end]
    return code


def _name(func) -> str:
    return getattr(func, "__name__", "") or ""


def _is_cause(func) -> bool:
    if _name(func) in CAUSES:
        return True
    # A lambda or a local function of the test's: what it calls.
    code = getattr(func, "__code__", None)
    if code is None or provenance.is_library(code.co_filename):
        return False
    return bool(CAUSES.intersection(code.co_names))


def at_timeout(test, phase, pending, root: str = "") -> Misorder | None:
    """
    When a cleanup times out: the cleanup (``phase`` runs it) and the
    cleanups still ``pending`` (registered before it, not run yet) that
    close, stop or fire something; None if it is no cleanup, or none of them
    does.  Marks the objects those act on for ``order_of``.
    """
    try:
        running = running_cleanup(phase)
        if running is None:
            return None
        causes = [(f, a, k) for f, a, k in list(pending) if _is_cause(f)]
        if not causes:
            return None
        waiting = _described(test, *running, root)
        # Trial pops from the end: the first to run is the last registered.
        described = tuple(_described(test, f, a, k, root) for f, a, k in reversed(causes))
        order = Misorder(
            waiting,
            described,
            fixed=(waiting.code, *(c.code for c in reversed(described))),
        )
        for func, _, _ in causes:
            target = getattr(func, "__self__", None)
            if target is not None:
                for obj in (target, *_other_ends(target)):
                    try:
                        setattr(obj, _MISORDERED, order)
                    except Exception:
                        pass
        return order
    except Exception:
        return None


def _other_ends(transport) -> list:
    """The other end of a connection, when both ends are this process's."""
    here = safe(lambda: transport.getHost(), None)
    if here is None or not hasattr(here, "port"):
        return []
    from twisted.internet import reactor

    selectables = safe(lambda: [*reactor.getReaders(), *reactor.getWriters()], [])
    return [s for s in selectables if s is not transport and safe(lambda: s.getPeer(), None) == here]


def order_of(*objects) -> Misorder | None:
    """The misorder a cleanup acting on one of ``objects`` took part in, if any."""
    for obj in objects:
        found = safe(lambda: getattr(obj, _MISORDERED, None), None)
        if isinstance(found, Misorder):
            return found
    return None


def order_text(order: Misorder) -> str:
    """One paragraph a finding's fix starts with."""
    causes = " and ".join(c.code for c in order.causes)
    return (
        "Cleanups registered in an order that cannot work: "
        f"{order.waiting.code} was registered after {causes}, so it ran first "
        "(Trial runs cleanups last in, first out) and waited for what they do, "
        "until the test timed out. Register them the other way round: "
        f"{' then '.join(order.fixed)}."
    )
