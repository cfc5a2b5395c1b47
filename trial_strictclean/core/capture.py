"""
Hooks on Twisted's classes that note where resources are created and where
user code asked them to close.

They patch classes, not the reactor instance, so they work before Trial has
installed the reactor chosen with ``--reactor`` and for every reactor alike.
Installing twice is harmless; nothing here imports ``twisted.internet.reactor``.
"""

from __future__ import annotations

import atexit
import builtins
import functools
import importlib
import sys
import threading
import weakref

from . import provenance, unhandled

_installed = False
# Whether ReactorBase.callLater is our copy of a body we know (fast) rather
# than a wrapper around one we do not (see _KNOWN_CALL_LATER).
call_later_replaced = False

# The delayed calls of the judged reactor created since the test being
# judged started (its snapshot empties it and names the reactor), so that
# judging costs nothing for calls pending from before the test, however many
# a suite keeps.  Finished calls are pruned as it grows: a test making many
# calls keeps few of them alive.  Calls of any other reactor (one a test
# builds for itself) are never kept: a test may count what its own reactor
# leaves alive (Twisted's test_noCycleReferencesInCallLater does).
new_calls: list = []
_PRUNE_AT = 1024
_judged = [None]


def judge_calls_of(reactor) -> None:
    """Keep the calls of ``reactor`` in ``new_calls`` from now on."""
    _judged[0] = reactor
    if type(reactor) is not _covered_type[0]:
        _covered_type[0] = type(reactor)
        if _installed:
            _cover_reactors()

# Who started it.  Work the reactor does on behalf of something older (a
# timer that re-arms itself, a protocol of a connection opened in an
# earlier test, the result of thread work submitted then) belongs to that
# older thing, not to the test that happens to be running.  So every
# delayed call, connection, process and unit of thread work notes the era
# (a test, a fixture, or before any test) whose chain of work made it, and
# the reactor's dispatch carries the era of what it runs: a delayed call's,
# an I/O handler's, a call from a thread.  A chain starts afresh with each
# test (``begin_era``).


class Era:
    """A part of the run in which chains of work begin: a test, a fixture, or before any test."""

    __slots__ = ("name",)

    def __init__(self, name: str | None) -> None:
        self.name = name  # None: before any test


BEFORE = Era(None)
ORIGIN = "_strictclean_origin"
# The era of the chain running now, and of the test running now (what a
# listening port's dispatch runs in: a connection it accepts is the doing of
# whoever connected, in the test running now).
current = [BEFORE]
test_era = [BEFORE]
# The era of the thread-pool work a worker thread is running.
_in_thread = threading.local()


def begin_era(name: str | None) -> Era:
    """Start the era of a test: what runs from now on is its doing."""
    era = Era(name)
    current[0] = test_era[0] = era
    return era


def enter(era: Era) -> Era:
    """Run in ``era`` from now on (a fixture's setup); returns the era to restore."""
    previous = current[0]
    current[0] = era
    return previous


# The era of a TCP connection a port accepted, until first asked.
UNRESOLVED = Era("(unresolved)")


def _resolve_accepted(connection) -> Era:
    """
    The era of the server end of a connection: its client end's, when the
    client is in this process (a connection opened at import, or in an
    earlier test, is not the doing of the test running when it was
    accepted); else the era it was accepted in.  Asked once per connection,
    at its first event or when it is judged.
    """
    origin = getattr(connection, "_strictclean_accepted_in", None) or test_era[0]
    try:
        found = _client_end(connection)
        if found is not None:
            found = getattr(found, ORIGIN, None)
            if isinstance(found, Era) and found is not UNRESOLVED:
                origin = found
    except Exception:
        pass
    connection._strictclean_origin = origin
    return origin


