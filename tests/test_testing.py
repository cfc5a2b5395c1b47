"""
Tests for L{trial_strictclean.testing}, over real loopback and UNIX sockets.

Every test that uses a helper checks, in a cleanup that runs after the
helpers' own, that the reactor holds no timer, reader or writer it did not
hold before the test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile

from zope.interface import implementer

from twisted.internet import protocol
from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ConnectionRefusedError, NoProtocol
from twisted.internet.interfaces import IProtocol, IProtocolFactory, ISSLTransport
from twisted.protocols.policies import WrappingFactory
from twisted.trial import unittest

from trial_strictclean.testing import (
    CleanupTimeout,
    connect,
    connected_pair,
    listen,
    listen_unix,
    self_signed_tls,
    wait_for_disconnect,
)

from .trialrun import run_trial

try:
    import OpenSSL  # noqa: F401
    import service_identity  # noqa: F401
except ImportError:
    TLS_SKIP: str | None = (
        "TLS needs pyOpenSSL and service_identity (pip install 'twisted[tls]')"
    )
else:
    TLS_SKIP = None


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


IPV6_SKIP = None if _has_ipv6_loopback() else "this machine has no ::1"

MAIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Protocols and factories the tests use.


class Echo(protocol.Protocol):
    """Sends back whatever it receives."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class Collector(protocol.Protocol):
    """Keeps what it receives; receive(n) fires once n bytes have come."""

    def __init__(self) -> None:
        self.received = b""
        self._wanted: tuple[int, Deferred] | None = None

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        self._check()

    def receive(self, count: int) -> Deferred:
        self._wanted = (count, Deferred())
        waiting = self._wanted[1]
        self._check()
        return waiting

    def _check(self) -> None:
        if self._wanted is not None and len(self.received) >= self._wanted[0]:
            waiting = self._wanted[1]
            self._wanted = None
            waiting.callback(self.received)


class RecordsLoss(protocol.Protocol):
    """Overrides connectionLost without calling up: the helpers must cope."""

    lost_with = None

    def connectionLost(self, reason: object) -> None:
        self.lost_with = reason


@implementer(IProtocol)
class Bare:
    """An IProtocol written from scratch, with no Twisted base class."""

    def __init__(self) -> None:
        self.transport = None
        self.lost = False

    def makeConnection(self, transport: object) -> None:
        self.transport = transport
        self.connectionMade()

    def connectionMade(self) -> None:
        pass

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)

    def connectionLost(self, reason: object) -> None:
        self.lost = True


@implementer(IProtocolFactory)
class BareFactory:
    """An IProtocolFactory written from scratch."""

    def __init__(self, make: type) -> None:
        self.make = make
        self.built: list[object] = []
        self.starts = self.stops = 0

    def doStart(self) -> None:
        self.starts += 1

    def doStop(self) -> None:
        self.stops += 1

    def buildProtocol(self, addr: object) -> object:
        self.built.append(self.make())
        return self.built[-1]


class Refusing(protocol.Factory):
    """A factory that turns every connection away."""

    def buildProtocol(self, addr: object) -> None:
        return None


class RecordingClientFactory(protocol.ClientFactory):
    protocol = Collector
    lost_reason = None

    def clientConnectionLost(self, connector: object, reason: object) -> None:
        self.lost_reason = reason


class Flood(protocol.Protocol):
    """Writes more than any socket buffer holds, as soon as it connects."""

    def connectionMade(self) -> None:
        self.transport.write(b"x" * (16 * 1024 * 1024))
        self.factory.connected.callback(self)


class EarlyClients:
    """
    Stands in for the reactor, and connects plain sockets to each TCP port
    it listens on as soon as it listens: before the helpers' own client,
    whose connection starts a reactor turn later.  The test closes them.
    """

    def __init__(self, reactor: object, testcase: unittest.TestCase, count: int) -> None:
        self._reactor = reactor
        self._testcase = testcase
        self._count = count

    def __getattr__(self, name: str) -> object:
        return getattr(self._reactor, name)

    def listenTCP(self, *args: object, **kwargs: object) -> object:
        port = self._reactor.listenTCP(*args, **kwargs)
        for _ in range(self._count):
            # The connection completes in the port's backlog, accepted
            # first; closed by a cleanup that runs after the port's.
            early = socket.create_connection(("127.0.0.1", port.getHost().port))
            self._testcase.addCleanup(early.close)
        return port


