"""The other kinds of leftover, one pytest-twisted test each."""

import socket
import sys
import time

import pytest_twisted
from twisted.internet import defer, protocol, reactor
from twisted.protocols import policies


class Notifying(protocol.Protocol):
    def connectionMade(self):
        self.factory.made.callback(self)

    def connectionLost(self, reason):
        self.factory.lost.callback(None)


class Idle(policies.TimeoutMixin, protocol.Protocol):
    def connectionMade(self):
        self.setTimeout(30)


def notifying(cls=protocol.ClientFactory):
    factory = cls.forProtocol(Notifying)
    factory.made, factory.lost = defer.Deferred(), defer.Deferred()
    return factory


def listen(proto=protocol.Protocol):
    return reactor.listenTCP(0, protocol.Factory.forProtocol(proto), interface="127.0.0.1")


@pytest_twisted.ensureDeferred
async def test_connection_open():
    port = listen()
    client = notifying()
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)
    await client.made


@pytest_twisted.ensureDeferred
async def test_client_closing():
    port = listen()
    client = notifying()
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)
    proto = await client.made
    proto.transport.loseConnection()
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_protocol_timeout():
    port = listen(Idle)
    client = notifying()
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)
    await client.made


def test_connector_connecting():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    free = probe.getsockname()[1]
    probe.close()
    reactor.connectTCP("127.0.0.1", free, protocol.ClientFactory())


def test_deferred_timeout():
    defer.Deferred().addTimeout(10, reactor)


def test_udp_port_open():
    reactor.listenUDP(0, protocol.DatagramProtocol(), interface="127.0.0.1")


def test_process_running():
    reactor.spawnProcess(
        protocol.ProcessProtocol(), sys.executable, [sys.executable, "-c", "import time; time.sleep(3)"], env=None
    )


def test_thread_work():
    reactor.callInThread(time.sleep, 1)
