"""Runs after suite_fixture_faults.py: judging still works after a fault."""

from twisted.internet import reactor


def test_leaves_a_timer():
    reactor.callLater(30, lambda: None)


def test_last():
    # pytest-twisted's session fixture is finalized in this test's teardown.
    pass
