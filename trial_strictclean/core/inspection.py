"""
What the reactor holds: a snapshot when a test starts, the leftovers that
are new when it ends, and handing the reactor on to the next test.

Looking runs nothing.  Trial's janitor spins the reactor before it looks,
and that spin is what lets an unawaited ``stopListening()`` pass; we look
at the reactor exactly as the test left it, and spin only afterwards.
"""

from __future__ import annotations

import sys
import time
import warnings
from operator import is_

from . import capture


_NEW_LIST = object()


class Leftovers:
    """The raw objects a test left behind, before diagnosis."""

    # Written out rather than a @dataclass of the same fields and defaults:
    # a dataclass's methods are generated and compiled at import, which
    # every run pays at start-up (some 3.5 M instructions for this one).
    __hash__ = None
    _FIELDS = (
        "calls", "readers", "writers", "processes", "threads",
        "running_threads", "tasks", "handles", "triggers", "observers",
    )

    def __init__(
        self,
        calls: list = _NEW_LIST,
        readers: list = _NEW_LIST,
        writers: list = _NEW_LIST,
        processes: list = _NEW_LIST,
        threads: list = _NEW_LIST,
        # Threads started during the test and still alive (``threads`` is
        # work on the reactor's thread pool); the others are
        # ``capture.Registered``.  Empty tuples by default: nothing to build
        # for a clean test.
        running_threads: list = (),
        tasks: list = (),
        handles: list = (),
        triggers: list = (),
        observers: list = (),
    ) -> None:
        self.calls = [] if calls is _NEW_LIST else calls
        self.readers = [] if readers is _NEW_LIST else readers
        self.writers = [] if writers is _NEW_LIST else writers
        self.processes = [] if processes is _NEW_LIST else processes
        self.threads = [] if threads is _NEW_LIST else threads
        self.running_threads = running_threads
        self.tasks = tasks
        self.handles = handles
        self.triggers = triggers
        self.observers = observers

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"{type(self).__qualname__}({shown})"

    def __bool__(self) -> bool:
        return bool(
            self.calls or self.readers or self.writers or self.processes or self.threads
            or self.running_threads or self.tasks or self.handles or self.triggers
            or self.observers
        )


def _internal_readers(reactor) -> set:
    # The waker and the SIGCHLD waker belong to the reactor, not to any test.
    return {id(r) for r in getattr(reactor, "_internalReaders", ())}


def _processes() -> list:
    module = sys.modules.get("twisted.internet.process")
    if module is None:
        return []
    handlers = module.reapProcessHandlers
    return list(handlers.values()) if handlers else []


def _thread_work(reactor) -> list:
    pool = getattr(reactor, "threadpool", None)
    work = getattr(pool, "_strictclean_work", None) if pool is not None else None
    return list(work) if work else []


def _held(reactor) -> tuple[list, list, list, list]:
    """Readers, writers, child processes and thread-pool work, now."""
    internal = _internal_readers(reactor)
    return (
        [r for r in reactor.getReaders() if id(r) not in internal],
        [w for w in reactor.getWriters() if id(w) not in internal],
        _processes(),
        _thread_work(reactor),
    )


def _others(reactor) -> tuple[list, list]:
    """Child processes and thread-pool work, now: ``_held``'s last two groups."""
    # _processes() and _thread_work(), inlined: twice per test.
    module = sys.modules.get("twisted.internet.process")
    handlers = getattr(module, "reapProcessHandlers", None) if module is not None else None
    pool = getattr(reactor, "threadpool", None)
    work = getattr(pool, "_strictclean_work", None) if pool is not None else None
    # Empty tuples when there are none, as there mostly are: nothing built.
    return (list(handlers.values()) if handlers else (), list(work) if work else ())


# Reactor classes whose getReaders() and getWriters() list their readers
# and writers from three tables (descriptors by file number, the numbers
# read, the numbers written; plus the continuous polling of regular files)
# and whose tables a snapshot copies instead (``_fd_tables``): Twisted's
# epoll reactor, the default on Linux.  By type: True or False.
_FD_TABLES = ("twisted.internet.epollreactor", "EPollReactor")
_lists_from_fd_tables: dict = {}


