"""
Ctrl-C: the run stops at once, the test it interrupted is recorded as
``interrupted`` (never judged: what it holds is what it was waiting for,
plus Trial's own timeout call), and the tests that had not started do not
run.

Stock Trial lets the reactor's own SIGINT handler stop the reactor; inside
a test's ``_wait`` that makes ``_wait`` raise ``KeyboardInterrupt`` after
Trial's janitor has reported the test's pending calls as an error, and the
exception then ends the process with a traceback and no summary (under
``-j`` the workers die, and every test not yet run is an error).  The
reactor installs its handler only where Python's default one is in place,
so installing ours first takes SIGINT over for the whole run.

What our handler does depends on the process and the moment:

- one process, or a ``-j`` worker: if the watched test's own code may be
  running (its ``window``), the reactor is stopped if it runs (``_wait``
  then raises ``KeyboardInterrupt``, which ``glue`` turns into the test's
  interruption) or ``KeyboardInterrupt`` is raised in the test's code,
  which Trial reports as the test's error; otherwise (between tests, while
  we judge) nothing is raised and the run just stops before the next test;
- the ``-j`` main process: no more tests go out, the workers are told
  (SIGINT, in case only the main process got it), and workers still busy
  after ``GRACE`` seconds are killed.

A second Ctrl-C in one process raises ``KeyboardInterrupt`` wherever it
lands, as Python would; in the main process it kills the workers at once,
and a third raises there.
Workers ignore all but the first (the main process forwards what the
process group already got).
"""

from __future__ import annotations

import signal

# How long the main process of trial -j waits for its workers to report
# the tests they were running before it kills them.
GRACE = 3.0

_role = None
_count = 0
# The watched test while its own code may run (setUp, the test, cleanups,
# tearDown), and the tests that Ctrl-C interrupted.
_window = None
_interrupted: list = []
# Those of them whose KeyboardInterrupt left _wait: no error of Trial's
# says so (glue reports one).
_unreported: list = []
# The -j main process: worker processes and their AMP connections, for
# forwarding Ctrl-C, and the connections running a test now.
_workers: list = []
_busy: list = []


def requested() -> bool:
    """Whether the run was interrupted (a SIGINT came, or a test said so)."""
    return _count > 0


def request() -> None:
    """Interrupt the run from within, as a first Ctrl-C would."""
    global _count
    if _count == 0:
        _count = 1
        if _role == "main":
            _main_first()


def install(role: str) -> None:
    """Take SIGINT over for this process: ``single``, ``worker`` or ``main``."""
    global _role
    if _role is not None:
        return
    try:
        signal.signal(signal.SIGINT, _main_handler if role == "main" else _handler)
    except ValueError:
        return  # not the main thread: leave SIGINT as it is
    _role = role


def enter(test) -> None:
    """The test's own code may run from now on."""
    global _window
    _window = test


def window():
    """The test whose own code may be running now, if any."""
    return _window


def leave(test) -> None:
    global _window
    if _window is test:
        _window = None


def interrupted(test) -> None:
    """Ctrl-C interrupted ``test`` (the test itself, not an adapter)."""
    if not any(t is test for t in _interrupted):
        _interrupted.append(test)


def was_interrupted(test) -> bool:
    return any(t is test for t in _interrupted)


def unreported(test) -> None:
    """Trial reports no error for interrupted ``test``: glue must."""
    if not any(t is test for t in _unreported):
        _unreported.append(test)


def take_unreported(test) -> bool:
    """Whether ``test`` was stopped in the reactor and awaits its error; once."""
    for index, t in enumerate(_unreported):
        if t is test:
            del _unreported[index]
            return True
    return False


def worker_started(process, connection) -> None:
    """The -j main process started a worker."""
    _workers.append((process, connection))


def busy(connection, running: bool) -> None:
    """The -j main process sent a worker a test, or heard back."""
    if running:
        _busy.append(connection)
    elif connection in _busy:
        _busy.remove(connection)


def _handler(signum, frame) -> None:
    global _count
    _count += 1
    if _count > 1:
        if _role == "worker":
            return
        raise KeyboardInterrupt
    test = _window
    if test is None:
        return  # the run stops before the next test (result.shouldStop)
    from twisted.internet import reactor

    if reactor.running or getattr(reactor, "_started", False):
        # As the reactor's own handler does, in the reactor's thread: the
        # test's _wait then returns without a result and raises.  (Also
        # while the reactor is starting: an exception there would leave it
        # half started.)
        reactor.callFromThread(_stop_reactor, test)
        return
    interrupted(test)
    raise KeyboardInterrupt


def _stop_reactor(test) -> None:
    # Only if the test is still running: a stop left for the next
    # reactor.run() (Trial's own, after the last test) would break it.
    if _window is test:
        interrupted(test)
        from twisted.internet import reactor

        reactor.stop()  # inside _wait, Trial's crash


def _main_handler(signum, frame) -> None:
    global _count
    _count += 1
    if _count > 2:
        raise KeyboardInterrupt  # the reactor itself may be stuck
    from twisted.internet import reactor

    reactor.callFromThread(_main_first if _count == 1 else _kill_workers)


def _main_first() -> None:
    from twisted.internet import reactor

    _signal_workers("INT")
    reactor.callLater(GRACE, _kill_workers)


def _kill_workers() -> None:
    # Those still running a test; the others end when Trial lets them go.
    if _signal_workers("KILL", busy_only=True):
        import sys

        sys.stderr.write(
            "trial-strictclean: killed the workers still running a test "
            f"{GRACE:g} s after Ctrl-C (their tests are recorded as interrupted)\n"
        )


def _signal_workers(name: str, busy_only: bool = False) -> int:
    """Signal the workers (those running a test); how many got it."""
    count = 0
    for process, connection in _workers:
        if busy_only and connection not in _busy:
            continue
        try:
            if getattr(process, "pid", None) is not None:
                process.signalProcess(name)
                count += 1
        except Exception:
            pass  # it has ended already
    return count