class Announcing(Collector):
    """A Collector that tells its factory when it is connected."""

    def connectionMade(self) -> None:
        self.factory.made(self)


class ReconnectingCollector(protocol.ReconnectingClientFactory):
    """Reconnects about 10 ms after each loss; keeps each connection made."""

    protocol = Announcing
    initialDelay = maxDelay = 0.01

    def __init__(self) -> None:
        self.connections: list[Announcing] = []
        self._waiting: dict[int, Deferred] = {}

    def made(self, connected: Announcing) -> None:
        self.connections.append(connected)
        waiting = self._waiting.pop(len(self.connections), None)
        if waiting is not None:
            waiting.callback(connected)

    def connected(self, number: int) -> Deferred:
        """Fire with the number-th connection made, once it is."""
        if len(self.connections) >= number:
            return succeed(self.connections[number - 1])
        return self._waiting.setdefault(number, Deferred())


class RecordedCleanups:
    """Stands in for a test case, so a test can run a helper's cleanup itself."""

    def __init__(self) -> None:
        self.cleanups: list[object] = []

    def addCleanup(self, function: object, *args: object, **kwargs: object) -> None:
        self.cleanups.append((function, args, kwargs))

    def run(self) -> Deferred:
        function, args, kwargs = self.cleanups.pop()
        return function(*args, **kwargs)


# The check that the reactor is left as it was found.


def _reactor_state(reactor: object) -> dict[str, set]:
    def trials_own(call: object) -> bool:
        # Newer Trial runs each cleanup (this check included) with a timeout
        # of its own in the reactor; that one belongs to Trial, not the test.
        func = getattr(call, "func", None)
        return getattr(func, "__module__", "").startswith("twisted.trial") and (
            getattr(func, "__qualname__", "").endswith("<locals>.onTimeout")
        )

    def reactors_own(selectable: object) -> bool:
        # The reactor adds its signal wakers when Trial starts it running,
        # which is after setUp: they are the reactor's, not the test's.
        return type(selectable).__module__ == "twisted.internet._signals" or (
            selectable is getattr(reactor, "waker", None)
        )

    return {
        "delayed calls": {
            call for call in reactor.getDelayedCalls() if not trials_own(call)
        },
        "readers": {r for r in reactor.getReaders() if not reactors_own(r)},
        "writers": {w for w in reactor.getWriters() if not reactors_own(w)},
    }


class CleanReactorTestCase(unittest.TestCase):
    """A test case whose tests fail if they leave anything new in the reactor."""

    def setUp(self) -> None:
        from twisted.internet import reactor

        self.reactor = reactor
        # Registered first, so it runs last: after every helper's cleanup.
        self.addCleanup(self._assert_reactor_unchanged, _reactor_state(reactor))

    def _assert_reactor_unchanged(self, before: dict[str, set]) -> None:
        after = _reactor_state(self.reactor)
        left = {kind: after[kind] - before[kind] for kind in after}
        left = {kind: things for kind, things in left.items() if things}
        self.assertEqual(left, {}, "the test left these in the reactor")


async def echo_round_trip(client: Collector, payload: bytes) -> None:
    """Send payload from client and check it comes back unchanged."""
    client.transport.write(payload)
    received = await client.receive(len(payload))
    if received != payload:
        raise AssertionError(f"echoed {received!r}, sent {payload!r}")