def _client_end(connection):
    """The reactor's other end of ``connection`` (accepted), if in this process."""
    reactor = connection.reactor
    others = list(reactor.getReaders()) + list(reactor.getWriters())
    peer = getattr(connection, "client", None)
    if type(peer) is tuple and len(peer) >= 2:
        # A TCP server end keeps its peer's address as accept() gave it:
        # compared with each candidate's own, as getsockname() gives it, it
        # costs no address object on either side (three per connection
        # with getPeer() and getHost(), a fifth of all it costs us).
        wanted = peer[:2]
        for other in others:
            if other is connection or getattr(other, "_strictclean_accepted_in", None) is not None:
                continue
            sock = getattr(other, "socket", None)
            if sock is None or getattr(other, "_strictclean_port_origin", None) is not None:
                continue  # not a connection: a waker, a listening port
            try:
                if sock.getsockname()[:2] == wanted:
                    return other
            except Exception:
                continue  # a socket already closed
        return None
    address = connection.getPeer()
    wanted = (address.host, address.port)
    for other in others:
        if other is connection or getattr(other, "_strictclean_accepted_in", None) is not None:
            continue
        host = getattr(other, "getHost", None)
        if host is None:
            continue
        address = host()
        if (getattr(address, "host", None), getattr(address, "port", None)) == wanted:
            return other
    return None


def origin_of(obj) -> Era | None:
    """The era whose chain made ``obj``, if noted."""
    try:
        origin = getattr(obj, ORIGIN, None) or getattr(obj, "_strictclean_port_origin", None)
        if origin is UNRESOLVED:
            origin = _resolve_accepted(obj)
    except Exception:
        return None
    return origin if isinstance(origin, Era) else None


# The other resources created since the test being judged started, emptied
# by its snapshot like new_calls: threads started, and records
# (``Registered``) of asyncio tasks and handles, system event triggers and
# log observers.  A clean test adds nothing to them, so judging it costs
# four empty-list checks.
new_threads: list = []
new_tasks: list = []
new_handles: list = []
new_triggers: list = []
new_observers: list = []

# Listening ports whose close was requested and may still be pending, held
# weakly: it never outgrows the ports alive.  Diagnosis matches a pending
# delayed call to the port it would close.
closing_ports: weakref.WeakSet = weakref.WeakSet()

# Where user code asks a resource to stop: (module, class, method names).
# Each is wrapped only where the class itself defines it, so an inherited
# method is wrapped once, on the class that defines it.
_CLOSERS = (
    ("twisted.internet.abstract", "FileDescriptor", ("loseConnection",)),
    ("twisted.internet.tcp", "_AbortingMixin", ("abortConnection",)),
    ("twisted.internet.tcp", "Port", ("loseConnection", "stopListening")),
    ("twisted.internet.tcp", "_BaseBaseClient", ("stopConnecting",)),
    ("twisted.internet.udp", "Port", ("loseConnection", "stopListening")),
    ("twisted.internet.base", "BaseConnector", ("disconnect", "stopConnecting")),
    ("twisted.internet.task", "LoopingCall", ("stop",)),
    ("twisted.internet.process", "_BaseProcess", ("signalProcess",)),
    ("twisted.internet.process", "Process", ("loseConnection",)),
    ("twisted.protocols.tls", "TLSMemoryBIOProtocol", ("loseConnection", "abortConnection")),
    ("twisted.protocols.policies", "ProtocolWrapper", ("loseConnection",)),
)

# Classes whose instances we note the creation site of.
_CREATED = (
    ("twisted.internet.abstract", "FileDescriptor"),
    ("twisted.internet.base", "BaseConnector"),
    ("twisted.internet.task", "LoopingCall"),
    ("twisted.internet.process", "_BaseProcess"),
)


def _wrap_init(cls) -> None:
    original = cls.__init__
    era = current
    base_port = _lookup("twisted.internet.base", "BasePort")
    accepted = _lookup("twisted.internet.tcp", "Server")

    connecting = _connecting
    walk = provenance.capture

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        try:
            connector = connecting[0]
            if connector is not None and getattr(self, "connector", None) is connector and _plain_client(type(self), type(connector)):
                # The client transport connect() is making (see _connecting).
                connecting[2] = True
                self._strictclean_created = connecting[1]
            else:
                # provenance.note_created() without its check for a site
                # noted already: nothing notes one before an object is
                # initialised, and getattr() with a default raises and
                # clears an AttributeError inside when there is none (about
                # 1 k instructions).  Not self.__dict__.get(): on Python
                # 3.11+ that makes the object's attributes a real dict, and
                # every later attribute access on it slower.
                self._strictclean_created = walk(2)
        except Exception:
            pass  # a class with __slots__ goes without a site
        try:
            if base_port is not None and isinstance(self, base_port):
                # A listening port's era is not carried into its dispatch:
                # a connection it accepts is the doing of whoever
                # connected, in the test running then (_wrap_dispatch).
                self._strictclean_port_origin = era[0]
            elif accepted is not None and isinstance(self, accepted):
                # Whose it is depends on who connected: resolved when first
                # asked (its peer is not known yet), see _resolve_accepted.
                self._strictclean_origin = UNRESOLVED
                self._strictclean_accepted_in = era[0]
            else:
                self._strictclean_origin = era[0]
        except Exception:
            pass  # a class with __slots__ goes without
        original(self, *args, **kwargs)

    cls.__init__ = __init__


