"""
What the reactor holds: a snapshot when a test starts, the leftovers that
are new when it ends, and the clean-up that removes them.

Nothing here runs the reactor.  Trial's janitor spins it before looking, and
that spin is what lets an unawaited ``stopListening()`` pass; we look at the
reactor exactly as the test left it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field


@dataclass
class Leftovers:
    """The raw objects a test left behind, before diagnosis."""

    calls: list = field(default_factory=list)
    readers: list = field(default_factory=list)
    writers: list = field(default_factory=list)
    processes: list = field(default_factory=list)
    threads: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.calls or self.readers or self.writers or self.processes or self.threads
        )


def _internal_readers(reactor) -> set:
    # The waker and the SIGCHLD waker belong to the reactor, not to any test.
    return {id(r) for r in getattr(reactor, "_internalReaders", ())}


def _processes() -> list:
    module = sys.modules.get("twisted.internet.process")
    if module is None:
        return []
    return list(module.reapProcessHandlers.values())


def _thread_work(reactor) -> list:
    pool = getattr(reactor, "threadpool", None)
    work = getattr(pool, "_strictclean_work", None) if pool is not None else None
    return list(work) if work else []


def _active_calls(reactor) -> list:
    return [c for c in reactor.getDelayedCalls() if not (c.cancelled or c.called)]


def _all(reactor) -> Leftovers:
    internal = _internal_readers(reactor)
    return Leftovers(
        calls=_active_calls(reactor),
        readers=[r for r in reactor.getReaders() if id(r) not in internal],
        writers=[w for w in reactor.getWriters() if id(w) not in internal],
        processes=_processes(),
        threads=_thread_work(reactor),
    )


class Snapshot:
    """The identities of everything the reactor held when a test started."""

    __slots__ = ("_ids", "_alive")

    def __init__(self, reactor) -> None:
        held = _all(reactor)
        # Holding the objects keeps their ids from being reused by new ones
        # during the test.
        self._alive = held
        self._ids = {
            id(x)
            for group in (held.calls, held.readers, held.writers, held.processes, held.threads)
            for x in group
        }

    def new_since(self, reactor) -> Leftovers:
        """What the reactor holds now that it did not hold at the snapshot."""
        now = _all(reactor)
        ids = self._ids
        return Leftovers(
            calls=[x for x in now.calls if id(x) not in ids],
            readers=[x for x in now.readers if id(x) not in ids],
            writers=[x for x in now.writers if id(x) not in ids],
            processes=[x for x in now.processes if id(x) not in ids],
            threads=[x for x in now.threads if id(x) not in ids],
        )


def _close_socket(selectable) -> None:
    sock = getattr(selectable, "socket", None)
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass


def clean(reactor, leftovers: Leftovers, sockets=()) -> None:
    """
    Remove the leftovers so they cannot disturb a later test.

    Trial's janitor only removes selectables from the reactor; we also close
    their sockets, and those of ``sockets`` (ports whose close was cancelled
    with its delayed call), so file descriptors do not pile up.  No user
    callback runs.

    Child processes are reported but left running: a suite may keep one on
    purpose for a whole class (treq's httpbin fixture), and killing it would
    fail every later test of that class.  Their pipes leave the reactor like
    any selectable, as Trial's janitor does.
    """
    for call in leftovers.calls:
        if call.active():
            call.cancel()
    for selectable in leftovers.readers:
        reactor.removeReader(selectable)
    for selectable in leftovers.writers:
        reactor.removeWriter(selectable)
    for selectable in (*leftovers.readers, *leftovers.writers, *sockets):
        _close_socket(selectable)


def settle_threads(reactor, leftovers: Leftovers, grace: float = 0.1) -> None:
    """
    Give thread-pool work a moment to finish before it counts as left over.

    Work whose last act is ``reactor.callFromThread(d.callback, ...)`` can
    end the test before its worker thread has returned: that is a race, not
    a leftover.  Work still running after ``grace`` seconds is.
    """
    deadline = time.monotonic() + grace
    while leftovers.threads and time.monotonic() < deadline:
        time.sleep(0.002)
        running = {id(w) for w in _thread_work(reactor)}
        leftovers.threads = [w for w in leftovers.threads if id(w) in running]


def drop_cancelled_calls(reactor) -> None:
    """
    Forget cancelled delayed calls the reactor has not yet swept away.

    The reactor sweeps them only when it runs; synchronous and stdlib tests
    never run it, so each one they cancel stays in ``_newTimedCalls`` and
    every later look at the reactor (ours, twice per test) pays for it: a
    suite's cost grew with the square of its length.  This does what the
    reactor's own sweep does, and nothing when there is nothing to sweep.
    """
    new = getattr(reactor, "_newTimedCalls", None)
    if not new:
        return
    kept = [call for call in new if not call.cancelled]
    dropped = len(new) - len(kept)
    if dropped:
        new[:] = kept
        if hasattr(reactor, "_cancellations"):
            reactor._cancellations = max(0, reactor._cancellations - dropped)
