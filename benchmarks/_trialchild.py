"""
Runs trial in this process, then writes what it cost to a JSON file.

Used by ``compare.py``: ``python _trialchild.py USAGE_FILE [trial args...]``.
The process's own ``getrusage(RUSAGE_SELF)`` gives the peak RSS of trial
itself, not of processes the tests spawn.  With ``BENCH_RECORD=path`` it
also records every outcome Trial's reporters receive, for both stock trial
and strictclean alike (both reporters derive from ``reporter.Reporter``);
with ``BENCH_TIMES=path``, each test's seconds from startTest to stopTest.
"""

import json
import os
import resource
import sys
import time


def _record_outcomes(path):
    from twisted.trial import reporter

    events = []
    # Only the run's own reporter, the first one made: Trial's self-tests
    # make reporters of their own and feed them made-up outcomes.
    main = []
    init = reporter.Reporter.__init__

    def __init__(self, *args, **kwargs):
        if not main:
            main.append(self)
        init(self, *args, **kwargs)

    reporter.Reporter.__init__ = __init__

    def hook(name):
        original = getattr(reporter.Reporter, name)

        def method(self, test, *args, **kwargs):
            if self is not main[0]:
                return original(self, test, *args, **kwargs)
            detail = None
            if args and name in ("addError", "addFailure"):
                error = args[0]
                kind = getattr(error, "type", None) or (error[0] if isinstance(error, tuple) else type(error))
                detail = getattr(kind, "__qualname__", str(kind))
            events.append((test.id(), name, detail))
            return original(self, test, *args, **kwargs)

        setattr(reporter.Reporter, name, method)

    for name in ("addSuccess", "addError", "addFailure", "addSkip", "addExpectedFailure", "addUnexpectedSuccess"):
        hook(name)

    def save():
        with open(path, "w") as f:
            json.dump(events, f)

    return save


def _record_times(path):
    """Per-test seconds from startTest to stopTest, for the run's reporter."""
    from twisted.trial import reporter

    times = {}
    started = {}
    main = []
    start, stop = reporter.Reporter.startTest, reporter.Reporter.stopTest

    def startTest(self, test):
        if not main:
            main.append(self)
        if self is main[0]:
            started[test.id()] = time.perf_counter()
        return start(self, test)

    def stopTest(self, test):
        result = stop(self, test)
        if self is main[0]:
            began = started.pop(test.id(), None)
            if began is not None:
                times[test.id()] = times.get(test.id(), 0.0) + time.perf_counter() - began
        return result

    reporter.Reporter.startTest, reporter.Reporter.stopTest = startTest, stopTest

    def save():
        with open(path, "w") as f:
            json.dump(times, f)

    return save


def main():
    usage_file = sys.argv[1]
    sys.argv = ["trial", *sys.argv[2:]]
    record = os.environ.get("BENCH_RECORD")
    save = _record_outcomes(record) if record else None
    timed = os.environ.get("BENCH_TIMES")
    save_times = _record_times(timed) if timed else None
    start = time.perf_counter()
    code = 0
    try:
        from twisted.scripts.trial import run

        run()
    except SystemExit as exit:
        code = 0 if exit.code is None else int(exit.code) if isinstance(exit.code, int) else 1
    finally:
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_SELF)
        if save is not None:
            save()
        if save_times is not None:
            save_times()
        with open(usage_file, "w") as f:
            json.dump(
                {
                    "wall": wall,
                    "user": usage.ru_utime,
                    "sys": usage.ru_stime,
                    "maxrss_kib": usage.ru_maxrss,
                    "exit": code,
                },
                f,
            )
    sys.exit(code)


if __name__ == "__main__":
    main()