def _fd_tables(reactor):
    """
    Copies of the tables ``reactor`` lists its readers and writers from:
    (selectables by file number, numbers read, numbers written), or None
    for a reactor of another kind or one polling a regular file.

    Three copies made in C cost about a quarter of getReaders() and
    getWriters(), which build their lists in Python, at each test's start
    and again at its end; the copies also hold the objects, so their ids
    are not reused during the test.
    """
    kind = type(reactor)
    listed = _lists_from_fd_tables.get(kind)
    if listed is None:
        known = getattr(sys.modules.get(_FD_TABLES[0]), _FD_TABLES[1], None)
        # Only while the methods are Twisted's own, reading these tables.
        listed = _lists_from_fd_tables[kind] = (
            known is not None
            and issubclass(kind, known)
            and kind.getReaders is known.getReaders
            and kind.getWriters is known.getWriters
        )
    if not listed:
        return None
    polling = reactor._continuousPolling
    if polling._readers or polling._writers:
        return None
    return reactor._selectables.copy(), reactor._reads.copy(), reactor._writes.copy()


def _same_fd_tables(reactor, tables) -> bool:
    """
    Whether ``reactor`` (one ``_fd_tables`` copied) has the very readers and
    writers it had when ``tables`` were copied: the same numbers read and
    written (numbers compare in C: no user code), the same object under
    each (by identity, in the table's order; a number freed and taken
    again reorders it, and the full look then decides).
    """
    selectables, reads, writes = tables
    now = reactor._selectables
    polling = reactor._continuousPolling
    return (
        reactor._reads == reads
        and reactor._writes == writes
        and len(now) == len(selectables)
        and all(map(is_, now.values(), selectables.values()))
        and not (polling._readers or polling._writers)
    )


def _listed(tables) -> tuple[list, list]:
    """The readers and writers that ``tables`` (``_fd_tables``) held, as getReaders() and getWriters() list them."""
    selectables, reads, writes = tables
    return [selectables[fd] for fd in reads], [selectables[fd] for fd in writes]


class Snapshot:
    """
    What the reactor held when a test started, to tell the test's own
    leftovers from older ones.

    Delayed calls are not listed here: a suite may keep thousands pending
    (synchronous tests get no clean-up), and listing them twice per test
    made each test's cost grow with their number.  Capture keeps the calls
    created since the test started instead (``capture.new_calls``).
    """

    __slots__ = ("_tables", "_selectables", "_others", "_adopted")

    def __init__(self, reactor) -> None:
        capture.judge_calls_of(reactor)
        capture.new_calls.clear()
        if _others_noted():
            _forget_others()
        # Holding the objects keeps their ids from being reused by new ones
        # during the test.  Kept as the reactor's own tables, or lists, hold
        # them: most tests end with the very same objects, which compare
        # cheaply (``look``).
        self._tables = _fd_tables(reactor)
        self._selectables = None if self._tables is not None else (reactor.getReaders(), reactor.getWriters())
        self._others = _others(reactor)
        # What was adopted (``adopt``), grouped like ``_alive``; rare.
        self._adopted = None

    def _alive(self) -> tuple:
        """What the reactor held at the snapshot, grouped as ``_held`` groups it, the reactor's own readers in."""
        return (self._selectables or _listed(self._tables)) + self._others

    def new_since(self, reactor) -> Leftovers:
        """What the reactor holds now that it did not hold at the snapshot."""
        return self.look(reactor) or Leftovers()

    def look(self, reactor) -> Leftovers | None:
        """``new_since``, or None when nothing is new (a clean test: no list built)."""
        processes, threads = self._others
        now_processes, now_threads = now_others = _others(reactor)
        calls = _new_calls()
        # By identity: an object's own __eq__ is user code, never ours to run.
        if (
            self._adopted is None
            and not (processes or now_processes or threads or now_threads)
            and self._same_selectables(reactor)
        ):
            # The common case: the reactor holds the very objects it held
            # before (else the look below tells what is new).
            if not calls and not _others_noted():
                return None
            left = Leftovers(calls, [], [], [], [])
        else:
            internal = _internal_readers(reactor)
            ids = {id(x) for group in self._alive() for x in group}
            for group in self._adopted or ():
                ids.update(id(x) for x in group)
            now = (reactor.getReaders(), reactor.getWriters()) + now_others
            readers, writers, processes, threads = (
                [x for x in group if id(x) not in ids and id(x) not in skip]
                for group, skip in zip(now, (internal, internal, (), ()))
            )
            left = Leftovers(calls, readers, writers, processes, threads)
        _others_left(reactor, left)
        return left if left else None

    def _same_selectables(self, reactor) -> bool:
        """Whether the reactor's readers and writers are the very objects they were at the snapshot."""
        if self._tables is not None:
            return _same_fd_tables(reactor, self._tables)
        readers, writers = self._selectables
        now_readers, now_writers = reactor.getReaders(), reactor.getWriters()
        return (
            len(readers) == len(now_readers)
            and len(writers) == len(now_writers)
            and (not readers or readers[0] is now_readers[0] and all(map(is_, readers, now_readers)))
            and (not writers or writers[0] is now_writers[0] and all(map(is_, writers, now_writers)))
        )

    def adopt(self, objects: Leftovers) -> None:
        """
        Count ``objects``, created while the test ran, as older than the
        test: they belong to something else (a fixture with a wider scope).
        """
        adopted = self._adopted or ([], [], [], [])
        self._adopted = tuple(
            group + list(more)
            for group, more in zip(adopted, (objects.readers, objects.writers, objects.processes, objects.threads))
        )
        if objects.calls:
            theirs = {id(call) for call in objects.calls}
            capture.new_calls[:] = [call for call in capture.new_calls if id(call) not in theirs]


