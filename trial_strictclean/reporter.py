"""
``trial --reporter=strictclean``: Trial's default tree output, plus a
verdict on every test that leaves something in the reactor.

Trial imports this module while it parses its options, before it changes
into ``_trial_temp`` and before it installs the reactor chosen with
``--reactor``; so the working directory is read here, and the reactor only
when the first test starts.
"""

from __future__ import annotations

import os
import sys

from twisted.python.failure import Failure
from twisted.trial.reporter import TreeReporter

from . import capture, trial_glue
from .render_text import render
from .session import Session
from .verdict import DirtyReactor

# Sites are shown relative to where the user ran trial.
ROOT = os.getcwd()

# Installed at import: resources created while Trial imports the test
# modules get a creation site too.
capture.install()


def _wants_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except Exception:
        return False


class StrictCleanReporter(TreeReporter):
    """Trial's tree reporter that fails each test leaving the reactor dirty."""

    def __init__(self, stream=sys.stdout, tbformat="default", realtime=False, publisher=None):
        super().__init__(stream, tbformat, realtime, publisher)
        self._color = _wants_color(stream)
        self._session = Session(ROOT, warn=self._warn)
        self.dirty = []
        trial_glue.activate(self._session)

    def _warn(self, text: str) -> None:
        self._stream.write(f"\ntrial-strictclean: {text}\n")

    def startTest(self, test):
        super().startTest(test)
        self._session.start(test)

    def stopTest(self, test):
        self._session.stop(test)
        super().stopTest(test)

    def addError(self, test, error):
        if isinstance(error, Failure) and error.check(DirtyReactor):
            self._session.delivered = True
            self.dirty.append((test.id(), error.value.findings))
        super().addError(test, error)

    def _formatFailureTraceback(self, fail):
        if isinstance(fail, Failure) and fail.check(DirtyReactor):
            return render(list(fail.value.findings), ROOT, self._color)
        return super()._formatFailureTraceback(fail)

    def done(self):
        trial_glue.deactivate(self._session)
        super().done()
