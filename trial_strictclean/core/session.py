"""
Per-run state: the test running now, what the reactor held when it started,
and the checkpoint that judges it once its cleanups and tearDown are done,
then hands the reactor on to the next test as stock Trial would.
"""

from __future__ import annotations

import inspect
import sys
import threading
import traceback

from twisted.internet.base import DelayedCall
from twisted.python import log

from . import capture
from .capture import Registered, _ThreadWork
from .findings import RUN_LEVEL, Finding, replace
from . import unhandled
from .inspection import Snapshot, mark_judged, outliving, remove_own, settle_threads, spin, take_foreign


# A look that failed (its note is printed): Trial's own check decides.
_FAILED = object()

# diagnosis.diagnose, imported when a test is first found dirty (_describe):
# a run of clean tests never needs it, and it is a good part of what
# importing the package costs at start-up.  Until then None.
diagnose = None
_this_module = sys.modules[__name__]


def _diagnose():
    global diagnose
    if diagnose is None:
        # Not while a test has emptied sys.modules (a cleanup restores it):
        # importing then would load a second copy of the package.  The
        # verdict then goes without detail (_undescribed), as on any fault.
        if sys.modules.get(__name__) is not _this_module:
            raise RuntimeError("trial-strictclean's modules are not in sys.modules now")
        from .diagnosis import diagnose as imported

        diagnose = imported
    return diagnose


class _RunLevel:
    """The end of the run, as the core's policies see a test."""

    def id(self) -> str:
        return RUN_LEVEL


# How to stop what was made before any test, in each runner's idiom.
_BEFORE_ANY_FIX = {
    "trial": (
        "Start it where it can be stopped: in setUp or a fixture, stopping it "
        "(and waiting for that) in a cleanup; or stop it in tearDownClass or "
        "tearDownModule."
    ),
    "pytest": (
        "Start it in a fixture instead (module or session scope for a shared "
        "one) and stop it after the fixture's yield, awaiting what the stop "
        "returns."
    ),
}


def _started(finding: Finding, subject, runner: str = "trial") -> Finding:
    """``finding``, found at the end of the run, in words for no test: who started it."""
    origin = capture.origin_of(subject)
    started_by = origin.name if origin is not None else None
    if origin is None:
        begun = "Still there when the run ended; no record of what made it."
        fix = finding.fix
    elif started_by is None:
        begun = "Made before any test ran (at import, or by a class or module fixture), still there when the run ended."
        fix = _BEFORE_ANY_FIX.get(runner, _BEFORE_ANY_FIX["trial"])
    else:
        # A test's id, or a pytest fixture's name (its era).
        begun = f"Made for work begun in {started_by}, after it; still there when the run ended."
        fix = f"In {started_by}: {finding.fix[:1].lower()}{finding.fix[1:]}" if finding.fix else None
    return replace(
        finding,
        started_by=started_by,
        detail=begun,
        fix=fix,
        message=f"{begun} {finding.message}",
    )


def _test_code(test) -> frozenset:
    """
    The code objects of a test's own code: its method (or function), its
    setUp and tearDown, and the functions nested in them.  Not the rest of
    its module: a protocol or a callback written there for another test
    acts for that test's chain.
    """
    found = set()
    todo = []
    for name in (getattr(test, "_testMethodName", None), "setUp", "tearDown"):
        try:
            method = getattr(test, name, None) if name else None
            if method is None:
                continue
            function = inspect.unwrap(getattr(method, "__func__", method))
            code = getattr(function, "__code__", None)
            if code is not None:
                todo.append(code)
        except Exception:
            continue
    while todo:
        code = todo.pop()
        if code in found:
            continue
        found.add(code)
        todo.extend(c for c in code.co_consts if isinstance(c, type(code)))
    return frozenset(found)


