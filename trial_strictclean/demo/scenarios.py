"""
Demonstration tests: each dirty one makes a mistake people really make.

Run them with ``python -m trial_strictclean.demo``.
"""

import unittest

from twisted.internet import defer, protocol, task
from twisted.trial import unittest as trial_unittest


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)

    def connectionLost(self, reason):
        lost = getattr(self.factory, "lost", None)
        if lost is not None and not lost.called:
            lost.callback(None)


class Greeter(protocol.Protocol):
    def connectionMade(self):
        self.factory.connected.callback(self)

    def connectionLost(self, reason):
        self.factory.lost.callback(None)


def _server(lost=None):
    factory = protocol.Factory.forProtocol(Echo)
    factory.lost = lost
    return factory


def _client():
    factory = protocol.ClientFactory.forProtocol(Greeter)
    factory.connected = defer.Deferred()
    factory.lost = defer.Deferred()
    return factory


class SeedRecipe(trial_unittest.TestCase):
    """The full recipe: wait for the port, the server end and the client end."""

    def test_waits_for_all_three(self):
        from twisted.internet import reactor

        server_lost = defer.Deferred()
        port = reactor.listenTCP(0, _server(server_lost), interface="127.0.0.1")
        client = _client()
        reactor.connectTCP("127.0.0.1", port.getHost().port, client)

        def close(proto):
            proto.transport.loseConnection()
            return defer.gatherResults(
                [defer.maybeDeferred(port.stopListening), client.lost, server_lost]
            )

        return client.connected.addCallback(close)


class CommonMistakes(trial_unittest.TestCase):
    def test_stop_listening_without_waiting(self):
        from twisted.internet import reactor

        port = reactor.listenTCP(0, _server(), interface="127.0.0.1")
        port.stopListening()  # returns a Deferred nobody waits for

    def test_client_closed_but_not_the_server(self):
        from twisted.internet import reactor

        port = reactor.listenTCP(0, _server(), interface="127.0.0.1")
        client = _client()
        reactor.connectTCP("127.0.0.1", port.getHost().port, client)

        def close_client(_, proto):
            proto.transport.loseConnection()
            return client.lost  # waits for the client end only

        def stop(proto):
            return port.stopListening().addCallback(close_client, proto)

        return client.connected.addCallback(stop)

    def test_timer_with_task_clock(self):
        clock = task.Clock()
        calls = []
        clock.callLater(5, calls.append, "tick")
        clock.advance(5)
        self.assertEqual(calls, ["tick"])


class SynchronousMistakes(trial_unittest.SynchronousTestCase):
    def test_forgotten_timer(self):
        from twisted.internet import reactor

        reactor.callLater(30, print, "too late")


class StandardLibraryMistakes(unittest.TestCase):
    def test_forgotten_looping_call(self):
        loop = task.LoopingCall(lambda: None)
        loop.start(60, now=False)

    def test_nothing_left(self):
        self.assertTrue(True)