def _wrap_closer(cls, name: str) -> None:
    original = cls.__dict__[name]

    remember = closing_ports.add if _is_port(cls) else None

    @functools.wraps(original)
    def close(self, *args, **kwargs):
        provenance.note_closed(self)
        if remember is not None:
            try:
                remember(self)
            except TypeError:
                pass  # a port subclass without weak references
        return original(self, *args, **kwargs)

    setattr(cls, name, close)


def _is_port(cls) -> bool:
    return any(
        c.__name__ == "BasePort" and c.__module__ == "twisted.internet.base"
        for c in cls.__mro__
    )


# A connector's connect() makes its client transport and arms the attempt's
# time limit, both from inside Twisted: three walks of five to nine frames
# (about 2 k instructions a frame) that all end at the line that asked to
# connect.  So connect() notes that line once (_wrap_connect) and what it
# makes while it runs takes it from here, where the frames in between are
# known to be Twisted's (_plain_client): the connector whose connect() is
# running, the site it was asked from, and whether the client it is making
# was made the plain way (then its _finishInit's callLater is too).
_connecting: list = [None, None, False]
# (client type, connector type) -> whether every frame between the
# client's FileDescriptor.__init__ and connect() is Twisted's.
_plain_types: dict = {}


def _plain_client(client_type, connector_type) -> bool:
    key = (client_type, connector_type)
    plain = _plain_types.get(key)
    if plain is None:
        parts = [getattr(client_type, name, None) for name in ("__init__", "_finishInit")]
        parts.append(getattr(connector_type, "_makeTransport", None))
        codes = [getattr(part, "__code__", None) for part in parts]
        plain = _plain_types[key] = all(
            code is not None and provenance.is_library(code.co_filename) for code in codes
        )
    return plain


def _wrap_connect(base) -> None:
    original = base.BaseConnector.connect
    frame_of = sys._getframe
    walk = provenance.capture
    connecting = _connecting
    # The reactors' connectTCP, connectUNIX, connectSSL make the connector
    # and call connect() at once: connect() is then asked from the line
    # that made the connector, noted already (the walks from both go on
    # from the same reactor frame).
    entries = frozenset({"connectTCP", "connectUNIX", "connectSSL"})

    @functools.wraps(original)
    def connect(self):
        try:
            code = frame_of(1).f_code
            if code.co_name in entries and provenance.is_library(code.co_filename):
                site = getattr(self, provenance.CREATED, None)
            else:
                site = walk(2)
        except Exception:
            site = None  # a connector of the user's that refuses attributes
        previous = connecting[:]
        connecting[0], connecting[1], connecting[2] = self, site, False
        try:
            return original(self)
        finally:
            connecting[:] = previous

    base.BaseConnector.connect = connect


class _ThreadWork:
    """A unit of work sent to the reactor's thread pool, until it finishes."""

    __slots__ = ("func", provenance.CREATED, ORIGIN, "__weakref__")

    def __init__(self, func) -> None:
        self.func = func
        self._strictclean_origin = current[0]


# Reactors whose addReader/addWriter note the first registration of an
# object with no creation site of its own (a raw descriptor of the user's).
_REGISTERING = (
    ("twisted.internet.selectreactor", "SelectReactor"),
    ("twisted.internet.pollreactor", "PollReactor"),
    ("twisted.internet.epollreactor", "EPollReactor"),
    ("twisted.internet.kqreactor", "KQueueReactor"),
    ("twisted.internet.asyncioreactor", "AsyncioSelectorReactor"),
)


def _wrap_register(cls, name: str) -> None:
    original = cls.__dict__[name]
    note = provenance.note_first_seen

    @functools.wraps(original)
    def register(self, selectable):
        note(selectable)
        return original(self, selectable)

    setattr(cls, name, register)


