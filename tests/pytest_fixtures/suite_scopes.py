"""Fixtures of each scope: what they create is theirs, judged when finalized."""

import unittest

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase


def _listen():
    return reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")


@pytest.fixture(scope="session")
def session_port():
    port = _listen()
    yield port
    port.stopListening()  # not waited for: judged at finalization


@pytest.fixture(scope="module")
def module_port():
    port = _listen()
    yield port
    # never stopped


@pytest.fixture(scope="class")
def class_timer():
    call = reactor.callLater(30, lambda: None)
    yield call
    call.cancel()  # clean


@pytest.fixture
def function_port():
    port = _listen()
    yield port
    # a function fixture's leftovers are the test's


@pytest_twisted.async_yield_fixture(scope="module")
async def async_module_port():
    port = _listen()
    yield port
    await port.stopListening()  # clean


@pytest_twisted.async_fixture()
async def async_function_timer():
    return reactor.callLater(30, lambda: None)


def test_first_uses_module_port(module_port, session_port):
    pass


def test_second_uses_module_port(module_port):
    pass


def test_async_module_port(async_module_port):
    pass


def test_function_fixture(function_port):
    pass


def test_async_function_fixture(async_function_timer):
    pass


class TestClassScope:
    def test_one(self, class_timer):
        pass

    def test_two(self, class_timer):
        pass


class StdlibCase(unittest.TestCase):
    def test_stdlib_port(self):
        _listen()

    def test_stdlib_closing(self):
        self.addCleanup(_listen().stopListening)


class SyncCase(SynchronousTestCase):
    def test_sync_timer(self):
        reactor.callLater(30, lambda: None)


def test_last():
    pass