def _made_by(obj, codes: frozenset) -> bool:
    """Whether the creation site of ``obj`` has a frame of ``codes``."""
    captured = getattr(obj, "_strictclean_created", None) or ()
    return any(captured[i] in codes for i in range(0, len(captured), 2))


def _unwrapped(test):
    # Reporters see tests through Trial's adapters (TestDecorator and
    # friends); the hooks see the test itself.
    if getattr(test, "_originalTest", None) is None:
        return test  # the common case, without a loop
    for _ in range(10):
        inner = getattr(test, "_originalTest", None)
        if inner is None:
            break
        test = inner
    return test


def _installed_reactor():
    """
    ``from twisted.internet import reactor``, without the import machinery
    in the common case (once per test, twice with the janitor's look).
    """
    internet = sys.modules.get("twisted.internet")
    reactor = getattr(internet, "reactor", None)
    if reactor is None:
        from twisted.internet import reactor
    return reactor


class Session:
    """Judges each test of one Trial run, at most once."""

    def __init__(self, root: str, warn) -> None:
        self.root = root
        self._warn = warn
        self._test = None
        self._snapshot = None
        self._looked = None
        self._reactor = None
        # The era of the test being watched (capture.Era): what the reactor
        # does for chains begun earlier is not the test's doing.
        self._era = None
        # What outlived every test, once looked for (finish).
        self.run_level = None
        # How many leftovers were made, while a test ran, for a chain
        # begun before it, and so were not blamed on it.
        self.not_theirs = 0
        # How a runner reports a dirty test: report(test, result, findings)
        # delivers the verdict and says whether the test now counts as
        # errored (a wrapper such as --unclean-warnings may have softened it).
        self.report = None
        # Optional policy (ignore rules): triage(test, findings) returns the
        # findings to report; it keeps its own account of the others.
        self.triage = None
        # Optional: assign(test, left) returns what of ``left`` is the test's
        # own, keeping its own account of what belongs to something else
        # (the pytest adapter's shared servers, read practically).
        self.assign = None
        # Optional: reported(failure) says whether the runner itself already
        # reported the error of an unhandled failure (pytest-twisted raises
        # a failing test's error into pytest and leaves it in its own
        # Deferred): not the test's leftover.
        self.reported = None
        # Whose idiom the fixes are written in (diagnosis.Context.runner).
        self.runner = "trial"
        # What a leftover becomes when the runner leaves the reactor alone
        # after the test (the words of the JSON report's "after").
        self.left_alone = "left in the reactor: as with Trial, nothing is cleaned up after a synchronous test"

    def start(self, test) -> None:
        """Note what the reactor holds as ``test`` starts."""
        reactor = _installed_reactor()
        self._reactor = reactor
        self._test = _unwrapped(test)
        try:
            try:
                test_id = test.id()
            except Exception:
                test_id = repr(test)
            self._era = capture.begin_era(test_id)
            unhandled.start()
            self._snapshot = Snapshot(reactor)
        except Exception:
            self._snapshot = None
            self._could_not("look at the reactor before", test, "Trial's own check decides its outcome")

    def disown(self, objects) -> None:
        """
        ``objects`` (``inspection.Leftovers``), created while the watched test
        runs, belong to something else: never blame them on the test.
        """
        if self._snapshot is not None:
            self._snapshot.adopt(objects)

    def judge_left(self, test, result, left) -> bool:
        """
        Judge leftovers found otherwise than by a test's snapshot (what a
        fixture with a wider scope still holds once finalized), as ``judge``
        does, touching nothing; True if they were reported.
        """
        try:
            findings, subjects = self._describe(test, self._reactor, left)
            if findings and self.triage is not None:
                kept = {id(f) for f in self.triage(test, findings)}
                findings, subjects = _pairs_kept(findings, subjects, kept)
            findings = [_with_aftermath(f, self.left_alone) for f in findings]
        except Exception:
            self._could_not("judge", test, "its leftovers are not reported")
            return False
        return bool(findings) and self.report(test, result, findings)

    def stop(self, test) -> None:
        # The test itself, mostly (pytest's): no unwrapping to do.
        if self._test is test or self._test is _unwrapped(test):
            self._test = self._snapshot = self._looked = None

    def look(self, test) -> None:
        """
        Take the look the verdict rests on now, if ``test`` is running and
        has not been looked at: the moment its last Deferred fired, before
        the reactor finishes the iteration that fired it (a close that
        completes in the rest of that iteration did so by luck).
        ``judge`` uses this look when there is one.
        """
        if self._test is not test or self._snapshot is None or self._looked is not None:
            return
        try:
            self._looked = self._look(test, self._snapshot)
        except Exception:
            self._looked = _FAILED
            self._could_not("judge", test, "it keeps the outcome stock Trial gives it")

    def running(self, test) -> bool:
        """Whether ``test`` is the test this session is watching now."""
        return self._test is not None and self._test is _unwrapped(test)

    def judge(self, test, result, spin_after: bool = False, janitor=None) -> bool:
        """
        Judge what ``test`` left, then hand the reactor on; if it left
        anything, have the runner report it through ``result`` (the result
        the test itself reports to, so wrappers such as --exitfirst see
        it).  True if the test now counts as errored.

        ``spin_after`` is for ``TestCase`` tests, after which Trial's
        janitor spins the reactor and cancels what is still pending; after
        the others Trial touches nothing, and neither do we.  What is done
        to the reactor never depends on the verdict: ignore rules and
        --unclean-warnings change what is reported, not what happens.

        Nothing of ours may change a test's outcome by failing: if judging
        breaks, the test gets the outcome stock Trial gives it (``janitor``,
        Trial's own check, decides; without one, as for synchronous tests,
        Trial checks nothing), and a note says so.
        """
        if self._test is not test:
            return False
        if self._snapshot is None:
            # Judged already, or the look before the test failed (a note
            # said so then): Trial's own check decides, if any.
            return janitor is not None and not janitor()
        snapshot, self._snapshot = self._snapshot, None
        looked, self._looked = self._looked, None
        reactor = self._reactor
        if looked is _FAILED:
            # Said so already; Trial's own check decides, before our spin.
            return janitor is not None and not janitor()
        try:
            findings, subjects = looked if looked is not None else self._look(test, snapshot)
            # Unhandled errors are looked for only now: at the moment of the
            # look, Trial's own Deferred for the test may still carry the
            # test's failure, which Trial takes right after.
            errors = unhandled.pending()
            if errors and self.reported is not None:
                known = [e for e in errors if self.reported(e.failResult)]
                if known:
                    unhandled.defuse(known)  # nor logged later, against another test
                    errors = [e for e in errors if e.failResult is not None]
            if errors:
                findings = findings + [unhandled.finding(e, self.root) for e in errors]
                subjects = subjects + errors
                # Whatever is reported, or ignored, is not logged again later.
                unhandled.defuse(errors)
            if findings and self.triage is not None:
                kept = {id(f) for f in self.triage(test, findings)}
                findings, subjects = _pairs_kept(findings, subjects, kept)
        except Exception:
            # Before the spin, so Trial's own check sees what it would.
            return self._fall_back(test, janitor)
        if spin_after:
            spin(reactor)  # runs user code, as Trial's janitor does: not ours to guard
        try:
            cancelled, removed = remove_own(reactor, snapshot, self._theirs(test)) if spin_after else ((), ())
        except Exception:
            return self._fall_back(test, janitor)
        if not findings:
            return False
        try:
            findings = [
                _with_aftermath(f, _aftermath(f.kind, s, cancelled, removed, spin_after, self.left_alone))
                for f, s in zip(findings, subjects)
            ]
        except Exception:
            # Only words: the verdict stands without them.
            self._could_not("say what became of the leftovers of", test, "the verdict stands")
        return self.report(test, result, findings)

    def _look(self, test, snapshot) -> tuple[list, list]:
        """The findings on what is new since ``snapshot`` in the reactor."""
        reactor = self._reactor
        left = snapshot.look(reactor)
        if left is None:
            return [], []  # nothing new: a clean test
        if left:
            self.not_theirs += len(take_foreign(left, self._theirs(test)))
        settle_threads(reactor, left)
        if left and self.assign is not None:
            left = self.assign(test, left)
        return self._describe(test, reactor, left)

    def _theirs(self, test):
        """Tells what the reactor made, while ``test`` ran, for a chain begun before it."""
        era = self._era
        codes = []

        def theirs(obj) -> bool:
            origin = capture.origin_of(obj)
            if origin is None or origin is era:
                return False
            # The test's own code on the stack makes it the test's doing,
            # whatever chain it continued (a test resumed by an older
            # connection's data still acts for itself).
            try:
                if not codes:
                    codes.append(_test_code(test))
                return not _made_by(obj, codes[0])
            except Exception:
                return False  # blamed as before: an odd object costs no verdict

        return theirs

    def _describe(self, test, reactor, left) -> tuple[list, list]:
        if not left:
            return [], []
        # Judged once: the end of the run does not report it again.
        mark_judged(left)
        try:
            return _diagnose()(reactor, left, self.root, self.runner)
        except Exception:
            # A verdict with less detail beats a lost one.
            self._could_not("describe what was left by", test, "its leftovers are listed without detail")
            return _undescribed(left)

    def finish(self) -> list[Finding]:
        """
        What outlives every test, found once the last test is done: made
        before any test (at import, in a class or module fixture) or by the
        reactor for a chain some test began, after that test.  Each finding
        names that test (``started_by``).  Ignore rules and the baseline
        apply, with ``RUN_LEVEL`` as the test id.  Touches nothing.  Looks
        once: later calls return the first look's findings.
        """
        if self.run_level is None:
            self.run_level = self._finish()
        return self.run_level

    def _finish(self) -> list[Finding]:
        reactor = self._reactor
        if reactor is None:
            return []  # no test ran
        run = _RunLevel()
        try:
            if self.triage is not None:
                self.triage.saw(run)  # its baseline entries can now be stale
            left = outliving(reactor)
            if not left:
                return []
            findings, subjects = self._describe(run, reactor, left)
            findings = [_started(f, s, self.runner) for f, s in zip(findings, subjects)]
            if findings and self.triage is not None:
                findings = self.triage(run, findings)
            if findings and self.triage is not None:
                # Known ones stay listed, marked, as on a test; they fail
                # nothing.  The runner's delivery is for tests only.
                findings = self.triage.mark_known(RUN_LEVEL, findings)
            return findings
        except Exception:
            self._could_not("look at the reactor at the end of", run, "what outlived the tests is not reported")
            return []

    def _fall_back(self, test, janitor) -> bool:
        self._could_not("judge", test, "it keeps the outcome stock Trial gives it")
        return janitor is not None and not janitor()

    def _could_not(self, what: str, test, consequence: str) -> None:
        """Say that something of ours broke; the run goes on."""
        error = traceback.format_exc()
        try:
            test_id = test.id()
        except Exception:
            test_id = repr(test)
        last = error.strip().splitlines()[-1] if error.strip() else "?"
        self._warn(
            f"could not {what} {test_id}: {last}\n"
            f"(a fault in trial-strictclean, not in the test: {consequence}; "
            "the traceback is in test.log)"
        )
        log.msg(f"trial-strictclean could not {what} {test_id}:\n{error}")


