"""
trial-strictclean's judging of a test broken on purpose (STRICTCLEAN_FAULT):
the tests keep their outcomes, and the run goes on and says so.  The
fixture-ownership steps: suite_fixture_faults.py.
"""

import os
import sys

import pytest
from twisted.internet import reactor

if os.environ.get("STRICTCLEAN_FAULT"):

    def _broken(*args, **kwargs):
        raise RuntimeError("injected fault")

    sys.modules["trial_strictclean.core.session"].Session.judge = _broken


@pytest.fixture(scope="module")
def shared():
    return 1


def test_uses_a_module_fixture(shared):
    assert shared == 1


def test_cancels_its_timer():
    reactor.callLater(30, lambda: None).cancel()