class ConnectedPairTests(CleanReactorTestCase):
    """connected_pair gives both ends of a connection and cleans all up."""

    async def _echo_pair(self, **options: object) -> tuple[Echo, Collector]:
        server, client = await connected_pair(
            self,
            protocol.Factory.forProtocol(Echo),
            protocol.Factory.forProtocol(Collector),
            **options,
        )
        self.assertIsInstance(server, Echo)
        self.assertIsInstance(client, Collector)
        await echo_round_trip(client, b"hello, " * 1000)
        return server, client

    async def test_ipv4(self) -> None:
        server, client = await self._echo_pair()
        self.assertEqual(client.transport.getPeer(), server.transport.getHost())
        self.assertEqual(server.transport.getHost().host, "127.0.0.1")

    async def test_ipv6(self) -> None:
        server, client = await self._echo_pair(interface="::1")
        self.assertEqual(server.transport.getHost().host, "::1")
        self.assertEqual(
            server.transport.getPeer().port, client.transport.getHost().port
        )

    test_ipv6.skip = IPV6_SKIP  # type: ignore[attr-defined]

    async def test_unix(self) -> None:
        server, client = await self._echo_pair(unix=True)
        self.assertIsInstance(server.transport.getHost(), UNIXAddress)

    async def test_everything_closed_afterwards(self) -> None:
        """
        Once the cleanups are done, both protocols have lost their
        connections and the port is closed.
        """
        # Registered before connected_pair's cleanups, so run after them.
        self.addCleanup(lambda: self.assertIsNotNone(client.lost_with))
        self.addCleanup(lambda: self.assertIsNotNone(server.lost_with))
        self.addCleanup(lambda: self.assertRefused(address))
        server, client = await connected_pair(
            self,
            protocol.Factory.forProtocol(RecordsLoss),
            protocol.Factory.forProtocol(RecordsLoss),
        )
        address = server.transport.getHost()
        self.assertIsNone(server.lost_with)
        self.assertIsNone(client.lost_with)

    def assertRefused(self, address: IPv4Address) -> None:
        with socket.socket() as probe:
            self.assertNotEqual(
                probe.connect_ex((address.host, address.port)),
                0,
                f"something still listens on {address}",
            )

    async def test_pair_matches_its_own_connection(self) -> None:
        """Of several connections to the port, the pair is the two ends of one."""
        server_factory = BareFactory(Echo)
        server, client = await connected_pair(
            self,
            server_factory,
            protocol.Factory.forProtocol(Collector),
            reactor=EarlyClients(self.reactor, self, 3),
        )
        # The port accepted the three others first: taking the first
        # connection, or any but the client's own, would be wrong here.
        self.assertEqual(len(server_factory.built), 4)
        self.assertIs(server, server_factory.built[-1])
        self.assertEqual(server.transport.getPeer(), client.transport.getHost())
        await echo_round_trip(client, b"only to its own server")


class SeedExampleTests(CleanReactorTestCase):
    """
    The 2006 example of a test that listens, connects and disconnects
    properly, with the setUp and tearDown replaced by one call.
    """

    async def setUp(self) -> None:
        super().setUp()
        self.server, self.client = await connected_pair(
            self,
            protocol.Factory.forProtocol(RecordsLoss),
            protocol.ClientFactory.forProtocol(RecordsLoss),
        )

    def test_disconnect(self) -> None:
        pass


