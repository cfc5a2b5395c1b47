"""
Ownership through the reactor under pytest-twisted (issue 12 item 5, issue
16): a session fixture's Site re-arms its 1 s timer and a module fixture's
loop re-arms itself while tests run; neither is a test's leftover.  What
was started at import outlives every test: the end of the run says so.
"""

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.web.resource import Resource
from twisted.web.server import Site

# Started at import and never stopped: the end of the run reports it.
IMPORTED = task.LoopingCall(lambda: None)  # imported-loop
IMPORTED.start(0.05, now=False)


@pytest_twisted.async_yield_fixture(scope="module")
async def site():
    port = reactor.listenTCP(0, Site(Resource()), interface="127.0.0.1")
    yield port
    await port.stopListening()


@pytest.fixture(scope="module")
def ticking():
    loop = task.LoopingCall(lambda: None)
    loop.start(0.05, now=False)
    yield loop
    loop.stop()


@pytest_twisted.ensureDeferred
async def test_spans_a_site_tick(site, ticking):
    await task.deferLater(reactor, 1.1, lambda: None)


@pytest_twisted.ensureDeferred
async def test_spans_loop_ticks(site, ticking):
    await task.deferLater(reactor, 0.2, lambda: None)


def test_sync_after(site, ticking):
    pass
