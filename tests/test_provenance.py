"""Which frames count as the user's, and what capture keeps."""

from __future__ import annotations

import gc
import os
import sys
import sysconfig
import weakref

import twisted
from twisted.trial import unittest

import trial_strictclean
from trial_strictclean import capture, provenance

_TWISTED = os.path.dirname(twisted.__file__)
_OURS = os.path.dirname(trial_strictclean.__file__)


class LibraryClassificationTests(unittest.SynchronousTestCase):
    def assertLibrary(self, path, expected=True):
        self.assertIs(provenance.is_library(path), expected, path)

    def test_twisted_is_library(self):
        self.assertLibrary(os.path.join(_TWISTED, "internet", "tcp.py"))

    def test_twisted_test_modules_are_user_code(self):
        self.assertLibrary(os.path.join(_TWISTED, "internet", "test", "test_tcp.py"), False)
        self.assertLibrary(os.path.join(_TWISTED, "test", "test_defer.py"), False)

    def test_trial_is_library(self):
        self.assertLibrary(os.path.join(_TWISTED, "trial", "_asynctest.py"))

    def test_this_package_is_library_except_demo(self):
        self.assertLibrary(os.path.join(_OURS, "capture.py"))
        self.assertLibrary(os.path.join(_OURS, "demo", "scenarios.py"), False)

    def test_stdlib_is_library(self):
        self.assertLibrary(os.__file__)
        self.assertLibrary("<frozen importlib._bootstrap>")

    def test_console_scripts_are_library(self):
        scripts = sysconfig.get_paths()["scripts"]
        self.assertLibrary(os.path.join(scripts, "trial"))

    def test_other_code_is_user_code(self):
        self.assertLibrary(__file__, False)
        self.assertLibrary("<string>", False)
        self.assertLibrary("/somewhere/project/tests/test_things.py", False)


def _helper():
    return provenance.capture(1)  # the helper's line


class CaptureTests(unittest.SynchronousTestCase):
    def test_innermost_user_frame_and_callers(self):
        """A capture in a helper points at the helper, then at its caller."""
        captured = _helper(); line = sys._getframe().f_lineno  # noqa: E702
        sites = provenance.sites(captured)
        self.assertEqual(sites[0].function, "_helper")
        self.assertEqual(sites[0].code, "return provenance.capture(1)  # the helper's line")
        self.assertEqual((sites[1].file, sites[1].line), (__file__, line))
        self.assertLessEqual(len(sites), 1 + provenance._CALLERS)

    def test_keeps_no_frame(self):
        """Only code objects and line numbers: no frame, so no locals, survive."""

        class Local:
            pass

        def make():
            local = Local()
            ref = weakref.ref(local)
            return provenance.capture(1), ref

        captured, ref = make()
        gc.collect()
        self.assertIsNone(ref())
        for item in captured:
            self.assertIsInstance(item, (type(make.__code__), int))

    def test_no_user_frame(self):
        """Deeper than the user's code: nothing captured, nothing raised."""
        self.assertIsNone(provenance.capture(10_000))

    def test_sites_are_relative_to_root(self):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        site = provenance.sites(_helper(), root)[0]
        self.assertEqual(site.file, os.path.join("tests", "test_provenance.py"))

    def test_note_created_tolerates_slots(self):
        class Slotted:
            __slots__ = ()

        provenance.note_created(Slotted())
        provenance.note_first_seen(Slotted())
        provenance.note_closed(Slotted())


def _schedule(clock_reactor):
    return clock_reactor.callLater(60, lambda: None)  # the helper's call


class CallLaterHookTests(unittest.SynchronousTestCase):
    """The hook on ReactorBase.callLater, the hottest path we add to."""

    def setUp(self):
        from twisted.internet.selectreactor import SelectReactor

        capture.install()
        # A private reactor that is never run: its calls are only inspected.
        self.reactor = SelectReactor()
        self.addCleanup(self._close)

    def _close(self):
        for call in self.reactor.getDelayedCalls():
            call.cancel()
        for reader in self.reactor._internalReaders:
            reader.connectionLost(None)

    def test_fast_path_on_this_twisted(self):
        """
        This Twisted's callLater is one we replace rather than wrap: if a
        release changes it, this fails and capture.py needs a look.
        """
        self.assertTrue(capture.call_later_replaced)

    def test_user_caller_and_its_caller(self):
        call = _schedule(self.reactor); line = sys._getframe().f_lineno  # noqa: E702
        sites = provenance.created_sites(call)
        self.assertEqual(sites[0].function, "_schedule")
        self.assertEqual(sites[0].code, "return clock_reactor.callLater(60, lambda: None)  # the helper's call")
        self.assertEqual((sites[1].file, sites[1].line), (__file__, line))

    def test_same_behaviour_as_twisted(self):
        """Arguments, timing, the assertions Twisted makes, cancellation."""
        fired = []
        call = self.reactor.callLater(0, fired.append, "x")
        self.assertEqual((call.args, call.kw), (("x",), {}))
        self.assertIn(call, self.reactor.getDelayedCalls())
        self.reactor.runUntilCurrent()
        self.assertEqual(fired, ["x"])
        with self.assertRaises(AssertionError):
            self.reactor.callLater(-1, fired.append)
        later = self.reactor.callLater(5, fired.append, key="y")
        self.assertEqual(later.kw, {"key": "y"})
        later.cancel()
        self.assertNotIn(later, self.reactor.getDelayedCalls())
