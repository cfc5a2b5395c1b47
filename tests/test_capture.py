"""
Capture on the hot path: what the replaced ``callLater`` notes for calls
made from files it has never seen, through the asyncio reactor, and which
calls it keeps for judging.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import tempfile

from twisted.internet import reactor, task
from twisted.trial.unittest import SynchronousTestCase

from trial_strictclean.core import capture, provenance

capture.install()


def _files_of(created) -> list[str]:
    return [os.path.basename(created[i].co_filename) for i in range(0, len(created), 2)]


class FreshFiles(SynchronousTestCase):
    """Modules imported now, after the run started: never classified yet."""

    def setUp(self):
        folder = tempfile.mkdtemp()
        self.addCleanup(lambda: sys.path.remove(folder))
        sys.path.insert(0, folder)
        with open(os.path.join(folder, "fresh_helper.py"), "w") as file:
            file.write("def schedule(reactor):\n    return reactor.callLater(60, print)\n")
        for caller in ("fresh_caller_a", "fresh_caller_b"):
            with open(os.path.join(folder, f"{caller}.py"), "w") as file:
                file.write("import fresh_helper\n\ndef start(reactor):\n    return fresh_helper.schedule(reactor)\n")
        for name in ("fresh_helper", "fresh_caller_a", "fresh_caller_b"):
            sys.modules.pop(name, None)
            self.addCleanup(sys.modules.pop, name, None)

    def test_helper_keeps_each_callers_line(self):
        # The first caller makes the helper's file known; a second caller
        # from a file never seen must still be classified, and kept.
        for name in ("fresh_caller_a", "fresh_caller_b"):
            call = importlib.import_module(name).start(reactor)
            self.addCleanup(call.cancel)
            created = call._strictclean_created
            self.assertEqual(_files_of(created), ["fresh_helper.py", f"{name}.py"])
        self.assertIs(provenance._is_library_cache[created[0].co_filename], False)


class AsyncioReactor(SynchronousTestCase):
    def test_site_is_the_callers_line(self):
        from twisted.internet.asyncioreactor import AsyncioSelectorReactor

        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        private = AsyncioSelectorReactor(loop)
        call = private.callLater(60, print)
        self.addCleanup(call.cancel)
        created = call._strictclean_created
        self.assertIsNotNone(created)
        self.assertEqual(created[0], self.test_site_is_the_callers_line.__code__)


class KeptForJudging(SynchronousTestCase):
    def setUp(self):
        # What a session does when a test starts (already so under
        # --reporter=strictclean; needed under stock trial).
        capture.judge_calls_of(reactor)

    def test_the_judged_reactors_calls(self):
        call = reactor.callLater(60, print)
        call.cancel()
        self.assertIs(capture.new_calls[-1], call)

    def test_only_the_judged_reactors_calls(self):
        # A test's own reactor may count what its calls leave alive.
        from twisted.internet.selectreactor import SelectReactor

        private = SelectReactor()
        kept = len(capture.new_calls)
        private.callLater(60, print).cancel()
        self.assertEqual(len(capture.new_calls), kept)

    def test_clock_is_never_kept(self):
        kept = len(capture.new_calls)
        task.Clock().callLater(60, print)
        self.assertEqual(len(capture.new_calls), kept)


class ConnectSites(SynchronousTestCase):
    """
    What a connector's connect() makes (the client transport, the attempt's
    time limit, the client's first step) takes connect()'s site without a
    walk of its own: the same line a walk finds.
    """

    def setUp(self):
        capture.judge_calls_of(reactor)

    def _stop(self, connector) -> None:
        # Before the reactor runs: close the client's socket, then cancel
        # the calls connect() left (its first step, resolveAddress).
        connector.stopConnecting()
        for call in capture.new_calls:
            if call.active():
                call.cancel()

    def _connect(self, connector_type=None):
        from twisted.internet import protocol

        factory = protocol.ClientFactory()
        if connector_type is None:
            return reactor.connectTCP("127.0.0.1", 9, factory, timeout=30)
        connector = connector_type("127.0.0.1", 9, factory, 30, None, reactor)
        connector.connect()
        return connector

    def test_connect_tcp(self):
        from twisted.internet import protocol

        connector = reactor.connectTCP("127.0.0.1", 9, protocol.ClientFactory(), timeout=30)
        self.addCleanup(self._stop, connector)
        site = connector._strictclean_created
        self.assertEqual(site[0], self.test_connect_tcp.__code__)
        self.assertIs(connector.transport._strictclean_created, site)
        self.assertEqual(connector.timeoutID._strictclean_created, site)
        first = [c for c in capture.new_calls if c.func == connector.transport.resolveAddress]
        self.assertEqual([c._strictclean_created for c in first], [site])

    def test_connect_again(self):
        connector = self._connect()
        connector.stopConnecting()
        connector.connect()  # asked again, from this line
        self.addCleanup(self._stop, connector)
        created = connector.transport._strictclean_created
        self.assertEqual(created[0], self.test_connect_again.__code__)
        self.assertIsNot(created, connector._strictclean_created)
        self.assertEqual(connector.timeoutID._strictclean_created, created)

    def test_users_own_transport(self):
        # A connector of the user's makes its transport in user code: that
        # line, as the walk finds it, not connect()'s.
        from twisted.internet import tcp

        class Connector(tcp.Connector):
            def _makeTransport(self):
                return tcp.Connector._makeTransport(self)

        connector = self._connect(Connector)
        self.addCleanup(self._stop, connector)
        created = connector.transport._strictclean_created
        self.assertEqual(created[0], Connector._makeTransport.__code__)
