"""
Tests that fail, each in a way pytest-twisted waits for through a Deferred
(which keeps the failure after raising it into pytest): each is reported
once, as pytest reports it, never also as an unhandled error of its own.
A test that fails and also leaves another error unhandled still gets that.
"""

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task


def test_sync_fails():
    assert 1 == 2


@pytest_twisted.ensureDeferred
async def test_async_fails():
    await task.deferLater(reactor, 0, lambda: None)
    raise ValueError("async failure")


@pytest_twisted.inlineCallbacks
def test_inline_fails():
    yield task.deferLater(reactor, 0, lambda: None)
    raise KeyError("inline failure")


@pytest_twisted.async_fixture
async def broken():
    await task.deferLater(reactor, 0, lambda: None)
    raise RuntimeError("fixture failure")


@pytest_twisted.ensureDeferred
async def test_uses_a_broken_fixture(broken):
    pass


kept = []


def test_fails_and_leaves_another_error():
    d = defer.Deferred()
    d.addCallback(lambda _: 1 / 0)
    d.callback(None)
    kept.append(d)
    assert False, "its own failure"
