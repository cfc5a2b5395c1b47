"""Leftovers accepted by a rule on node ids and by @ignore_leftovers."""

from twisted.internet import reactor

from trial_strictclean import ignore_leftovers


def test_ruled_timer():
    reactor.callLater(30, lambda: None)


@ignore_leftovers("delayed-call", reason="a marker on a pytest function")
def test_marked_timer():
    reactor.callLater(30, lambda: None)


@ignore_leftovers(reason="a marker on a pytest class")
class TestMarked:
    def test_timer(self):
        reactor.callLater(30, lambda: None)


def test_unaccepted_timer():
    reactor.callLater(30, lambda: None)