def _wrap_thread_pool() -> None:
    from twisted.python.threadpool import ThreadPool

    original = ThreadPool.callInThreadWithCallback
    capture = provenance.capture

    @functools.wraps(original)
    def callInThreadWithCallback(self, onResult, func, *args, **kw):
        pending = self.__dict__.get("_strictclean_work")
        if pending is None:
            pending = self._strictclean_work = set()
        work = _ThreadWork(func)
        setattr(work, provenance.CREATED, capture())
        pending.add(work)
        origin = work._strictclean_origin

        def run(*args, **kw):
            _in_thread.era = origin
            try:
                return func(*args, **kw)
            finally:
                pending.discard(work)
                if onResult is None:
                    _in_thread.era = None

        if onResult is not None:
            # It runs in the worker thread after ``run`` and usually hands
            # the result back with callFromThread: the same chain.
            given = onResult

            def onResult(success, result):
                _in_thread.era = origin
                try:
                    return given(success, result)
                finally:
                    _in_thread.era = None

        return original(self, onResult, run, *args, **kw)

    ThreadPool.callInThreadWithCallback = callInThreadWithCallback


def _wrap_dispatch(cls, name: str) -> None:
    # Every reactor runs a ready reader or writer through one method
    # (``_doReadOrWrite``, the asyncio reactor's ``_readOrWrite``) whose
    # first argument is the selectable: what it does runs in its era.
    # Provenance's walk stops at the original's frame, below this one.
    original = cls.__dict__[name]
    era = current
    now = test_era

    unresolved = UNRESOLVED
    resolve = _resolve_accepted

    @functools.wraps(original)
    def dispatch(self, selectable, *args):
        previous = era[0]
        origin = getattr(selectable, "_strictclean_origin", None) or now[0]
        if origin is unresolved:
            origin = resolve(selectable)
        era[0] = origin
        try:
            return original(self, selectable, *args)
        finally:
            era[0] = previous

    setattr(cls, name, dispatch)


def _wrap_call_from_thread(cls) -> None:
    original = cls.__dict__["callFromThread"]
    era = current
    local = _in_thread

    @functools.wraps(original)
    def callFromThread(self, f, *args, **kwargs):
        # From a worker running thread-pool work: that work's era; from the
        # reactor's thread: the chain running now.
        origin = getattr(local, "era", None) or era[0]

        def in_era(*args, **kwargs):
            previous = era[0]
            era[0] = origin
            try:
                return f(*args, **kwargs)
            finally:
                era[0] = previous

        return original(self, in_era, *args, **kwargs)

    cls.callFromThread = callFromThread


def _carry_era_into_timed_calls(base) -> bool:
    """
    Make the era of a delayed call current as the reactor runs it.

    ``runUntilCurrent`` takes each due call off its heap with the
    ``heappop`` of ``twisted.internet.base``'s namespace (the one use there,
    22.10 to 26.10) and then runs it or skips it; so that is where a call's
    era becomes the era of the chain running, at no cost to making,
    cancelling or reading a call (a descriptor on ``called`` cost 2.6 k
    instructions per call and cancel).  A ``runUntilCurrent`` that no
    longer pops that way leaves timed calls without eras: False.
    """
    code = base.ReactorBase.runUntilCurrent.__code__
    pop = base.__dict__.get("heappop")
    if pop is None or "heappop" not in code.co_names or "called" not in code.co_names:
        return False
    era = current

    def heappop(heap):
        call = pop(heap)
        # Only a call that runs now: a cancelled one is dropped, a delayed
        # one pushed back, and neither may leave its era current.
        if not (call.cancelled or call.delayed_time):
            try:
                era[0] = call._strictclean_origin
            except AttributeError:
                pass  # made before capture was installed
        return call

    base.heappop = heappop
    return True


# What Twisted's ReactorBase.callLater refers to, 22.10 (which also asserts
# that the callable is callable) to 26.10: it builds a DelayedCall and
# appends it to _newTimedCalls, nothing else.  While that holds we replace
# it with the same steps plus capture, which costs half of wrapping it
# (no second call, no re-packing of the arguments); any other body is
# wrapped, slower but faithful to whatever it now does.
_KNOWN_CALL_LATER = (
    ("DelayedCall", "seconds", "_cancelCallLater", "_moveCallLaterSooner", "_newTimedCalls", "append"),
    ("builtins", "callable", "DelayedCall", "seconds", "_cancelCallLater", "_moveCallLaterSooner", "_newTimedCalls", "append"),
)