def _forget_others() -> None:
    """Start a test with no threads, tasks, handles, triggers or observers noted."""
    capture.new_threads.clear()
    capture.new_tasks.clear()
    capture.new_handles.clear()
    capture.new_triggers.clear()
    capture.new_observers.clear()


def _others_noted() -> bool:
    """Whether a thread, task, handle, trigger or observer was noted since the last snapshot."""
    return bool(
        capture.new_threads or capture.new_tasks or capture.new_handles or capture.new_triggers
        or capture.new_observers
    )


def _others_left(reactor, left: Leftovers) -> None:
    """The test's threads, asyncio tasks and handles, triggers and observers still there."""
    # A clean test started, scheduled and registered none of these: four
    # empty lists to look at (benchmarks/more_kinds.py).
    if capture.new_threads:
        left.running_threads = _running_threads(reactor)
    if capture.new_tasks or capture.new_handles:
        left.tasks, left.handles = _asyncio_left(reactor)
    if capture.new_triggers:
        left.triggers = _triggers_left(reactor)
    if capture.new_observers:
        left.observers = _observers_left()


def _reactor_threads(reactor) -> set:
    """
    The threads the reactor owns, by id (they hold them: no id is reused):
    its pool's, its loop's default executor's.  Not by ident: a stopped
    pool may still list dead threads whose idents a new thread reuses.
    """
    owned = set()
    pool = getattr(reactor, "threadpool", None)
    for thread in getattr(pool, "threads", None) or ():
        owned.add(id(thread))
    loop = getattr(reactor, "_asyncioEventloop", None)
    executor = getattr(loop, "_default_executor", None)
    for thread in getattr(executor, "_threads", None) or ():
        owned.add(id(thread))
    return owned


def _running_threads(reactor) -> list:
    """Threads started since the snapshot, still alive, not the reactor's."""
    alive = [t for t in (r() for r in capture.new_threads) if t is not None and t.is_alive()]
    if not alive:
        return []
    owned = _reactor_threads(reactor)
    return [t for t in alive if id(t) not in owned]


def _task_pending(task) -> bool:
    return task is not None and not task.done()


def _handle_pending(handle, loop) -> bool:
    if handle is None or handle.cancelled():
        return False
    if getattr(handle, "_scheduled", False):
        return True  # a TimerHandle still in the loop's heap
    ready = getattr(loop, "_ready", None)
    if ready is None:
        return True
    return any(h is handle for h in ready)


