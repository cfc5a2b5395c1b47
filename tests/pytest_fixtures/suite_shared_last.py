"""A module server finalized in the teardown of the one test that left a server end."""

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


@pytest.fixture(scope="module")
def server():
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    yield port
    port.stopListening()


@pytest_twisted.ensureDeferred
async def test_only(server):
    client = Client()
    reactor.connectTCP("127.0.0.1", server.getHost().port, ClientFactory.forProtocol(lambda: client))
    await client.made
    client.transport.loseConnection()
    await client.lost
