"""
The fixture-ownership path of trial-strictclean broken on purpose, one step
at a time (STRICTCLEAN_FAULT names it): the tests keep stock pytest's
outcomes, one note says what broke, and the run goes on judging
(suite_fixture_faults_after.py).

``shared`` is clean (its port is stopped and waited for at finalization)
but open while the tests run: if its port were taken for the test's, the
test would be failed for it.
"""

import os
import sys

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol

FAULT = os.environ.get("STRICTCLEAN_FAULT", "")


def _broken(*args, **kwargs):
    raise RuntimeError("injected fault")


_mended = {}


def _owner(where: str):
    module, _, attribute = where.rpartition(".")
    owner = sys.modules.get(module)
    if owner is not None and attribute:
        owner = getattr(owner, attribute)
    return owner


def _break(where: str, name: str) -> None:
    owner = _owner(where)
    if owner is None:  # stock pytest: nothing of ours to break
        return
    _mended[where, name] = getattr(owner, name)
    setattr(owner, name, _broken)


def _mend(where: str, name: str) -> None:
    if (where, name) in _mended:
        setattr(_owner(where), name, _mended.pop((where, name)))


_AT_IMPORT = {
    # The window around the fixture's setup, opened and read.
    "window": ("trial_strictclean.core.inspection.Window", "__init__"),
    "created": ("trial_strictclean.core.inspection.Window", "created"),
    # Handing what it created over to the fixture (Session.disown).
    "adopt": ("trial_strictclean.core.inspection.Snapshot", "adopt"),
    # Judging the fixture once pytest finalized it.
    "judge-finalized": ("trial_strictclean.pytest.judge.", "still_held"),
}
if FAULT in _AT_IMPORT:
    _break(*_AT_IMPORT[FAULT])


@pytest_twisted.async_yield_fixture(scope="module")
async def shared():
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    yield port
    if FAULT == "finalizing":
        # Mended once the step broken (by test_last) has run: only it fails.
        _mend("trial_strictclean.core.inspection.Window", "__init__")
    await port.stopListening()


def test_first(shared):
    assert shared.getHost().port


def test_last(shared):
    if FAULT == "finalizing":
        # The window opened just before the fixture's teardown.
        _break("trial_strictclean.core.inspection.Window", "__init__")
    assert shared.getHost().port