def _asyncio_left(reactor) -> tuple[list, list]:
    """The reactor's loop's tasks still pending and handles still scheduled."""
    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is None:
        return [], []
    tasks = [r for r in capture.new_tasks if r.owner is loop and _task_pending(r.key)]
    handles = [r for r in capture.new_handles if r.owner is loop and _handle_pending(r.key, loop)]
    return tasks, handles


def _trigger_registered(reactor, trigger) -> bool:
    if trigger is None:
        return False
    try:
        event_type, (phase, func, args, kwargs) = trigger
        event = reactor._eventTriggers[event_type]
        entry = (func, args, kwargs)
        return any(t == entry for t in getattr(event, phase))
    except Exception:
        return False


def _triggers_left(reactor) -> list:
    return [
        r for r in capture.new_triggers
        if r.owner is reactor and _trigger_registered(reactor, r.key)
    ]


def _observers_left() -> list:
    from twisted.logger import globalLogPublisher

    registered = getattr(globalLogPublisher, "_observers", ())
    return [
        r for r in capture.new_observers
        if r.owner is globalLogPublisher and r.key is not None and any(o is r.key for o in registered)
    ]


class Window:
    """
    What is created between two moments inside a test, such as the setup or
    the finalization of a fixture with a wider scope: ``created`` lists it.
    """

    __slots__ = ("_ids", "_alive", "_calls")

    def __init__(self, reactor) -> None:
        held = _held(reactor)
        self._alive = held
        self._ids = {id(x) for group in held for x in group}
        self._calls = {id(call) for call in capture.new_calls}

    def created(self, reactor) -> Leftovers:
        ids = self._ids
        readers, writers, processes, threads = (
            [x for x in group if id(x) not in ids] for group in _held(reactor)
        )
        calls = [call for call in _new_calls() if id(call) not in self._calls]
        return Leftovers(calls, readers, writers, processes, threads)


def still_held(reactor, objects: Leftovers) -> Leftovers:
    """Those of ``objects`` that the reactor still holds (calls still pending)."""
    readers, writers, processes, threads = (
        {id(x) for x in group} for group in _held(reactor)
    )
    return Leftovers(
        [c for c in objects.calls if not (c.cancelled or c.called)],
        [x for x in objects.readers if id(x) in readers],
        [x for x in objects.writers if id(x) in writers],
        [x for x in objects.processes if id(x) in processes],
        [x for x in objects.threads if id(x) in threads],
    )


def merge(first: Leftovers, second: Leftovers) -> Leftovers:
    """Both, each object once."""
    out = Leftovers()
    for name in ("calls", "readers", "writers", "processes", "threads"):
        seen = set()
        group = getattr(out, name)
        for obj in getattr(first, name) + getattr(second, name):
            if id(obj) not in seen:
                seen.add(id(obj))
                group.append(obj)
    return out


def _new_calls() -> list:
    """The judged reactor's calls created since the snapshot, still pending."""
    calls = capture.new_calls
    if not calls:
        return []  # a test that made none: no comprehension to run
    return [call for call in calls if not (call.cancelled or call.called)]


