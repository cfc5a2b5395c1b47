"""
The fixes docs/pytest.rst gives a pytest-twisted user, as written there:
each test is clean under --strictclean.
"""

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.defer import maybeDeferred
from twisted.internet.protocol import Factory, Protocol

from trial_strictclean import testing


@pytest_twisted.async_yield_fixture
async def port():
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    yield port
    await port.stopListening()


@pytest_twisted.async_yield_fixture
async def timer():
    call = reactor.callLater(30, lambda: None)
    yield call
    if call.active():
        call.cancel()


class Cleanups:
    """What trial_strictclean.testing's helpers need of a test: addCleanup."""

    def __init__(self):
        self._calls = []

    def addCleanup(self, function, *args, **kwargs):
        self._calls.append((function, args, kwargs))

    async def run(self):
        while self._calls:
            function, args, kwargs = self._calls.pop()
            await maybeDeferred(function, *args, **kwargs)


@pytest_twisted.async_yield_fixture
async def cleanups():
    registered = Cleanups()
    yield registered
    await registered.run()


def test_port_from_a_fixture(port):
    assert port.getHost().port


def test_timer_from_a_fixture(timer):
    assert timer.active()


@pytest_twisted.ensureDeferred
async def test_helpers_with_a_registrar(cleanups):
    server, client = await testing.connected_pair(
        cleanups, Factory.forProtocol(Protocol), Factory.forProtocol(Protocol)
    )
    client.transport.write(b"x")
    await task.deferLater(reactor, 0, lambda: None)
