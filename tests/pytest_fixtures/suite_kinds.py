"""Each kind of leftover, left by one pytest-twisted test each (and clean twins)."""

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.protocol import Factory, Protocol


def test_port_open():
    reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")


def test_port_clean():
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    return port.stopListening()


@pytest_twisted.ensureDeferred
async def test_port_clean_async():
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    await port.stopListening()


def test_port_closing():
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    port.stopListening()


def test_timer():
    reactor.callLater(30, lambda: None)


def test_timer_clean():
    reactor.callLater(30, lambda: None).cancel()


def test_looping_call():
    task.LoopingCall(lambda: None).start(30, now=False)


@pytest_twisted.inlineCallbacks
def test_defer_later():
    yield task.deferLater(reactor, 0, lambda: None)
    task.deferLater(reactor, 30, lambda: None)