def _wrap_call_later(connect_code) -> None:
    # The hottest path of all: every reactor.callLater of the suite comes
    # through here (400,000 times in the stress benchmark), so capture's
    # common case, user code calling callLater, is inlined: the caller's
    # code and offset, and its own caller's when that is user code too.
    # Library callers take the full walk.  Wrapping the reactor's callLater
    # rather than DelayedCall.__init__ leaves task.Clock (never a leftover)
    # untouched.  A plain attribute store is cheaper than setattr().
    from twisted.internet import base
    from twisted.internet.base import ReactorBase

    original = ReactorBase.callLater
    walk = provenance.capture
    library = provenance._is_library_cache
    is_library = provenance.is_library
    frame_of = sys._getframe
    assert provenance.CREATED == "_strictclean_created"

    names = original.__code__.co_names
    era = current
    new = new_calls
    keep = new.append
    limit = _PRUNE_AT
    judged = _judged

    def prune():
        nonlocal limit
        new[:] = [c for c in new if not (c.cancelled or c.called)]
        limit = max(_PRUNE_AT, 2 * len(new))

    if names not in _KNOWN_CALL_LATER:

        @functools.wraps(original)
        def callLater(self, *args, **kwargs):
            call = original(self, *args, **kwargs)
            call._strictclean_origin = era[0]
            call._strictclean_created = walk()
            if self is judged[0]:
                keep(call)
                if len(new) > limit:
                    prune()
            return call

        ReactorBase.callLater = callLater
        return

    global call_later_replaced
    call_later_replaced = True
    check_callable = "callable" in names
    delayed_call = base.DelayedCall
    connecting = _connecting
    client = _lookup("twisted.internet.tcp", "BaseClient")
    finish_init = getattr(getattr(client, "_finishInit", None), "__code__", None)

    @functools.wraps(original)
    def callLater(self, delay, callable, *args, **kw):
        if check_callable:
            assert builtins.callable(callable), f"{callable} is not callable"
        assert delay >= 0, f"{delay} is not greater than or equal to 0 seconds"
        call = delayed_call(
            self.seconds() + delay,
            callable,
            args,
            kw,
            self._cancelCallLater,
            self._moveCallLaterSooner,
            seconds=self.seconds,
        )
        self._newTimedCalls.append(call)
        call._strictclean_origin = era[0]
        if self is judged[0]:
            keep(call)
            if len(new) > limit:
                prune()
        # provenance.capture() inlined for user callers, with its one
        # caller (_CALLERS); a function call alone costs 0.1 µs here.  A
        # file seen for the first time is classified here, once; a
        # subscript is cheaper than dict.get on this path.
        frame = frame_of(1)
        code = frame.f_code
        try:
            in_library = library[code.co_filename]
        except KeyError:
            in_library = is_library(code.co_filename)
        if in_library is False:
            caller = frame.f_back
            if caller is not None:
                above = caller.f_code
                try:
                    above_library = library[above.co_filename]
                except KeyError:
                    above_library = is_library(above.co_filename)
                if above_library is False:
                    call._strictclean_created = (code, frame.f_lasti, above, caller.f_lasti)
                    return call
            call._strictclean_created = (code, frame.f_lasti)
            return call
        if connecting[0] is not None and (code is connect_code or (code is finish_init and connecting[2])):
            # The attempt's time limit, or the client's first step, armed
            # inside a connect() (see _connecting): its site is connect's.
            call._strictclean_created = connecting[1]
            return call
        # Library code: the full walk, which knows where to stop.  A
        # reactor's own callLater calling ours (the asyncio reactor's calls
        # super()) is one frame more to skip.
        call._strictclean_created = walk(3 if code.co_name == "callLater" else 2)
        return call

    ReactorBase.callLater = callLater


class _Held:
    """A strong reference, called like a weak one, for what cannot be weakly referenced."""

    __slots__ = ("obj",)

    def __init__(self, obj) -> None:
        self.obj = obj

    def __call__(self):
        return self.obj


def _ref(obj):
    # Weak where possible: a test that drops or stops something and checks
    # that it was collected (Twisted's own thread-pool tests do) must not
    # find it kept alive by us.
    try:
        return weakref.ref(obj)
    except TypeError:
        return _Held(obj)