def spin(reactor) -> None:
    """
    Let the reactor run what is due, as Trial's janitor does after each
    ``TestCase`` (two zero-timeout iterations): pending closes complete and
    zero-delay calls run, so a library's queue or a shared server sees the
    ends of what the test started.  User code runs here, as it does there.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"reactor\.iterate cannot be used")
        reactor.iterate(0)
        reactor.iterate(0)


# The groups of Leftovers whose objects carry an era (capture.ORIGIN) and a
# mark once judged; the others are records of ours (capture.Registered).
_MARKED = ("calls", "readers", "writers", "processes", "threads")
JUDGED = "_strictclean_judged"


def take_foreign(left: Leftovers, theirs) -> list:
    """
    Remove from ``left`` what ``theirs(obj)`` says the reactor made for a
    chain begun before the test (a timer re-armed, a protocol of an older
    connection at work): the test is not to blame.  Returns them.
    """
    taken = []
    for name in _MARKED:
        group = getattr(left, name)
        kept = []
        for obj in group:
            (taken if theirs(obj) else kept).append(obj)
        if len(kept) != len(group):
            setattr(left, name, kept)
    return taken


def mark_judged(left: Leftovers) -> None:
    """Mark what was judged on a test, so the end of the run does not report it again."""
    for name in _MARKED:
        for obj in getattr(left, name):
            try:
                setattr(obj, JUDGED, True)
            except Exception:
                pass  # an object with __slots__: it may be listed again at the end


def outliving(reactor) -> Leftovers:
    """
    What the reactor holds at the end of the run that no test was judged
    for: made before any test (at import, by a class or module fixture),
    or by the reactor for a chain begun in some test, after it.
    """
    readers, writers, processes, threads = _held(reactor)
    left = Leftovers(list(reactor.getDelayedCalls()), readers, writers, processes, threads)
    for name in _MARKED:
        setattr(left, name, [obj for obj in getattr(left, name) if not _judged(obj)])
    return left


def _judged(obj) -> bool:
    try:
        return getattr(obj, JUDGED, False) is True
    except Exception:
        return False


def remove_own(reactor, snapshot: Snapshot, theirs=None) -> tuple[set, set]:
    """
    Cancel the test's own calls still pending and remove its own selectables
    still registered, as Trial's janitor does after its spin; returns the ids
    of the calls cancelled and of the selectables removed.  The same for
    what Trial's janitor does not know: the test's own asyncio handles and
    tasks are cancelled (a cancelled task gets one more turn of the reactor,
    so its ``finally`` runs now and not in the next test), its system event
    triggers and log observers removed.  Threads are never stopped.

    Nothing older than the test is touched (Trial's ``removeAll()`` takes
    those too: its bug, not a model).  Sockets are not closed and child
    processes not killed: a shared server keeps its connections' state, a
    class may share one process on purpose (treq's httpbin).  Nor is what
    the reactor made for an older chain (``theirs``): cancelling a
    library's re-armed timer stops its clock for every later test.
    """
    left = snapshot.new_since(reactor)
    if theirs is not None and left:
        take_foreign(left, theirs)
    cancelled, removed = set(), set()
    for call in left.calls:
        call.cancel()
        cancelled.add(id(call))
    for selectable in left.readers:
        reactor.removeReader(selectable)
        removed.add(id(selectable))
    for selectable in left.writers:
        reactor.removeWriter(selectable)
        removed.add(id(selectable))
    for record in left.handles:
        record.key.cancel()
        cancelled.add(id(record))
    for record in left.tasks:
        record.key.cancel()
        cancelled.add(id(record))
    for record in left.triggers:
        reactor.removeSystemEventTrigger(record.key)
        removed.add(id(record))
    for record in left.observers:
        _remove_observer(record)
        removed.add(id(record))
    if left.tasks:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"reactor\.iterate cannot be used")
            reactor.iterate(0)
    return cancelled, removed


def _remove_observer(record) -> None:
    # One added with twisted.python.log.addObserver is also listed, wrapped,
    # by the legacy publisher: a wrapper left there would later make
    # log.removeObserver of the same function skip the live one.
    legacy = getattr(sys.modules.get("twisted.python.log"), "theLogPublisher", None)
    wrappers = getattr(legacy, "_legacyObservers", None)
    if isinstance(wrappers, list):
        wrappers[:] = [w for w in wrappers if w is not record.key]
    record.owner.removeObserver(record.key)


def settle_threads(reactor, leftovers: Leftovers, grace: float = 0.1) -> None:
    """
    Give thread-pool work a moment to finish before it counts as left over.

    Work whose last act is ``reactor.callFromThread(d.callback, ...)`` can
    end the test before its worker thread has returned: that is a race, not
    a leftover.  Work still running after ``grace`` seconds is.
    """
    deadline = time.monotonic() + grace
    while (leftovers.threads or leftovers.running_threads) and time.monotonic() < deadline:
        time.sleep(0.002)
        running = {id(w) for w in _thread_work(reactor)}
        leftovers.threads = [w for w in leftovers.threads if id(w) in running]
        # A thread whose last act set an Event the test waited on.
        leftovers.running_threads = [t for t in leftovers.running_threads if t.is_alive()]