# What became of each kind of record once the test was judged:
# (removed or cancelled by us, gone during the spin, left as it was after
# a synchronous test).
_RECORD_AFTERMATH = {
    "asyncio-task": (
        "cancelled after the test (its cancellation ran before the next test)",
        "it finished when the reactor was spun after the test",
        "left pending: nothing is cleaned up after a synchronous test",
    ),
    "asyncio-handle": (
        "cancelled after the test",
        "it ran when the reactor was spun after the test",
        "left scheduled: nothing is cleaned up after a synchronous test",
    ),
    "system-event-trigger": (
        "removed from the reactor after the test",
        "it was removed when the reactor was spun after the test",
        "left registered: nothing is cleaned up after a synchronous test",
    ),
    "log-observer": (
        "removed from the global log publisher after the test",
        "it was removed when the reactor was spun after the test",
        "left registered: nothing is cleaned up after a synchronous test",
    ),
}


def _record_kind(record: Registered) -> str:
    how = record.how
    if how == "create_task":
        return "asyncio-task"
    if how in ("call_soon", "call_later", "call_at"):
        return "asyncio-handle"
    if how == "addObserver":
        return "log-observer"
    return "system-event-trigger"


def _aftermath(kind: str, subject, cancelled, removed, spun: bool, left_alone: str) -> str | None:
    """What became of a leftover once the test was judged, in words."""
    if kind == "unhandled-error":
        return "defused after the test: it will not be logged later, against another test"
    if isinstance(subject, threading.Thread):
        return "left running: trial-strictclean never stops a thread"
    if isinstance(subject, Registered):
        done, gone, untouched = _RECORD_AFTERMATH[_record_kind(subject)]
        if not spun:
            return untouched
        if id(subject) in cancelled or id(subject) in removed:
            return done
        return gone
    if not spun:
        return left_alone
    if isinstance(subject, DelayedCall):
        if id(subject) in cancelled:
            return "cancelled after the test, as Trial's janitor does"
        if subject.called and kind == "listening-port-closing":
            return "it finished closing when the reactor was spun after the test, as Trial's janitor does"
        if subject.called:
            return "it ran when the reactor was spun after the test, as Trial's janitor does"
        return "cancelled by its owner when the reactor was spun after the test"
    if isinstance(subject, _ThreadWork):
        return "left running in the reactor's thread pool"
    pipes = getattr(subject, "pipes", None)
    if isinstance(pipes, dict):
        note = "left running: trial-strictclean never kills a process"
        if any(id(p) in removed for p in pipes.values()):
            note += "; its pipes were removed from the reactor"
        return note
    if id(subject) in removed:
        return "removed from the reactor after the test (its socket left open), as Trial's janitor does"
    if getattr(subject, "disconnected", False):
        return "it finished closing when the reactor was spun after the test"
    return "it left the reactor when the reactor was spun after the test"