class ListenAndConnectTests(CleanReactorTestCase):
    """listen and connect work apart, and with factories of many shapes."""

    async def test_echo(self) -> None:
        port = listen(self, protocol.Factory.forProtocol(Echo))
        self.assertEqual(port.getHost().host, "127.0.0.1")
        client = await connect(
            self, port.getHost(), protocol.Factory.forProtocol(Collector)
        )
        self.assertIsInstance(client, Collector)
        await echo_round_trip(client, b"ping")

    async def test_several_clients(self) -> None:
        port = listen(self, protocol.Factory.forProtocol(Echo))
        clients = [
            await connect(self, port.getHost(), protocol.Factory.forProtocol(Collector))
            for _ in range(3)
        ]
        for number, client in enumerate(clients):
            await echo_round_trip(client, b"client %d" % number)

    async def test_listen_unix_with_path(self) -> None:
        directory = tempfile.mkdtemp()
        # Registered first, so it runs after the port is closed.
        self.addCleanup(shutil.rmtree, directory)
        self.addCleanup(
            lambda: self.assertFalse(os.path.exists(path), "socket file left")
        )
        path = os.path.join(directory, "echo.sock")
        port = listen_unix(self, protocol.Factory.forProtocol(Echo), path)
        self.assertEqual(port.getHost(), UNIXAddress(path))
        client = await connect(
            self, port.getHost(), protocol.Factory.forProtocol(Collector)
        )
        await echo_round_trip(client, b"over a UNIX socket")

    async def test_listen_unix_removes_its_directory(self) -> None:
        paths: list[str] = []
        self.addCleanup(
            lambda: self.assertFalse(os.path.exists(os.path.dirname(paths[0])))
        )
        port = listen_unix(self, protocol.Factory.forProtocol(Echo))
        paths.append(port.getHost().name)
        self.assertTrue(os.path.exists(paths[0]))

    async def test_bare_protocol_and_factory(self) -> None:
        """Anything that provides the interfaces will do, without base classes."""
        server_factory = BareFactory(Bare)
        client_factory = BareFactory(Collector)
        self.addCleanup(lambda: self.assertTrue(server_factory.built[0].lost))
        self.addCleanup(
            lambda: self.assertEqual(
                (server_factory.starts, server_factory.stops), (1, 1)
            )
        )
        server, client = await connected_pair(self, server_factory, client_factory)
        self.assertIs(server, server_factory.built[0])
        self.assertIs(client, client_factory.built[0])
        await echo_round_trip(client, b"no base classes")

    async def test_wrapping_factory(self) -> None:
        """A factory that wraps its protocols hands out its wrappers."""
        factory = WrappingFactory(protocol.Factory.forProtocol(Echo))
        server, client = await connected_pair(
            self, factory, protocol.Factory.forProtocol(Collector)
        )
        self.assertIsInstance(server.wrappedProtocol, Echo)
        await echo_round_trip(client, b"wrapped")

    async def test_client_factory_hears_of_the_loss(self) -> None:
        """A ClientFactory still gets clientConnectionLost from the cleanup."""
        factory = RecordingClientFactory()
        self.addCleanup(lambda: self.assertIsNotNone(factory.lost_reason))
        await connected_pair(self, protocol.Factory.forProtocol(Echo), factory)

    async def test_server_refuses(self) -> None:
        """
        A server factory may return None from buildProtocol: the client is
        then disconnected, and there is nothing for the cleanup to wait for.
        """
        port = listen(self, Refusing())
        client = await connect(
            self, port.getHost(), protocol.Factory.forProtocol(RecordsLoss)
        )
        await wait_for_disconnect(client)
        self.assertIsNotNone(client.lost_with)

    async def test_client_refuses(self) -> None:
        """A client factory returning None makes connect fail with NoProtocol."""
        port = listen(self, protocol.Factory.forProtocol(Echo))
        with self.assertRaises(NoProtocol):
            await connect(self, port.getHost(), Refusing())

    async def test_connection_refused(self) -> None:
        # A socket bound but not listening refuses connections to its port,
        # and holding it keeps anyone else from taking the port meanwhile.
        bound = socket.socket()
        self.addCleanup(bound.close)
        bound.bind(("127.0.0.1", 0))
        address = IPv4Address("TCP", "127.0.0.1", bound.getsockname()[1])
        with self.assertRaises(ConnectionRefusedError):
            await connect(self, address, protocol.Factory.forProtocol(Collector))

    async def test_reconnecting_client_factory(self) -> None:
        """
        A ReconnectingClientFactory reconnects when the server closes; the
        cleanup stops it, so it leaves no pending retry behind.
        """
        factory = ReconnectingCollector()
        # Registered before connected_pair's cleanups, so run after them:
        # told to stop trying (and the reactor check finds no retry pending).
        self.addCleanup(lambda: self.assertFalse(factory.continueTrying))
        server, client = await connected_pair(
            self, protocol.Factory.forProtocol(Echo), factory
        )
        self.assertIs(client, await factory.connected(1))
        server.transport.loseConnection()
        # Bounded, so a factory that never hears of the loss fails in seconds.
        again = await factory.connected(2).addTimeout(5, self.reactor)
        self.assertIsNot(again, client)
        self.assertTrue(client.transport.disconnected)
        # The new connection is served and is also closed by the cleanup.
        await echo_round_trip(again, b"reconnected")

    def test_only_loopback(self) -> None:
        """Nothing but loopback is ever listened on or connected to."""
        factory = protocol.Factory.forProtocol(Echo)
        for interface in ["", "0.0.0.0", "::", "192.0.2.1", "localhost"]:
            self.assertRaises(ValueError, listen, self, factory, interface=interface)
        away = IPv4Address("TCP", "192.0.2.1", 80)
        self.assertRaises(ValueError, connect, self, away, factory)

    def test_not_an_address(self) -> None:
        factory = protocol.Factory.forProtocol(Echo)
        udp = IPv4Address("UDP", "127.0.0.1", 53)
        self.assertRaises(TypeError, connect, self, udp, factory)
        self.assertRaises(TypeError, connect, self, ("127.0.0.1", 80), factory)


