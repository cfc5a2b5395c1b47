"""
Helpers for Trial (and pytest-twisted) tests that connect a real client to a real server and then
clean up all of it.

Closing a connection in Twisted is asynchronous: a test is only clean once the
listening port has stopped and each side's protocol has had ``connectionLost``
called.  Every helper here registers a cleanup on the test case that makes
those things happen and waits for them, for a bounded time, so that a test
which passes, fails or errors leaves the reactor as it found it.

The helpers need ``twisted.trial.unittest.TestCase`` (whose cleanups may
return Deferreds) and only ever use loopback addresses and UNIX sockets.

Importing this module never imports ``twisted.internet.reactor``: the reactor
is looked up when a helper runs, so ``trial --reactor=...`` can still choose.
"""

from __future__ import annotations

import datetime
import inspect
import ipaddress
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from zope.interface import directlyProvides, implementer, providedBy

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.error import NoProtocol
from twisted.internet.interfaces import (
    IListeningPort,
    ILoggingContext,
    IProtocolFactory,
    ITransport,
)
from twisted.internet.protocol import ReconnectingClientFactory
from twisted.python.failure import Failure

__all__ = [
    "DEFAULT_TIMEOUT",
    "CleanupTimeout",
    "connect",
    "connected_pair",
    "listen",
    "listen_unix",
    "self_signed_tls",
    "server_ends_closed",
    "wait_for_disconnect",
]

DEFAULT_TIMEOUT = 10.0
"""Seconds a cleanup waits for things to close before it fails the test."""

# After a cleanup times out it aborts what is still open; abortConnection
# reports connectionLost a reactor turn later, so this is plenty.
_ABORT_GRACE = 1.0


class CleanupTimeout(Exception):
    """
    A helper's cleanup gave up waiting: something it closed never reported
    being closed.  The message names each such thing, one per line.
    """


