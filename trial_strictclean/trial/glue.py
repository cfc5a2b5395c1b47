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

Each wrapper does exactly what Trial does when no session is active, or
for a test the session is not watching (a test run inside a test).
"""

from __future__ import annotations

import unittest

_active = None
_installed = False


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
        try:
            run_sync(self, _HeldSuccess(result, session))
        finally:
            # A test that failed never reached addSuccess: judge it now.
            session.judge(self, result)

    SynchronousTestCase._runFixturesAndTest = _runFixturesAndTest

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
