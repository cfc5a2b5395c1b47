"""A session server shared by tests that each connect, close and wait for their client."""

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import ClientFactory, Factory, Protocol


class Client(Protocol):
    def __init__(self):
        self.made, self.lost = Deferred(), Deferred()

    def connectionMade(self):
        self.made.callback(None)

    def connectionLost(self, reason):
        self.lost.callback(None)


@pytest.fixture(scope="session")
def server():
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    yield port
    port.stopListening()


async def _round_trip(port):
    client = Client()
    factory = ClientFactory.forProtocol(lambda: client)
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    await client.made
    client.transport.loseConnection()
    await client.lost  # the client end is closed; the server end may not be


@pytest_twisted.ensureDeferred
async def test_client_one(server):
    await _round_trip(server)


@pytest_twisted.ensureDeferred
async def test_client_two(server):
    await _round_trip(server)


@pytest_twisted.ensureDeferred
async def test_client_waits_for_server_end(server):
    from trial_strictclean.testing import server_ends_closed

    await _round_trip(server)
    await server_ends_closed(server)