def listen(
    testcase: Any,
    factory: IProtocolFactory,
    *,
    interface: str = "127.0.0.1",
    port: int = 0,
    tls: Any = None,
    reactor: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> IListeningPort:
    """
    Listen with factory on a loopback TCP port now, and clean up after the test.

    The cleanup stops listening, closes every connection the port accepted,
    and waits until the port has stopped and each accepted protocol has had
    ``connectionLost`` called, failing after ``timeout`` seconds.

    @param interface: a loopback address, such as C{"127.0.0.1"} or C{"::1"}.
    @param port: the port number; 0 lets the system choose a free one.
    @param tls: to speak TLS, a server-side connection creator or context
        factory, such as C{CertificateOptions} or the first item of
        L{self_signed_tls}.
    @return: the listening port; C{getHost()} tells where to connect.
    """
    return _listen_tcp(testcase, factory, interface, port, tls, reactor, timeout)[0]


def listen_unix(
    testcase: Any,
    factory: IProtocolFactory,
    path: str | None = None,
    *,
    tls: Any = None,
    reactor: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> IListeningPort:
    """
    Listen with factory on a UNIX socket now, and clean up after the test.

    Without a path the socket goes in a new temporary directory, which the
    cleanup removes.  Otherwise it behaves like L{listen}.
    """
    return _listen_unix(testcase, factory, path, tls, reactor, timeout)[0]


def connect(
    testcase: Any,
    address: IPv4Address | IPv6Address | UNIXAddress,
    factory: IProtocolFactory,
    *,
    tls: Any = None,
    reactor: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Deferred:
    """
    Connect a client built by factory to address, and clean up after the test.

    The returned Deferred fires with the client protocol once it is
    connected, or fails with the reason it could not connect (``NoProtocol``
    if the factory's ``buildProtocol`` returned None).  The cleanup closes the
    connection and waits for its ``connectionLost``, failing after ``timeout``
    seconds.  A ``ReconnectingClientFactory`` is told to stop trying first.

    @param address: where a listening port is, as its C{getHost()} returns
        it: a loopback L{IPv4Address} or L{IPv6Address}, or a L{UNIXAddress}.
    @param tls: to speak TLS, a client-side connection creator or context
        factory, such as C{optionsForClientTLS(...)} or the second item of
        L{self_signed_tls}.
    """
    reactor = _reactor(reactor)
    watching = _WatchingFactory(factory, "client")
    outer = _maybe_tls(watching, tls, True, reactor)
    if isinstance(address, (IPv4Address, IPv6Address)) and address.type == "TCP":
        _require_loopback(address.host)
        connector = reactor.connectTCP(
            address.host, address.port, outer, timeout=timeout
        )
    elif isinstance(address, UNIXAddress) and address.name:
        connector = reactor.connectUNIX(address.name, outer, timeout=timeout)
    else:
        raise TypeError(
            f"cannot connect to {address!r}: expected a TCP IPv4Address or "
            "IPv6Address, or a named UNIXAddress, as a listening port's "
            "getHost() returns"
        )
    cleanup = _ConnectCleanup(reactor, connector, watching, address, timeout)
    testcase.addCleanup(cleanup.close_client_connection)

    connected: Deferred = Deferred()

    def attempt_over(ignored: None) -> None:
        made = [watch for watch in watching.watches if watch.made.fired]
        if made:
            connected.callback(made[0].protocol)
        elif watching.refused:
            connected.errback(
                NoProtocol(f"{_name(factory)}.buildProtocol returned None")
            )
        else:
            connected.errback(watching.attempt_error)

    watching.attempt.wait().addCallback(attempt_over)
    return connected


def connected_pair(
    testcase: Any,
    server_factory: IProtocolFactory,
    client_factory: IProtocolFactory,
    *,
    interface: str = "127.0.0.1",
    unix: bool = False,
    tls: tuple[Any, Any] | None = None,
    reactor: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Deferred:
    """
    Listen with server_factory, connect client_factory to it, and clean up
    after the test.

    The returned Deferred fires with C{(server_protocol, client_protocol)}
    once both ends are connected.  The cleanups wait for the port to stop and
    for both protocols' ``connectionLost``.

    @param interface: the loopback address to listen on.
    @param unix: if true, use a UNIX socket in a temporary directory instead
        (C{interface} is then unused).
    @param tls: a C{(server_side, client_side)} pair as L{self_signed_tls}
        returns, to speak TLS; see L{listen} and L{connect}.
    """
    server_tls, client_tls = tls if tls is not None else (None, None)
    if unix:
        port, watching = _listen_unix(
            testcase, server_factory, None, server_tls, reactor, timeout
        )
    else:
        port, watching = _listen_tcp(
            testcase, server_factory, interface, 0, server_tls, reactor, timeout
        )
    client_connected = connect(
        testcase,
        port.getHost(),
        client_factory,
        tls=client_tls,
        reactor=reactor,
        timeout=timeout,
    )

    def find_server(client: Any) -> Deferred:
        found = watching.accepted(client.transport.getHost())
        return found.addCallback(lambda server: (server, client))

    return client_connected.addCallback(find_server)


def wait_for_disconnect(protocol_or_transport: Any) -> Deferred:
    """
    Return a Deferred that fires with None once the protocol's
    ``connectionLost`` has run, at once if it already has.

    Given a transport, waits for the protocol it carries.  This only
    watches; it does not close anything.
    """
    protocol = protocol_or_transport
    if ITransport.providedBy(protocol_or_transport):
        transport = protocol_or_transport
        # TLS and other wrappers call it .wrappedProtocol (ask them first:
        # they pass unknown names on to the transport below); TCP and UNIX
        # transports call it .protocol, and drop it once the connection is lost.
        protocol = getattr(transport, "wrappedProtocol", None) or getattr(
            transport, "protocol", None
        )
        if protocol is None:
            if getattr(transport, "disconnected", False):
                return succeed(None)
            raise TypeError(f"cannot tell which protocol {transport!r} carries")
    watch = _existing_watch(protocol)
    if watch is None:
        watch = _Watch(protocol, "")
        if _already_lost(protocol):
            watch.lost.fire()
    return watch.lost.wait()


def self_signed_tls(hostname: str = "localhost") -> tuple[Any, Any]:
    """
    Return C{(server_side, client_side)} TLS options around a new self-signed
    certificate for hostname, for L{connected_pair}'s C{tls}.

    The client side trusts that certificate alone and checks the hostname,
    as a real client would.  Needs Twisted's TLS extra (pyOpenSSL,
    service_identity), which brings the ``cryptography`` package.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from twisted.internet import ssl

    try:
        alt_name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        alt_name = x509.DNSName(hostname)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # An hour of slack either way for clocks that disagree a little.
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        # Hostname checks read subjectAltName only, never the common name.
        .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    server_side = ssl.PrivateCertificate.loadPEM(key_pem + certificate_pem).options()
    client_side = ssl.optionsForClientTLS(
        hostname, trustRoot=ssl.Certificate.loadPEM(certificate_pem)
    )
    return server_side, client_side


# Internals.


def _listen_tcp(
    testcase: Any,
    factory: Any,
    interface: str,
    port: int,
    tls: Any,
    reactor: Any,
    timeout: float,
) -> tuple[Any, _WatchingFactory]:
    """Listen on TCP and register the cleanup; return the port and its watcher."""
    reactor = _reactor(reactor)
    _require_loopback(interface)
    watching = _WatchingFactory(factory, "server")
    listening = reactor.listenTCP(
        port, _maybe_tls(watching, tls, False, reactor), interface=interface
    )
    cleanup = _ListenCleanup(reactor, listening, watching, timeout)
    testcase.addCleanup(cleanup.close_listening_port)
    return listening, watching


def _listen_unix(
    testcase: Any,
    factory: Any,
    path: str | None,
    tls: Any,
    reactor: Any,
    timeout: float,
) -> tuple[Any, _WatchingFactory]:
    """Listen on a UNIX socket and register the cleanup, as _listen_tcp does."""
    reactor = _reactor(reactor)
    directory = None
    if path is None:
        # A short directory of our own: socket paths are limited to about a
        # hundred bytes, and nobody else can take the name.
        directory = tempfile.mkdtemp(prefix="strictclean-")
        path = os.path.join(directory, "socket")
    watching = _WatchingFactory(factory, "server")
    try:
        listening = reactor.listenUNIX(path, _maybe_tls(watching, tls, False, reactor))
    except BaseException:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    cleanup = _ListenCleanup(reactor, listening, watching, timeout, directory)
    testcase.addCleanup(cleanup.close_listening_port)
    return listening, watching


def server_ends_closed(
    port: Any, timeout: float = DEFAULT_TIMEOUT, reactor: Any = None
) -> Deferred:
    """
    Return a Deferred that fires with None once no connection accepted by
    ``port`` is left in the reactor: the server ends of a shared server,
    after a test closed its clients.  Fails with ``CleanupTimeout`` after
    ``timeout`` seconds.

    Works from any runner (a pytest-twisted test or fixture awaits it; a
    Trial test returns it or adds it as a cleanup).  It only watches, by
    looking at the reactor's readers and writers each turn; it closes
    nothing, so a server end whose client is still connected keeps it
    waiting.
    """
    reactor = _reactor(reactor)
    done = Deferred()
    deadline = reactor.seconds() + timeout

    def ends() -> list:
        held = list(reactor.getReaders()) + list(reactor.getWriters())
        return [t for t in held if getattr(t, "server", None) is port]

    def check() -> None:
        left = ends()
        if not left:
            done.callback(None)
        elif reactor.seconds() >= deadline:
            names = "\n".join(sorted({_name(t) for t in left}))
            done.errback(CleanupTimeout(f"server ends of {_name(port)} still open after {timeout}s:\n{names}"))
        else:
            reactor.callLater(0.005, check)

    check()
    return done


def _reactor(reactor: Any) -> Any:
    """Return the given reactor, or the global one, imported only now."""
    if reactor is None:
        from twisted.internet import reactor
    return reactor


def _require_loopback(host: str) -> None:
    """Refuse any address that is not loopback: tests must not reach out."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"{host!r} is not a loopback address; use one such as '127.0.0.1' or '::1'"
        )


def _name(thing: Any) -> str:
    return type(thing).__name__


def _format(address: Any) -> str:
    """Write address the way people read it: host:port, [v6]:port or a path."""
    if isinstance(address, IPv6Address):
        return f"[{address.host}]:{address.port}"
    if isinstance(address, IPv4Address):
        return f"{address.host}:{address.port}"
    if isinstance(address, UNIXAddress):
        name = address.name
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        return name or "(unnamed UNIX socket)"
    return str(address)


def _maybe_tls(factory: Any, tls: Any, is_client: bool, reactor: Any) -> Any:
    """Return factory, or a TLS factory around it if tls options are given."""
    if tls is None:
        return factory
    from twisted.protocols.tls import TLSMemoryBIOFactory

    class _TLSFactory(TLSMemoryBIOFactory):
        # TLSMemoryBIOFactory would wrap a None from the wrapped factory and
        # crash on it; pass the refusal through as a plain factory would.
        def buildProtocol(self, addr: Any) -> Any:
            wrapped = self.wrappedFactory.buildProtocol(addr)
            return None if wrapped is None else self.protocol(self, wrapped)

    # Newer Twisted batches small TLS writes with a clock, which should be
    # the reactor this test uses rather than the global one.
    if "clock" in inspect.signature(TLSMemoryBIOFactory.__init__).parameters:
        return _TLSFactory(tls, is_client, factory, clock=reactor)
    return _TLSFactory(tls, is_client, factory)


class _Signal:
    """A one-time event that any number of Deferreds can wait for."""

    def __init__(self) -> None:
        self.fired = False
        self._waiting: list[Deferred] = []

    def wait(self) -> Deferred:
        if self.fired:
            return succeed(None)
        waiting: Deferred = Deferred(self._waiting.remove)
        self._waiting.append(waiting)
        return waiting

    def fire(self) -> None:
        if self.fired:
            return
        self.fired = True
        waiting, self._waiting = self._waiting, []
        for each in waiting:
            each.callback(None)


class _Watch:
    """
    Observes one protocol's makeConnection and connectionLost without
    changing what they do, so it works whatever the protocol's class does
    (such as overriding connectionLost without calling up).
    """

    def __init__(self, protocol: Any, role: str) -> None:
        self.protocol = protocol
        self.role = role
        self.transport: Any = None
        self.host: Any = None
        self.peer: Any = None
        self.made = _Signal()
        self.lost = _Signal()
        self._original_make = protocol.makeConnection
        self._original_lost = protocol.connectionLost
        # Attributes on the instance win over the class's methods, and the
        # transport looks these up on the instance: the protocol and its
        # class stay the user's own.
        try:
            protocol.makeConnection = self._make_connection
            protocol.connectionLost = self._connection_lost
        except AttributeError:
            raise TypeError(
                f"cannot watch {protocol!r}: its instances take no attributes"
            ) from None

    def _make_connection(self, transport: Any) -> Any:
        self.transport = transport
        self.host = transport.getHost()
        self.peer = transport.getPeer()
        result = self._original_make(transport)
        self.made.fire()
        return result

    def _connection_lost(self, reason: Failure) -> Any:
        # Fire even if the protocol's own connectionLost raises: the
        # connection is gone either way, and the error still propagates.
        try:
            return self._original_lost(reason)
        finally:
            self.lost.fire()

    def describe(self) -> str:
        arrow = "<-" if self.role == "server" else "->"
        return (
            f"{self.role} connection {_format(self.host)} {arrow} "
            f"{_format(self.peer)} (protocol {_name(self.protocol)})"
        )

    def close(self) -> None:
        """Close the connection once its pending writes are sent, if it is open."""
        if self.transport is not None and not self.lost.fired:
            self.transport.loseConnection()

    def abort(self) -> None:
        """Drop the connection at once, pending writes and all, if it is open."""
        if self.transport is not None and not self.lost.fired:
            getattr(self.transport, "abortConnection", self.transport.loseConnection)()


def _existing_watch(protocol: Any) -> _Watch | None:
    watcher = getattr(getattr(protocol, "connectionLost", None), "__self__", None)
    return watcher if isinstance(watcher, _Watch) else None


def _already_lost(protocol: Any) -> bool:
    """Tell from the transports under protocol whether its connection is gone."""
    transport = getattr(protocol, "transport", None)
    # TLS and other wrappers are transports that sit on other transports;
    # the socket at the bottom says whether the connection is gone.
    for _ in range(10):
        if transport is None:
            return False
        if getattr(transport, "disconnected", False):
            return True
        transport = getattr(transport, "transport", None)
    return False


@implementer(IProtocolFactory, ILoggingContext)
class _WatchingFactory:
    """
    Stands in for the user's factory: builds protocols with it, watches
    each one, and passes everything else through.
    """

    def __init__(self, factory: Any, role: str) -> None:
        self.wrapped = factory
        self.role = role
        self.watches: list[_Watch] = []
        self.refused = False  # buildProtocol returned None at least once
        # For clients: the first connection attempt is over, one way or
        # another, and what went wrong if it failed.
        self.attempt = _Signal()
        self.attempt_error: Failure | None = None
        self._wanted: list[tuple[Callable[[_Watch], bool], Deferred]] = []
        # Whatever else the user's factory provides (protocol negotiation
        # for TLS, say) this one provides too, through __getattr__.
        directlyProvides(self, providedBy(factory))

    def __getattr__(self, name: str) -> Any:
        # Only plain attributes: dunder lookups (zope's among them) must see
        # this object, not the wrapped one.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.wrapped, name)

    def __repr__(self) -> str:
        return f"<watching {self.wrapped!r}>"

    def logPrefix(self) -> str:
        if ILoggingContext.providedBy(self.wrapped):
            return self.wrapped.logPrefix()
        return _name(self.wrapped)

    def doStart(self) -> None:
        self.wrapped.doStart()

    def doStop(self) -> None:
        self.wrapped.doStop()

    def buildProtocol(self, addr: Any) -> Any:
        protocol = self.wrapped.buildProtocol(addr)
        if protocol is None:
            self.refused = True
            return None
        watch = _existing_watch(protocol) or _Watch(protocol, self.role)
        self.watches.append(watch)
        watch.made.wait().addCallback(lambda ignored: self._made(watch))
        return protocol

    def _made(self, watch: _Watch) -> None:
        self.attempt.fire()
        for wanted in list(self._wanted):
            matches, found = wanted
            if matches(watch):
                self._wanted.remove(wanted)
                found.callback(watch.protocol)

    def accepted(self, peer: Any) -> Deferred:
        """Fire with the protocol of the connection made from peer."""

        def matches(watch: _Watch) -> bool:
            # UNIX clients have no name to match, but then the listener is
            # our own and the first connection is the one.
            if isinstance(peer, (IPv4Address, IPv6Address)):
                return (watch.peer.host, watch.peer.port) == (peer.host, peer.port)
            return True

        for watch in self.watches:
            if watch.made.fired and matches(watch):
                return succeed(watch.protocol)
        found: Deferred = Deferred()
        self._wanted.append((matches, found))
        return found

    # A connector calls these on client factories; a plain Factory has none.

    def startedConnecting(self, connector: Any) -> None:
        self._forward("startedConnecting", connector)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self._attempt_over(reason)
        self._forward("clientConnectionFailed", connector, reason)

    def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
        self._attempt_over(reason)
        self._forward("clientConnectionLost", connector, reason)

    def _attempt_over(self, reason: Failure) -> None:
        if not self.attempt.fired:
            self.attempt_error = reason
            self.attempt.fire()

    def _forward(self, name: str, *args: Any) -> None:
        method = getattr(self.wrapped, name, None)
        if method is not None:
            method(*args)


class _Bounded:
    """What a cleanup waits for, and when it gives up."""

    def __init__(self, reactor: Any, timeout: float) -> None:
        self.reactor = reactor
        self.timeout = timeout
        self.deadline = reactor.seconds() + timeout
        self.late: list[str] = []

    def wait(self, waits: list[tuple[Deferred, str]]) -> Deferred:
        """
        Fire once every Deferred in waits has fired or the deadline has
        passed, noting the description of each one still pending then; fail
        as soon as one of them fails.
        """
        done: Deferred = Deferred()
        pending = dict(enumerate(what for _, what in waits))

        def finish(failure: Failure | None = None) -> None:
            if done.called:
                return
            # Leave nothing behind in the reactor.
            if timer.active():
                timer.cancel()
            if failure is not None:
                done.errback(failure)
                return
            self.late.extend(pending.values())
            done.callback(None)

        def fired(outcome: Any, key: int) -> None:
            # Returning None also consumes a failure that comes after
            # finish(), so it is never logged as unhandled.
            pending.pop(key, None)
            if isinstance(outcome, Failure):
                finish(outcome)
            elif not pending:
                finish()

        timer = self.reactor.callLater(
            max(0.0, self.deadline - self.reactor.seconds()), finish
        )
        for key, (deferred, _) in enumerate(waits):
            deferred.addBoth(fired, key)
        if not waits:
            finish()
        return done

    def raise_if_late(self) -> None:
        if self.late:
            raise CleanupTimeout(
                "\n".join(f"{what} within {self.timeout:g}s" for what in self.late)
            )


async def _close_all(bounded: _Bounded, watches: list[_Watch]) -> None:
    """Close each connection, wait for their connectionLost, abort stragglers."""
    for watch in watches:
        watch.close()
    await bounded.wait(
        [
            (watch.lost.wait(), f"{watch.describe()} never reported connectionLost")
            for watch in watches
        ]
    )
    stuck = [watch for watch in watches if not watch.lost.fired]
    if stuck:
        # The test fails for this anyway; abort so the next test does not
        # inherit the connection as well.
        for watch in stuck:
            watch.abort()
        grace = _Bounded(bounded.reactor, min(bounded.timeout, _ABORT_GRACE))
        await grace.wait([(watch.lost.wait(), "") for watch in stuck])


class _ListenCleanup:
    """Stops a listening port and closes what it accepted, then waits."""

    def __init__(
        self,
        reactor: Any,
        port: Any,
        watching: _WatchingFactory,
        timeout: float,
        directory: str | None = None,
    ) -> None:
        self.reactor = reactor
        self.port = port
        self.watching = watching
        self.timeout = timeout
        self.directory = directory
        self.what = (
            f"listening port {_format(port.getHost())} "
            f"(factory {_name(watching.wrapped)})"
        )

    def close_listening_port(self) -> Deferred:
        return Deferred.fromCoroutine(self._close())

    async def _close(self) -> None:
        bounded = _Bounded(self.reactor, self.timeout)
        try:
            stopped = maybeDeferred(self.port.stopListening)
            waiting = bounded.wait([(stopped, f"{self.what} never stopped listening")])
            # Stopping the port leaves accepted connections open.
            await _close_all(bounded, self.watching.watches)
            await waiting
            bounded.raise_if_late()
        finally:
            if self.directory is not None:
                shutil.rmtree(self.directory, ignore_errors=True)


class _ConnectCleanup:
    """Closes a client connection, once its attempt is over, then waits."""

    def __init__(
        self,
        reactor: Any,
        connector: Any,
        watching: _WatchingFactory,
        address: Any,
        timeout: float,
    ) -> None:
        self.reactor = reactor
        self.connector = connector
        self.watching = watching
        self.timeout = timeout
        self.what = (
            f"client connection attempt to {_format(address)} "
            f"(factory {_name(watching.wrapped)})"
        )

    def close_client_connection(self) -> Deferred:
        return Deferred.fromCoroutine(self._close())

    async def _close(self) -> None:
        bounded = _Bounded(self.reactor, self.timeout)
        if isinstance(self.watching.wrapped, ReconnectingClientFactory):
            # Otherwise closing the connection makes it connect again.
            self.watching.wrapped.stopTrying()
        # A test that fails at once may leave the attempt under way: let it
        # finish rather than cut it off, so there is one way to close.
        await bounded.wait(
            [(self.watching.attempt.wait(), f"{self.what} never finished")]
        )
        if not self.watching.attempt.fired and self.connector.state == "connecting":
            self.connector.stopConnecting()
        await _close_all(bounded, self.watching.watches)
        bounded.raise_if_late()
