"""
The snapshot's cheap look (inspection.Snapshot.look): a reactor that holds
the very objects it held at the start has nothing new, without a list
built; anything else is filtered exactly as one set of ids would.  And the
session's diagnosis, imported only for a dirty test, is never imported
while a test has emptied sys.modules.
"""

from __future__ import annotations

import os
import sys
from unittest import SkipTest

from twisted.trial.unittest import SynchronousTestCase

from trial_strictclean.core import capture, inspection, session as session_module


class _Reactor:
    """What a snapshot reads of a reactor: its readers, writers and own readers."""

    def __init__(self, readers=(), writers=(), internal=()) -> None:
        self.readers = list(readers)
        self.writers = list(writers)
        self._internalReaders = set(internal)
        self.threadpool = None

    def getReaders(self):
        return list(self.readers)

    def getWriters(self):
        return list(self.writers)


class _Touchy:
    """An object whose own equality must never be asked."""

    def __eq__(self, other):
        raise AssertionError("compared with ==")

    __hash__ = object.__hash__


class Look(SynchronousTestCase):
    def setUp(self) -> None:
        # The snapshots here name a fake reactor: the session judging this
        # test goes on with the real one.
        self.addCleanup(capture.judge_calls_of, capture._judged[0])
        self.addCleanup(capture.new_calls.extend, list(capture.new_calls))

    def test_same_objects_nothing_new(self):
        waker, old = _Touchy(), _Touchy()
        reactor = _Reactor([waker, old], [old], internal=[waker])
        snapshot = inspection.Snapshot(reactor)
        self.assertIsNone(snapshot.look(reactor))
        self.assertEqual(snapshot.new_since(reactor), inspection.Leftovers())

    def test_new_ones_without_the_reactors_own(self):
        waker, old, new = _Touchy(), _Touchy(), _Touchy()
        reactor = _Reactor([waker, old], internal=[waker])
        snapshot = inspection.Snapshot(reactor)
        reactor.readers = [old, new, waker]
        reactor.writers = [new]
        left = snapshot.look(reactor)
        self.assertEqual(left.readers, [new])
        self.assertEqual(left.writers, [new])

    def test_moved_between_groups_is_not_new(self):
        # One set of ids, as before: a reader that is now a writer is old.
        old = _Touchy()
        reactor = _Reactor([old])
        snapshot = inspection.Snapshot(reactor)
        reactor.readers, reactor.writers = [], [old]
        self.assertIsNone(snapshot.look(reactor))

    def test_removed_is_not_new(self):
        first, second = _Touchy(), _Touchy()
        reactor = _Reactor([first, second])
        snapshot = inspection.Snapshot(reactor)
        reactor.readers = [second]
        self.assertIsNone(snapshot.look(reactor))

    def test_adopted_is_not_new(self):
        reactor = _Reactor()
        snapshot = inspection.Snapshot(reactor)
        theirs, mine = _Touchy(), _Touchy()
        reactor.readers = [theirs, mine]
        snapshot.adopt(inspection.Leftovers(readers=[theirs]))
        self.assertEqual(snapshot.look(reactor).readers, [mine])


class _Descriptor:
    """A reader of one end of a pipe, for the real reactor."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def doRead(self):
        pass

    def connectionLost(self, reason):
        pass

    def logPrefix(self) -> str:
        return "test"


class FdTables(SynchronousTestCase):
    """
    The epoll reactor's snapshot copies its tables instead of listing its
    readers and writers: it finds exactly what the lists would.
    """

    def setUp(self) -> None:
        from twisted.internet import reactor

        if not inspection._fd_tables(reactor):
            raise SkipTest("not a reactor whose tables a snapshot copies")
        self.reactor = reactor
        self.addCleanup(capture.judge_calls_of, capture._judged[0])
        self.addCleanup(capture.new_calls.extend, list(capture.new_calls))
        read, write = os.pipe()
        self.addCleanup(os.close, read)
        self.addCleanup(os.close, write)
        self.fd = read

    def add(self, descriptor, writer=False):
        add, remove = (
            (self.reactor.addWriter, self.reactor.removeWriter) if writer
            else (self.reactor.addReader, self.reactor.removeReader)
        )
        add(descriptor)
        self.addCleanup(remove, descriptor)

    def test_same_objects_nothing_new(self):
        snapshot = inspection.Snapshot(self.reactor)
        self.assertIsNotNone(snapshot._tables)
        self.assertIsNone(snapshot.look(self.reactor))

    def test_new_reader_and_writer(self):
        snapshot = inspection.Snapshot(self.reactor)
        reader = _Descriptor(self.fd)
        self.add(reader)
        self.assertEqual(snapshot.look(self.reactor).readers, [reader])
        self.reactor.removeReader(reader)
        self.assertIsNone(snapshot.look(self.reactor))
        self.add(reader, writer=True)
        self.assertEqual(snapshot.look(self.reactor).writers, [reader])

    def test_another_object_on_the_same_number_is_new(self):
        old = _Descriptor(self.fd)
        self.add(old)
        snapshot = inspection.Snapshot(self.reactor)
        self.reactor.removeReader(old)
        new = _Descriptor(self.fd)
        self.add(new)
        self.assertEqual(snapshot.look(self.reactor).readers, [new])

    def test_removed_is_not_new(self):
        old = _Descriptor(self.fd)
        self.add(old)
        snapshot = inspection.Snapshot(self.reactor)
        self.reactor.removeReader(old)
        self.assertIsNone(snapshot.look(self.reactor))

    def test_own_methods_are_listed(self):
        # A subclass with its own getReaders is asked, never its tables.
        cls = type(self.reactor)
        sub = type("Listing", (cls,), {"getReaders": lambda self: cls.getReaders(self)})
        self.assertFalse(inspection._lists_from_fd_tables.get(sub, False))
        self.patch(self.reactor, "__class__", sub)
        self.assertIsNone(inspection._fd_tables(self.reactor))
        snapshot = inspection.Snapshot(self.reactor)
        self.assertIsNone(snapshot._tables)
        reader = _Descriptor(self.fd)
        self.add(reader)
        self.assertEqual(snapshot.look(self.reactor).readers, [reader])


class LazyDiagnosis(SynchronousTestCase):
    def test_not_imported_while_sys_modules_is_emptied(self):
        # As after a test emptied sys.modules (Twisted's own tests do, until
        # a cleanup restores it): only this entry is taken away here.
        self.patch(session_module, "diagnose", None)
        name = session_module.__name__
        del sys.modules[name]
        try:
            with self.assertRaises(RuntimeError):
                session_module._diagnose()
        finally:
            sys.modules[name] = session_module
        self.assertIsNone(session_module.diagnose)

    def test_imported_when_first_needed(self):
        self.patch(session_module, "diagnose", None)
        from trial_strictclean.core.diagnosis import diagnose

        self.assertIs(session_module._diagnose(), diagnose)