class Registered:
    """
    Something a test registered that has no room for our attributes (an
    asyncio handle has __slots__; a trigger is a tuple): who holds it
    (``owner``: a loop, a reactor, a log publisher), the thing itself
    (``key``: a task, a handle, a trigger ID, an observer), how it was
    made (``how``: "call_later", "create_task", ...), and where.  Owner and
    thing are held weakly where they can be; ``key`` is None once the thing
    is gone.
    """

    __slots__ = ("_owner", "_key", "how", provenance.CREATED)

    def __init__(self, owner, key, how: str, created) -> None:
        self._owner = _ref(owner)
        self._key = _ref(key)
        self.how = how
        setattr(self, provenance.CREATED, created)

    @property
    def owner(self):
        return self._owner()

    @property
    def key(self):
        return self._key()


def _keep(records: list, record, done) -> None:
    # Pruned like new_calls: what finished is dropped once the list grows.
    records.append(record)
    if len(records) > _PRUNE_AT:
        records[:] = [r for r in records if not done(r)]


def _wrap_thread_start() -> None:
    import threading

    original = threading.Thread.start
    capture = provenance.capture
    keep = new_threads.append
    ref = weakref.ref

    @functools.wraps(original)
    def start(self):
        try:
            setattr(self, provenance.CREATED, capture())
            keep(ref(self))  # weakly: a finished thread must not keep its target alive
        except Exception:
            pass  # a Thread subclass with __slots__ goes without a site
        if len(new_threads) > _PRUNE_AT:
            new_threads[:] = [r for r in new_threads if r() is not None and r().is_alive()]
        return original(self)

    threading.Thread.start = start


def _task_done(record) -> bool:
    task = record.key
    return task is None or task.done()


def _handle_done(record) -> bool:
    handle = record.key
    return handle is None or handle.cancelled()


def _wrap_asyncio() -> None:
    # Only calls made by user code are noted: the loop's own calls
    # (call_later calling call_at, a task scheduling its next step, a
    # future's callbacks) and the asyncio reactor's (its timer, iterate(),
    # callFromThread) have a library frame directly above.
    import asyncio

    loop_class = asyncio.BaseEventLoop
    capture = provenance.capture
    library = provenance._is_library_cache
    is_library = provenance.is_library
    frame_of = sys._getframe

    def wrap_handle(name: str) -> None:
        original = loop_class.__dict__[name]

        @functools.wraps(original)
        def schedule(self, *args, **kwargs):
            handle = original(self, *args, **kwargs)
            filename = frame_of(1).f_code.co_filename
            in_library = library.get(filename)
            if in_library is None:
                in_library = is_library(filename)
            if not in_library:
                _keep(new_handles, Registered(self, handle, name, capture()), _handle_done)
            return handle

        setattr(loop_class, name, schedule)

    for name in ("call_soon", "call_later", "call_at"):
        wrap_handle(name)

    original_task = loop_class.create_task

    @functools.wraps(original_task)
    def create_task(self, *args, **kwargs):
        task = original_task(self, *args, **kwargs)
        # asyncio.create_task and ensure_future come through here: the
        # walk finds the user line above them, or nothing (not the user's).
        created = capture()
        if created is not None:
            _keep(new_tasks, Registered(self, task, "create_task", created), _task_done)
        return task

    loop_class.create_task = create_task


def _wrap_triggers() -> None:
    from twisted.internet.base import ReactorBase

    original = ReactorBase.addSystemEventTrigger
    capture = provenance.capture

    @functools.wraps(original)
    def addSystemEventTrigger(self, phase, eventType, callable, *args, **kwargs):
        trigger = original(self, phase, eventType, callable, *args, **kwargs)
        # The reactor's own are bound to it or to its thread pool: the
        # pool's start (callWhenRunning) and shutdown triggers, added when
        # deferToThread or suggestThreadPoolSize first creates the pool.
        owner = getattr(callable, "__self__", None)
        if owner is not self and (owner is None or owner is not getattr(self, "threadpool", None)):
            created = capture()
            if created is not None:
                new_triggers.append(Registered(self, trigger, phase, created))
        return trigger

    ReactorBase.addSystemEventTrigger = addSystemEventTrigger


def _is_trials(observer) -> bool:
    # Trial adds its own observer (_LogObserver.gotEvent) around every
    # test, through twisted.python.log, which wraps it.
    inner = getattr(observer, "legacyObserver", observer)
    owner = getattr(inner, "__self__", inner)
    return type(owner).__module__.startswith("twisted.trial.")