class WaitForDisconnectTests(CleanReactorTestCase):
    async def _pair(self) -> tuple[RecordsLoss, Collector]:
        return await connected_pair(
            self,
            protocol.Factory.forProtocol(RecordsLoss),
            protocol.Factory.forProtocol(Collector),
        )

    async def test_protocol(self) -> None:
        server, client = await self._pair()
        lost = wait_for_disconnect(server)
        self.assertFalse(lost.called)
        client.transport.loseConnection()
        self.assertIsNone(await lost)
        self.assertIsNotNone(server.lost_with)

    async def test_transport(self) -> None:
        server, client = await self._pair()
        lost = wait_for_disconnect(client.transport)
        server.transport.loseConnection()
        await lost
        self.assertTrue(client.transport.disconnected)

    async def test_already_lost(self) -> None:
        server, client = await self._pair()
        transport = client.transport
        client.transport.loseConnection()
        await wait_for_disconnect(server)
        await wait_for_disconnect(client)
        self.assertTrue(wait_for_disconnect(client).called)
        self.assertTrue(wait_for_disconnect(transport).called)

    async def test_not_watched_yet(self) -> None:
        """
        It also works for protocols no helper watches, before and after their
        connection is lost.
        """
        built: list[Collector] = []

        class Remembering(protocol.ClientFactory):
            def buildProtocol(self, addr: object) -> Collector:
                built.append(Collector())
                return built[-1]

        port = listen(self, protocol.Factory.forProtocol(Echo))
        # A WrappingFactory hands the helper its wrappers, so what they wrap
        # is watched by nobody.
        for _ in range(2):
            await connect(self, port.getHost(), WrappingFactory(Remembering()))
        before, after = built

        lost = wait_for_disconnect(before)
        self.assertFalse(lost.called)
        before.transport.loseConnection()
        await lost

        after.transport.loseConnection()
        await wait_for_disconnect(after.transport.wrappedProtocol)
        self.assertTrue(wait_for_disconnect(after).called)


class TLSTests(CleanReactorTestCase):
    skip = TLS_SKIP

    async def _tls_echo(self, **options: object) -> tuple[Echo, Collector]:
        server, client = await connected_pair(
            self,
            protocol.Factory.forProtocol(Echo),
            protocol.Factory.forProtocol(Collector),
            tls=self_signed_tls(),
            **options,
        )
        self.assertIsInstance(server, Echo)
        self.assertIsInstance(client, Collector)
        self.assertTrue(ISSLTransport.providedBy(client.transport))
        await echo_round_trip(client, b"secret " * 5000)
        self.assertIsNotNone(client.transport.getPeerCertificate())
        return server, client

    async def test_tcp(self) -> None:
        await self._tls_echo()

    async def test_wait_for_disconnect(self) -> None:
        """Waiting on a TLS transport waits for the user's protocol it carries."""
        server, client = await self._tls_echo()
        lost = wait_for_disconnect(client.transport)
        client.transport.loseConnection()
        await lost
        await wait_for_disconnect(server.transport)
        self.assertFalse(client.transport.connected)

    async def test_ipv6(self) -> None:
        await self._tls_echo(interface="::1")

    test_ipv6.skip = IPV6_SKIP  # type: ignore[attr-defined]

    async def test_unix(self) -> None:
        await self._tls_echo(unix=True)

    async def test_listen_and_connect(self) -> None:
        server_tls, client_tls = self_signed_tls("127.0.0.1")
        port = listen(self, protocol.Factory.forProtocol(Echo), tls=server_tls)
        client = await connect(
            self,
            port.getHost(),
            protocol.Factory.forProtocol(Collector),
            tls=client_tls,
        )
        await echo_round_trip(client, b"by IP address")

    async def test_wrong_certificate(self) -> None:
        """A client that does not trust the server's certificate is cut off."""
        server_tls, _ = self_signed_tls()
        _, client_tls = self_signed_tls()
        port = listen(self, protocol.Factory.forProtocol(Echo), tls=server_tls)
        client = await connect(
            self,
            port.getHost(),
            protocol.Factory.forProtocol(RecordsLoss),
            tls=client_tls,
        )
        await wait_for_disconnect(client)
        self.assertIn("certificate verify failed", str(client.lost_with.value))