def _pairs_kept(findings, subjects, kept: set) -> tuple[list, list]:
    pairs = [(f, s) for f, s in zip(findings, subjects) if id(f) in kept]
    return [f for f, _ in pairs], [s for _, s in pairs]


def _with_aftermath(finding: Finding, after: str | None) -> Finding:
    if after is None:
        return finding
    return replace(finding, after=after, message=f"{finding.message} After the test: {after}.")


def _undescribed(left) -> tuple[list, list]:
    """Bare findings, and their objects, for when diagnosis itself failed."""
    groups = (
        ("delayed-call", left.calls),
        ("reader", left.readers),
        ("writer", left.writers),
        ("process-running", left.processes),
        ("thread-work", left.threads),
        ("thread-running", left.running_threads),
        ("asyncio-task", left.tasks),
        ("asyncio-handle", left.handles),
        ("system-event-trigger", left.triggers),
        ("log-observer", left.observers),
    )
    findings, subjects = [], []
    for kind, objects in groups:
        for obj in objects:
            text = f"a {type(obj).__name__}"
            findings.append(
                Finding(
                    kind=kind,
                    resource=text,
                    state="unknown",
                    message=f"The test left {text} in the reactor (no further detail: see the note above).",
                )
            )
            subjects.append(obj)
    return findings, subjects
