"""Which frames count as the user's, and what capture keeps."""

from __future__ import annotations

import gc
import os
import sys
import sysconfig
import threading
import types
import weakref

from twisted.trial import unittest

import trial_strictclean
import twisted
from trial_strictclean.core import capture, provenance

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
        self.assertLibrary(os.path.join(_OURS, "core", "capture.py"))
        self.assertLibrary(os.path.join(_OURS, "trial", "reporter.py"))
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


def _capture_into(found):
    found.append(provenance.capture(1))
    return found[-1]


def _nested_capture(levels):
    if levels:
        return _nested_capture(levels - 1)
    return provenance.capture(1)


def _as_library(function, name=None):
    """
    ``function`` as if Twisted shipped it: the same code, with a file name
    inside Twisted's package (which provenance counts as library code) and,
    recursion included, calling its library self.
    """
    code = function.__code__.replace(
        co_filename=os.path.join(_TWISTED, "internet", "_strictclean_no_such_module.py"),
        co_name=name or function.__name__,
    )
    namespace = dict(globals())
    library = types.FunctionType(code, namespace, code.co_name)
    namespace[function.__name__] = library
    return library


def _qualname(method):
    # Python 3.10 code objects have no co_qualname: sites name the function.
    return method.__qualname__ if sys.version_info >= (3, 11) else method.__name__


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

    def test_only_library_frames(self):
        """
        A stack of library frames alone (a thread the library started, with
        library code in it) has no site: capture walks off its top.
        """
        found = []
        # threading's frames are the standard library's, the target Twisted's.
        thread = threading.Thread(target=_as_library(_capture_into), args=(found,))
        thread.start()
        thread.join()
        self.assertEqual(found, [None])
        # The same function called from this test does find a user frame:
        # what made it None above is the stack, not the function.
        _as_library(_capture_into)(found)
        self.assertEqual(provenance.sites(found[1])[0].function, _qualname(self.test_only_library_frames))

    def test_library_deeper_than_the_walk(self):
        """
        User code below more than _MAX_DEPTH library frames is not looked
        for: the walk gives up rather than climb the whole stack.
        """
        nested = _as_library(_nested_capture)
        self.assertIsNone(nested(provenance._MAX_DEPTH + 5))
        # Fewer library frames than the limit: the walk reaches this test.
        within = nested(provenance._MAX_DEPTH - 5)
        self.assertEqual(provenance.sites(within)[0].function, _qualname(self.test_library_deeper_than_the_walk))

    def test_runner_frame_ends_the_walk(self):
        """
        Above a library frame that runs other code (the reactor's
        runUntilCurrent) is the run loop, never the creator: no site.
        """
        self.assertIsNone(_as_library(_capture_into, name="runUntilCurrent")([]))
        # The same library code under another name walks on to this test.
        self.assertIsNotNone(_as_library(_capture_into, name="not_a_runner")([]))

    def test_sites_are_relative_to_root(self):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        site = provenance.sites(_helper(), root)[0]
        self.assertEqual(site.file, os.path.join("tests", "test_provenance.py"))

    def test_notes_record_sites(self):
        """Each note_* records the user's line on the object itself."""

        class Plain:
            pass

        created, seen, closed = Plain(), Plain(), Plain()
        provenance.note_created(created, 2); created_line = sys._getframe().f_lineno  # noqa: E702
        provenance.note_first_seen(seen, 2); seen_line = sys._getframe().f_lineno  # noqa: E702
        provenance.note_closed(closed, 2); closed_line = sys._getframe().f_lineno  # noqa: E702
        self.assertEqual(provenance.created_sites(created)[0].line, created_line)
        self.assertEqual(provenance.created_sites(seen)[0].line, seen_line)
        self.assertEqual(provenance.closed_site(closed).line, closed_line)
        # The first site seen is kept: a later look does not move it.
        provenance.note_first_seen(seen, 2)
        self.assertEqual(provenance.created_sites(seen)[0].line, seen_line)

    def test_notes_tolerate_slots(self):
        """An object that takes no attributes goes without a site, silently."""

        class Slotted:
            __slots__ = ()

        slotted = Slotted()
        provenance.note_created(slotted, 2)
        provenance.note_first_seen(slotted, 2)
        provenance.note_closed(slotted, 2)
        self.assertEqual(provenance.created_sites(slotted), ())
        self.assertIsNone(provenance.closed_site(slotted))


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