def _wrap_observers() -> None:
    from twisted.logger import LogPublisher

    original = LogPublisher.addObserver
    capture = provenance.capture

    @functools.wraps(original)
    def addObserver(self, observer):
        result = original(self, observer)
        if not _is_trials(observer):
            created = capture()
            if created is not None:
                new_observers.append(Registered(self, observer, "addObserver", created))
        return result

    LogPublisher.addObserver = addObserver


def _lookup(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        # Optional parts (TLS without pyOpenSSL) and private names that a
        # Twisted release moved: capture degrades, it never breaks a run.
        return None


def _release_reserved_descriptor() -> None:
    # Twisted's TCP ports keep /dev/null open for the life of the process,
    # a descriptor to give back when accept() meets EMFILE.  Our wrappers
    # change when that file object is freed during interpreter shutdown, and
    # on Python 3.12 it then ends every run that listened on TCP with
    # "ResourceWarning: unclosed file ... /dev/null".  At exit nothing can
    # need it any more: close it, as the interpreter would have.
    tcp = sys.modules.get("twisted.internet.tcp")
    reservation = getattr(tcp, "_reservedFD", None)
    held = getattr(reservation, "_fileDescriptor", None)
    if held is None:
        return
    try:
        held.close()
        reservation._fileDescriptor = None
    except Exception:
        pass


# Where each reactor runs a ready selectable, and where callFromThread is.
_DISPATCHING = (
    ("twisted.internet.posixbase", "_PollLikeMixin", "_doReadOrWrite"),
    ("twisted.internet.selectreactor", "SelectReactor", "_doReadOrWrite"),
    ("twisted.internet.asyncioreactor", "AsyncioSelectorReactor", "_readOrWrite"),
    ("twisted.internet.kqreactor", "KQueueReactor", "_doWriteOrRead"),
)
_CALLING_FROM_THREAD = (
    ("twisted.internet.base", "ReactorBase"),
    ("twisted.internet.asyncioreactor", "AsyncioSelectorReactor"),
)


# The reactor classes already wrapped, and the type of the reactor last
# judged (judge_calls_of): covering a reactor is checked once per test.
_covered_classes: set = set()
_covered_type = [None]


def _cover_reactors() -> None:
    """
    Wrap dispatch, callFromThread and addReader/addWriter of the reactor
    modules imported so far.  Importing the others only to wrap them (the
    select, poll, kqueue and asyncio reactors, most runs use one) cost
    more than all the rest of install(); one imported later is covered
    when its reactor is first judged (judge_calls_of).
    """
    wanted = [(module, name, (method,), _wrap_dispatch) for module, name, method in _DISPATCHING]
    wanted += [(module, name, ("callFromThread",), None) for module, name in _CALLING_FROM_THREAD]
    wanted += [(module, name, ("addReader", "addWriter"), _wrap_register) for module, name in _REGISTERING]
    for module, name, methods, wrap in wanted:
        cls = getattr(sys.modules.get(module), name, None)
        if cls is None:
            continue
        for method in methods:
            if method in cls.__dict__ and (cls, method) not in _covered_classes:
                _covered_classes.add((cls, method))
                if wrap is None:
                    _wrap_call_from_thread(cls)
                else:
                    wrap(cls, method)


def install() -> None:
    """Patch Twisted's classes once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(_release_reserved_descriptor)
    unhandled.install()
    # Before _wrap_call_later, which tells connect()'s own calls by its code.
    from twisted.internet import base

    connect_code = base.BaseConnector.connect.__code__
    _wrap_connect(base)
    _wrap_call_later(connect_code)

    _carry_era_into_timed_calls(base)
    _wrap_thread_pool()
    for wrap in (_wrap_thread_start, _wrap_asyncio, _wrap_triggers, _wrap_observers):
        try:
            wrap()
        except Exception:
            pass  # capture degrades, it never breaks a run
    for module, name in _CREATED:
        cls = _lookup(module, name)
        if cls is not None:
            _wrap_init(cls)
    _cover_reactors()
    for module, name, methods in _CLOSERS:
        cls = _lookup(module, name)
        if cls is None:
            continue
        for method in methods:
            if method in cls.__dict__:
                _wrap_closer(cls, method)
