"""
The thin layer that tells the session when a test is done: after tearDown
and every cleanup, before Trial reports success and before Trial's janitor
spins the reactor.

Trial has no hook for that moment, so we wrap three private places, one per
kind of test (docs/internals.rst says why these):

- ``twisted.trial.unittest.TestCase``: ``util._Janitor.postCaseCleanup``;
- ``SynchronousTestCase``: ``_runFixturesAndTest``, whose ``addSuccess`` we
  hold back until the test is judged;
- standard library ``unittest.TestCase``: ``doCleanups``, the last thing it
  runs before reporting its outcome.

and two more for ``TestCase``: ``_wait``, where a callback first in line on
the test's Deferred takes the look the verdict rests on the moment the last
phase fires (the rest of that reactor iteration must not tidy up for the
test); and ``_run``, which runs each phase (setUp, the test, a cleanup,
tearDown) under Trial's timeout, so that a timeout says where the phase was
waiting.

Each wrapper does exactly what Trial does when no session is active, or
for a test the session is not watching (a test run inside a test).

Ctrl-C (``interrupt.py``): the wrappers around a watched test's own code
open and close the window in which SIGINT interrupts it; a test Ctrl-C
interrupted is reported as a ``KeyboardInterrupt`` error, as Trial reports
one raised by the test's code, and is never judged: what it holds is what
it was waiting for, plus Trial's own timeout call.
"""

from __future__ import annotations

import unittest

from twisted.internet.base import DelayedCall
from twisted.internet.defer import TimeoutError as PhaseTimeout
from twisted.python.failure import Failure

# Imported here, not where used: what runs between a test's phases must not
# import (a test may empty sys.modules until a cleanup restores it, as
# Twisted's replaceSysModules tests do).
from ..core import capture
from ..core.diagnosis.cleanups import at_timeout, note_registered
from ..core.inspection import JUDGED
from ..core.suspension import callbacks_of, describe
from ..render.text import render_cleanup_order, render_suspension
from . import interrupt

_active = None
_installed = False
# Whether the end of a TrialSuite is the end of the run (not in a -j worker).
finish_at_bail = True


def activate(session) -> None:
    global _active
    install()
    _active = session


def deactivate(session) -> None:
    global _active
    if _active is session:
        _active = None


class _HeldSuccess:
    """A result that lets a test be judged before its success is reported."""

    def __init__(self, result, session) -> None:
        self._result = result
        self._session = session

    def addSuccess(self, test) -> None:
        if not self._session.judge(test, self._result):
            self._result.addSuccess(test)

    def __getattr__(self, name):
        return getattr(self._result, name)


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from twisted.trial import util
    from twisted.trial._synctest import SynchronousTestCase

    janitor = util._Janitor
    case_cleanup = janitor.postCaseCleanup
    class_cleanup = janitor.postClassCleanup

    # A test run inside a test (Trial's own tests, a plugin's tests) has its
    # own result and is not the one the session watches: Trial's janitor
    # handles it exactly as it would without us.
    def postCaseCleanup(self):
        session = _active
        if session is None or not session.running(self.test):
            return case_cleanup(self)
        interrupt.leave(self.test)
        if interrupt.was_interrupted(self.test):
            # Not judged; not clean, so Trial adds no success.
            if interrupt.take_unreported(self.test):
                _report_interrupted(self.test, self.result)
            return False
        # We look at the reactor as the test left it (no spin first), and
        # only at what is new since the test started; then spin and clean
        # up as Trial would.  Without the spin, the asyncio reactor in
        # trial -j workers sometimes started the next test's reactor.run()
        # already stopped (docs/internals.rst).
        return not session.judge(
            self.test, self.result, spin_after=True, janitor=lambda: case_cleanup(self)
        )

    def postClassCleanup(self):
        if _active is None or not _active.running(self.test):
            return class_cleanup(self)
        # Trial's removeAll() would blame leftovers from outside the test on
        # it and remove them; the test's own are already removed.  Stopping
        # the thread pool is still Trial's job.
        self._cleanThreads()

    janitor.postCaseCleanup = postCaseCleanup
    janitor.postClassCleanup = postClassCleanup

    run_sync = SynchronousTestCase._runFixturesAndTest

    def _runFixturesAndTest(self, result):
        session = _active
        if session is None or not session.running(self):
            return run_sync(self, result)
        interrupt.enter(self)
        try:
            run_sync(self, _HeldSuccess(result, session))
        finally:
            interrupt.leave(self)
            # A test that failed never reached addSuccess: judge it now.
            # An interrupted one already has its KeyboardInterrupt error.
            if not interrupt.was_interrupted(self):
                session.judge(self, result)

    SynchronousTestCase._runFixturesAndTest = _runFixturesAndTest

    add_cleanup = SynchronousTestCase.addCleanup

    def addCleanup(self, f, *args, **kwargs):
        add_cleanup(self, f, *args, **kwargs)
        session = _active
        if session is not None and session.running(self):
            # Its line, for when cleanups registered in an order that
            # cannot work make a cleanup time out (diagnosis/cleanups.py).
            note_registered(self, f, args, kwargs)

    SynchronousTestCase.addCleanup = addCleanup

    do_cleanups = unittest.TestCase.doCleanups

    def doCleanups(self):
        outcome = do_cleanups(self)
        session = _active
        if session is not None and session.running(self) and not isinstance(self, SynchronousTestCase):
            state = getattr(self, "_outcome", None)
            result = getattr(state, "result", None)
            if result is not None and session.judge(self, result):
                if not getattr(state, "expecting_failure", False):
                    state.success = False  # no addSuccess after our error
        return outcome

    unittest.TestCase.doCleanups = doCleanups

    stdlib_run = unittest.TestCase.run

    def run(self, result=None):
        # unittest re-raises a KeyboardInterrupt from a test's code, past
        # Trial and out of the run: the run's own test (no other test's
        # window is open) ends here instead, interrupted.  A test run
        # inside a test keeps stock behaviour.
        if _active is None or interrupt.window() is not None or result is None:
            return stdlib_run(self, result)
        interrupt.enter(self)
        try:
            return stdlib_run(self, result)
        except KeyboardInterrupt:
            if not interrupt.was_interrupted(self):
                raise
            _report_interrupted(self, result)
        finally:
            interrupt.leave(self)

    unittest.TestCase.run = run

    from twisted.trial._asynctest import TestCase

    run_async = TestCase._runFixturesAndTest

    def _runFixturesAndTest_async(self, result):
        session = _active
        if session is None or not session.running(self):
            return run_async(self, result)
        interrupt.enter(self)
        try:
            return run_async(self, result)
        finally:
            interrupt.leave(self)

    TestCase._runFixturesAndTest = _runFixturesAndTest_async

    run_phase = TestCase._run

    def _run(self, *args, **kwargs):
        d = run_phase(self, *args, **kwargs)
        session = _active
        if session is not None and session.running(self):
            _say_where_a_timeout_waited(d, session.root, self, args[0] if args else None)
        return d

    TestCase._run = _run

    wait = TestCase._wait

    def _wait(self, d, *args, **kwargs):
        session = _active
        if session is None or not session.running(self):
            return wait(self, d, *args, **kwargs)

        # First in line when the test's last phase fires: Trial's own
        # callbacks (the one that crashes the reactor) come after.
        def look(result):
            session.look(self)
            return result

        d.addBoth(look)
        try:
            return wait(self, d, *args, **kwargs)
        except KeyboardInterrupt:
            # Ctrl-C (our SIGINT handler stopped the reactor under the test):
            # the test ends here, Trial's cleanup of it follows, and our
            # janitor reports it.  Anything else that stops the reactor
            # keeps stock Trial's KeyboardInterrupt.
            if not interrupt.was_interrupted(self):
                raise
            interrupt.unreported(self)

    TestCase._wait = _wait

    # After the last test Trial fires the reactor's "shutdown" event
    # (TrialSuite._bail, 22.10 to 26.10), which stops every port and runs
    # every shutdown trigger: what outlived the tests must be seen first.
    from twisted.trial.runner import TrialSuite

    bail = TrialSuite._bail

    def _bail(self, *args, **kwargs):
        session = _active
        # A trial -j worker runs each test in a TrialSuite of its own: its
        # end of the run is when the main process asks (distributed.py).
        if session is not None and finish_at_bail:
            session.finish()
        return bail(self, *args, **kwargs)

    TrialSuite._bail = _bail