class TimeoutTests(CleanReactorTestCase):
    """A disconnect that never comes fails the cleanup, after a bounded time."""

    def _stalled_peer(self, listening: bool) -> socket.socket:
        """Make a plain socket that never reads, so writes to it never finish."""
        stalled = socket.socket()
        self.addCleanup(stalled.close)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        if listening:
            stalled.bind(("127.0.0.1", 0))
            stalled.listen(1)
        return stalled

    async def test_server_connection(self) -> None:
        factory = protocol.Factory.forProtocol(Flood)
        factory.connected = Deferred()
        cleanups = RecordedCleanups()
        port = listen(cleanups, factory, timeout=0.5)
        stalled = self._stalled_peer(listening=False)
        stalled.connect(("127.0.0.1", port.getHost().port))
        await factory.connected
        expected = (
            f"server connection 127.0.0.1:{port.getHost().port} <- "
            f"127.0.0.1:{stalled.getsockname()[1]} (protocol Flood) "
            "never reported connectionLost within 0.5s"
        )
        started = self.reactor.seconds()
        error = await self.assertFailure(cleanups.run(), CleanupTimeout)
        self.assertGreaterEqual(self.reactor.seconds() - started, 0.5)
        self.assertEqual(str(error), expected)
        # The cleanup aborted the stuck connection, so the port is gone too.
        self.assertTrue(port.disconnected)

    async def test_client_connection(self) -> None:
        stalled = self._stalled_peer(listening=True)
        factory = protocol.ClientFactory.forProtocol(Flood)
        factory.connected = Deferred()
        cleanups = RecordedCleanups()
        address = IPv4Address("TCP", *stalled.getsockname())
        client = await connect(cleanups, address, factory, timeout=0.25)
        expected = (
            f"client connection 127.0.0.1:{client.transport.getHost().port} -> "
            f"127.0.0.1:{address.port} (protocol Flood) "
            "never reported connectionLost within 0.25s"
        )
        error = await self.assertFailure(cleanups.run(), CleanupTimeout)
        self.assertEqual(str(error), expected)
        self.assertTrue(client.transport.disconnected)


class ImportTests(unittest.TestCase):
    def test_no_reactor_at_import(self) -> None:
        """Importing the helpers leaves the choice of reactor open."""
        check = (
            "import sys, trial_strictclean.testing; "
            "sys.exit('twisted.internet.reactor' in sys.modules)"
        )
        finished = subprocess.run(
            [sys.executable, "-c", check],
            env=dict(os.environ, PYTHONPATH=MAIN),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=60,
        )
        self.assertEqual(finished.returncode, 0, finished.stdout)


class FailingHalfWayTests(unittest.TestCase):
    """End to end: a test that fails half-way still leaves nothing behind."""

    def test_only_the_failures_are_reported(self) -> None:
        """
        Judged by strictclean, which looks right after the cleanups without
        spinning the reactor first (stock Trial's janitor does, and would
        finish closes the cleanups forgot to wait for).
        """
        from twisted.internet import reactor

        # Run the fixture under the reactor this run uses.
        reactor_options = []
        if "asyncio" in type(reactor).__module__:
            reactor_options = ["--reactor=asyncio"]
        run = run_trial("--reporter=strictclean", *reactor_options, "testing_halfway")
        self.assertEqual((run.returncode, run.counts), (1, {"failures": 2}), run.output)
        self.assertEqual(run.errors, {}, run.output)
        failures = {
            "testing_halfway.HalfWay.test_fails_after_connecting": "failing half-way, connected",
            "testing_halfway.HalfWay.test_fails_while_connecting": "failing half-way, still connecting",
        }
        self.assertEqual(set(run.failures), set(failures), run.output)
        for test_id, message in failures.items():
            self.assertIn(message, "\n".join(run.failures[test_id]))
        for trouble in ["left the reactor dirty", "DirtyReactor", "Unhandled", "CleanupTimeout"]:
            self.assertNotIn(trouble, run.output)