def _report_interrupted(test, result) -> None:
    """
    Report ``test`` as interrupted (the error Trial gives a test whose code
    raised KeyboardInterrupt) and stop the run.
    """
    result.addError(test, Failure(KeyboardInterrupt("interrupted (Ctrl-C) before the test finished")))
    stop = getattr(result, "stop", None)  # a standard-library result adapter has none
    if stop is not None:
        stop()


def _say_where_a_timeout_waited(d, root: str, test=None, phase=None) -> None:
    """
    Have Trial's timeout for this phase name where the phase was waiting.

    Trial schedules its ``onTimeout(d)`` call and cancels it once ``d``
    fires (a callback on ``d`` holds the call).  We replace that call's
    function, so that just before it fails ``d`` with a TimeoutError, the
    error's message gains the user's suspended frames: after the errback
    the generators have moved on and the frames are gone.  In a cleanup
    (``phase``, Twisted 25.x+), it also names cleanups registered before it
    that had not run, when they would cause what it waits for.
    """
    try:
        call = _timeout_call(d)
        if call is None:
            return
        _trials_own(call)
        on_timeout = call.func

        def describe_then_time_out(deferred):
            text = _where_waiting(deferred, root)
            order = _cleanup_order(test, phase, root)
            text = "\n".join(t for t in (text, order) if t)
            if not text:
                return on_timeout(deferred)
            errback = deferred.errback

            def errback_with_place(fail=None, *args, **kwargs):
                try:
                    if fail is not None and fail.check(PhaseTimeout):
                        fail.value.args = (f"{fail.value.args[0]}\n{text}",) + tuple(fail.value.args[1:])
                except Exception:
                    pass
                return errback(fail, *args, **kwargs)

            deferred.errback = errback_with_place
            try:
                return on_timeout(deferred)
            finally:
                del deferred.errback

        call.func = describe_then_time_out
    except Exception:
        pass  # the timeout then reads as stock Trial's


def _trials_own(call) -> None:
    """
    Never a finding: Trial's timeout call for a phase.  Trial cancels it
    once the phase's Deferred fires, but a tearDown that returns the very
    Deferred the test waited on (still running its callbacks) fires the
    last phase, and so our look, before that cancel has run.
    """
    try:
        capture.new_calls.remove(call)
    except ValueError:
        pass
    setattr(call, JUDGED, True)  # nor at the end of the run


def _timeout_call(d):
    """Trial's pending onTimeout call for ``d``, found among d's callbacks."""
    for pair in callbacks_of(d):
        func = pair[0][0] if pair and pair[0] else None
        for cell in getattr(func, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, DelayedCall) and value.active() and value.args[:1] == (d,):
                return value
    return None


def _cleanup_order(test, phase, root: str) -> str:
    try:
        pending = getattr(test, "_cleanups", ())
        return render_cleanup_order(at_timeout(test, phase, pending, root))
    except Exception:
        return ""


def _where_waiting(deferred, root: str) -> str:
    try:
        return render_suspension(describe(deferred, root), root)
    except Exception:
        return ""
