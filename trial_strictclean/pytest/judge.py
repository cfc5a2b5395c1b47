"""
When a pytest test is done and where its verdict goes.

- A test is watched from the start of its setup to the end of its teardown
  (its function-scoped fixtures finalized), and judged then, before anything
  runs the reactor again; a dirty test gets an error in its teardown phase
  whose text is the block Trial users read (``render.text``).
- What a fixture with a wider scope (class, module, package, session)
  creates while it is set up or finalized belongs to it, never to the test
  that happened to request it first; it is judged when it is finalized, and
  what it still holds then is reported at the teardown of the test during
  which pytest finalized it (where pytest reports its errors too).
- Nothing is spun, cancelled or removed after a test: pytest-twisted leaves
  the reactor alone between tests, and so do we (docs/pytest.rst).
- Under pytest-xdist each worker judges its tests; the findings travel with
  the teardown report, and the process that writes reports (the controller,
  or the only process) keeps the records, the summary and the JSON file.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import pytest

from ..core import capture, config as settings_module
from ..core.findings import ATTRIBUTE, Finding
from ..core.ignore import Ignored
from ..core.inspection import Leftovers, Window, merge, still_held
from ..core.session_factory import new_session
from ..render.report_files import Reports, check_writable

LEFT_ALONE = (
    "left in the reactor, as pytest-twisted leaves it: it runs or stays "
    "pending when a later test runs the reactor"
)
_WIDER = ("class", "module", "package", "session")


class DirtyReactor(Exception):
    """A test (or a fixture finalized during its teardown) left the reactor dirty."""

    def __init__(self, findings, text: str) -> None:
        super().__init__(text)
        self.findings = tuple(findings)


DirtyReactor.__module__ = "trial_strictclean.pytest"


class _Test:
    """A pytest test (or fixture) as the core sees it: an id and a function."""

    _testMethodName = "function"
    # Not wrapped (Session's _unwrapped stops at once).
    _originalTest = None

    def __init__(self, nodeid: str, function) -> None:
        self.nodeid = nodeid
        self.function = function

    def id(self) -> str:
        return self.nodeid


class _ItemTest(_Test):
    """
    A pytest test: its function is read from the item only when the core
    asks (a dirty test's description, its markers), not for every test.
    """

    def __init__(self, nodeid: str, item) -> None:
        self.nodeid = nodeid
        self._item = item

    @property
    def function(self):
        return getattr(self._item, "obj", None)


_classes: dict = {}
# The last parent node seen and the kind of _Test its items get: the tests of
# one module or class follow each other, and ``item.cls`` walks up the tree.
_last_kind: list = [None, _ItemTest]


def _test_of(item) -> _Test:
    parent = getattr(item, "parent", None)
    if parent is not None and parent is _last_kind[0]:
        return _last_kind[1](item.nodeid, item)
    cls = getattr(item, "cls", None)
    kind = _ItemTest
    if cls is not None:
        # Class-level @ignore_leftovers: the core reads markers from the
        # test's class hierarchy, so give it a class that carries them.
        kind = _classes.get(cls)
        if kind is None:
            markers = tuple(m for c in cls.__mro__ for m in c.__dict__.get(ATTRIBUTE, ()))
            kind = _classes[cls] = type("PytestTest", (_ItemTest,), {ATTRIBUTE: markers})
    if parent is not None:
        _last_kind[:] = [parent, kind]
    return kind(item.nodeid, item)


class _Owner:
    """A fixture with a wider scope and what it created."""

    def __init__(self, fixturedef) -> None:
        self.fixturedef = fixturedef
        self.objects = Leftovers()
        self.window = None
        # The fixture's era (capture.Era), and the one its teardown
        # interrupted, to go back to.
        self.previous = None
        func = fixturedef.func
        code = getattr(func, "__code__", None)
        where = f", {_relative(code.co_filename)}:{code.co_firstlineno}" if code else ""
        self.name = f"fixture '{fixturedef.argname}' ({fixturedef.scope} scope{where})"
        base = fixturedef.baseid or ""
        self.test = _Test(f"{base}::{fixturedef.argname}" if base else fixturedef.argname, func)
        self.era = capture.Era(self.name)


def _relative(path: str) -> str:
    root = os.path.join(os.getcwd(), "")
    return path[len(root) :] if path.startswith(root) else path


class StrictClean:
    """The registered plugin object of a ``pytest --strictclean`` run."""

    def __init__(self, config, shared: str) -> None:
        self.config = config
        self.root = str(config.invocation_params.dir)
        # Where report locations (node ids, ``report.location``) start from.
        self.rootpath = str(config.rootpath)
        self.shared = shared
        try:
            settings = settings_module.load(self.root)
            check_writable(settings)
        except settings_module.ConfigError as error:
            raise pytest.UsageError(f"trial-strictclean: configuration error: {error}") from None
        self.settings = settings
        # Creation sites for what test modules create while being imported.
        capture.install()
        self.is_worker = hasattr(config, "workerinput")
        self._findings: list = []
        # (fixture, findings) of fixtures finalized during this teardown.
        self._owned: list = []
        self.session = new_session(self.root, settings, self._warn, self._report)
        self.session.left_alone = LEFT_ALONE
        # Fixes in pytest's idiom: a fixture's teardown, not self.addCleanup.
        self.session.runner = "pytest"
        self.session.assign = self._assign
        self.session.reported = _raised_into_pytest
        # Owners finalized during the teardown being judged: their ports
        # still own the server ends that test left.
        self._finished: list = []
        # Fixtures whose server ends the test being judged left open.
        self._shared_now: list[str] = []
        # What earlier tests left (and the objects behind it), by id: what
        # they create while a later test runs the reactor is theirs.
        self._earlier: dict[int, object] = {}
        self.inherited = 0
        # Of what this process did not blame (``_not_blamed``), how much
        # its reports carried; in the xdist controller, what they brought.
        self._sent = 0
        self._received = 0
        # Faults of ours, once per step: printed at the end of the run.
        self._notes: list[str] = []
        self._failed_steps: set = set()
        # Notes not yet handed to a report (in a worker, the only way out),
        # and, where reports arrive, the notes they brought.
        self._notes_sent = 0
        self._shown_notes: list[str] = []
        # Reports are kept where the results arrive: not in an xdist worker.
        self.reports = None if self.is_worker else Reports(settings, self.root, warn=self._warn)
        # Where passed phases need no record (pytest_runtest_logreport).
        self._passes_unrecorded = self.reports is not None and not self.reports.outcomes.every_test
        self._test = None
        # The test during which fixture ownership failed: not judged.
        self._unsure = None
        self._judging = None
        # The item just judged here, until its teardown report goes by
        # (pytest_runtest_logreport), and its verdict, if it has anything
        # to carry to that report (_judge).
        self._judged = None
        self._verdict = None
        self._owners: dict = {}
        # What outlived every test in each xdist worker (controller).
        self._workers_run_level: list = []
        # Server ends counted against their fixture (practical reading).
        self.shared_ends: dict[str, list[str]] = {}

    # -- the core's callables ---------------------------------------------

    def _warn(self, text: str) -> None:
        sys.stderr.write(f"\ntrial-strictclean: {text}\n")

    def _could_not(self, what: str, step: str) -> None:
        """
        A step of ours failed: say so once per step and process; the run
        goes on.  Printed at the end (``pytest_terminal_summary``): written
        now, inside a test's phase, pytest's capture would swallow it.
        """
        if step in self._failed_steps:
            return
        self._failed_steps.add(step)
        last = traceback.format_exc().strip().splitlines()[-1]
        self._notes.append(
            f"could not {what}: {last} (a fault in trial-strictclean, not in the tests; their outcomes stand; "
            "later faults of this step are not repeated)"
        )

    def _could_not_own(self, what: str, step: str) -> None:
        """
        A step of fixture ownership failed: what the fixture created may
        now look like the running test's, so that test gets no verdict
        from us (pytest's own outcome stands), as after any fault of ours.
        """
        self._could_not(what, step)
        if self._test is not None:
            self._unsure = self._test

    def _report(self, test, result, findings) -> bool:
        if self._shared_now and test is self._judging:
            # Strict reading: the test's server ends name the fixture.
            findings = [_shared(f, self._shared_now) for f in findings]
        result.extend(findings)
        return True

    def _assign(self, test, left: Leftovers) -> Leftovers:
        """
        The test's own leftovers.  Not its own: what a leftover of an
        earlier test created while this one ran the reactor (a connector
        that went on connecting, a loop re-armed), and, under the practical
        reading, server ends on ports owned by a wider fixture.  Notes which
        server ends of such ports the test left, for the summary.
        """
        earlier = self._earlier
        ports = {}
        for owner in list(self._owners.values()) + self._finished:
            for reader in owner.objects.readers:
                ports[id(reader)] = owner
        mine = Leftovers([], [], [], left.processes, left.threads)
        for call in left.calls:
            if id(getattr(call.func, "__self__", None)) in earlier:
                self.inherited += 1
            else:
                mine.calls.append(call)
        for group in ("readers", "writers"):
            for obj in getattr(left, group):
                if id(obj) in earlier or any(
                    id(getattr(obj, name, None)) in earlier for name in ("connector", "server", "protocol")
                ):
                    self.inherited += 1
                    continue
                owner = ports.get(id(getattr(obj, "server", None)))
                if owner is not None and owner.name not in self._shared_now:
                    self._shared_now.append(owner.name)
                if owner is None or self.shared == "strict":
                    getattr(mine, group).append(obj)
        for obj in mine.calls:
            owner = getattr(obj.func, "__self__", None)
            self._remember(owner)
            self._remember(getattr(owner, "connector", None))
        for obj in mine.readers + mine.writers:
            self._remember(obj)
            for name in ("connector", "protocol"):
                self._remember(getattr(obj, name, None))
        return mine

    def _not_blamed(self) -> int:
        """Objects made by older things (earlier tests' leftovers, fixtures) not blamed here."""
        return self.inherited + self.session.not_theirs

    def _remember(self, obj) -> None:
        # Held, so that their ids are not reused; only leftovers are kept.
        if obj is not None and len(self._earlier) < 10_000:
            self._earlier[id(obj)] = obj

    # -- when a test is done ----------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        self._test = _test_of(item)
        self.session.start(self._test)
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        test = self._test
        try:
            outcome = yield
        except BaseException:
            self._judge(item, test)
            raise
        finally:
            self._test = None
        verdict = self._judge(item, test)
        if verdict is not None and verdict[0]:
            raise DirtyReactor(verdict[0], verdict[1])
        return outcome

    def _judge(self, item, test):
        """
        Judge ``test``; its verdict, (findings, text, ignored, shared), is
        kept for the item's teardown report (made right after this
        teardown), or None for a clean test with nothing to carry.
        """
        owned = self._owned
        if owned:
            self._owned = []
        found = []
        try:
            if test is not None and test is self._unsure:
                self.session.stop(test)
            elif test is not None:
                self._judging = test
                try:
                    # Reads the fixtures finalized in this teardown
                    # (self._finished) and notes shared server ends.
                    self.session.judge(test, found)
                finally:
                    self._judging = None
                    self.session.stop(test)
            triage = self.session.triage
            shared = self._shared_now
            if not (found or owned or triage.ignored or shared):
                verdict = None
            else:
                findings = found + [f for _, group in owned for f in group]
                verdict = (findings, _text(found, owned, self.root), triage.take_ignored(), shared)
        except Exception:
            # Never an error in the user's run because of us.
            self._could_not(f"judge {item.nodeid}", "judge")
            verdict = None
        if self._shared_now or verdict is not None:
            self._shared_now = []
        if self._finished:
            self._finished = []
        self._unsure = None
        self._judged = item
        self._verdict = verdict
        return verdict

    # -- fixtures with a wider scope ----------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if fixturedef.scope not in _WIDER or self._test is None:
            return (yield)
        from twisted.internet import reactor

        try:
            owner = _Owner(fixturedef)
            window = Window(reactor)
        except Exception:
            self._could_not_own(f"look at the reactor around fixture {fixturedef.argname!r}", "window")
            return (yield)
        # Finalizers run last-in first-out: this one runs after the
        # fixture's own teardown...
        fixturedef.addfinalizer(lambda: self._finalized(owner))
        # What the fixture starts, and what the reactor later does for it
        # (a Site's re-armed timer), is of its era, not of any test's.
        previous = capture.enter(owner.era)
        try:
            return (yield)
        finally:
            capture.enter(previous)
            self._take(owner, window)
            self._owners[id(fixturedef)] = owner
            # ... and this one before it.
            fixturedef.addfinalizer(lambda: self._finalizing(owner))

    def _take(self, owner: _Owner, window: Window) -> None:
        from twisted.internet import reactor

        try:
            created = window.created(reactor)
            owner.objects = merge(owner.objects, created)
            self.session.disown(created)
        except Exception:
            self._could_not_own(f"note what {owner.name} created", "take")

    def _finalizing(self, owner: _Owner) -> None:
        from twisted.internet import reactor

        owner.previous = capture.enter(owner.era)
        try:
            owner.window = Window(reactor)
        except Exception:
            self._could_not_own(f"look at the reactor before {owner.name} is finalized", "finalizing")

    def _finalized(self, owner: _Owner) -> None:
        if owner.previous is not None:
            capture.enter(owner.previous)
        try:
            self._judge_finalized(owner)
        except Exception:
            self._could_not(f"judge {owner.name} as it was finalized", "finalized")

    def _judge_finalized(self, owner: _Owner) -> None:
        from twisted.internet import reactor

        self._owners.pop(id(owner.fixturedef), None)
        self._finished.append(owner)
        if owner.window is not None:
            self._take(owner, owner.window)
        # owner.objects stays until the test is judged: its ports still own
        # the server ends that test left (``_assign``).
        left = still_held(reactor, owner.objects)
        if not left:
            return
        found: list = []
        self.session.judge_left(owner.test, found, left)
        if not found:
            return
        prefix = f"Owned by {owner.name}, judged when it was finalized: "
        found = [_owned(f, prefix) for f in found]
        if self._test is None:
            self._warn(f"{owner.name} left the reactor dirty after the last test:\n{_text([], [(owner.name, found)], self.root)}")
        else:
            self._owned.append((owner.name, found))

    # -- results, wherever they arrive --------------------------------------

    def _carry(self, report) -> None:
        """
        Put on the teardown report of the test judged here its verdict, and
        what this process has not yet reported: the count of objects not
        blamed, our notes (from an xdist worker, reports are the only way
        out).
        """
        item, self._judged = self._judged, None
        verdict, self._verdict = self._verdict, None
        if verdict is not None and report.nodeid == item.nodeid:
            findings, text, ignored, shared = verdict
            if findings:
                report.strictclean = [f.to_dict() for f in findings]
                if report.failed and _dirty_reactor(report):
                    report.longrepr = text.rstrip("\n")
                else:
                    report.sections.append(("trial-strictclean", text))
            if ignored:
                report.strictclean_ignored = [i.to_dict() for i in ignored]
            if shared:
                report.strictclean_shared = list(shared)
        # self._not_blamed(), inlined: once per test.
        unsent = self.inherited + self.session.not_theirs - self._sent
        if unsent:
            report.strictclean_inherited = unsent
            self._sent += unsent
        if len(self._notes) > self._notes_sent:
            report.strictclean_notes = self._notes[self._notes_sent :]
            self._notes_sent = len(self._notes)

    # First of all: the teardown report of a test judged here gets what it
    # carries before anything reads it (xdist's serialization in a worker,
    # -x, --lf, junitxml, the terminal).  Done here rather than in a
    # pytest_runtest_makereport wrapper, which pluggy would call, as a
    # generator, for each of the three phases of every test.
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report) -> None:
        if self._judged is not None and report.when == "teardown":
            self._carry(report)
        # ``outcome`` rather than the ``passed`` property: one Python call
        # fewer, three times per test.
        if self._passes_unrecorded and report.outcome == "passed":
            # Nothing to keep: a passed phase is recorded only when a report
            # file lists every test.  Nor a JUnit file to rewrite
            # (reports.test_done): there is none when not every test is
            # recorded.  What a passed phase may still bring is an
            # unexpected success (``wasxfail``, on a call) or what a test
            # judged here or in an xdist worker carries (on a teardown):
            # nothing on a setup.
            when = report.when
            if when == "setup" or not _has_ours(report, when):
                return
        reports = self.reports
        if reports is None:
            return
        outcomes = reports.outcomes
        test = _Reported(report, self.rootpath)
        when = report.when
        if when == "setup":
            outcomes.start(test)
        wasxfail = hasattr(report, "wasxfail")
        if report.skipped:
            if wasxfail:
                outcomes.expected_failure(test, report.wasxfail or "xfail")
            elif when != "teardown":
                outcomes.skip(test, _skip_reason(report))
        elif report.failed:
            findings = [Finding.from_dict(d) for d in getattr(report, "strictclean", ())]
            if findings:
                outcomes.dirty(test, findings)
            if not (findings and when == "teardown" and _ours(report.longreprtext)):
                flavor = "failure" if when == "call" else "error"
                outcomes.failure(test, report.longreprtext or "failed", flavor)
        elif when == "call":
            if wasxfail:
                outcomes.unexpected_success(test)
            else:
                outcomes.success(test)
        ignored = getattr(report, "strictclean_ignored", ())
        if ignored:
            self.reports.triage.merge([Ignored.from_dict(d) for d in ignored])
        for note in getattr(report, "strictclean_notes", ()):
            if note not in self._shown_notes:
                self._shown_notes.append(note)
        if hasattr(report, "node"):
            # From an xdist worker (the controller names the worker on
            # each report), which counted them: here only what reports carry.
            self._received += getattr(report, "strictclean_inherited", 0)
        for owner in getattr(report, "strictclean_shared", ()):
            tests = self.shared_ends.setdefault(owner, [])
            if report.nodeid not in tests:
                tests.append(report.nodeid)
        if when == "teardown":
            outcomes.stop(test)
            self.reports.test_done()

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.reports is None:
            return
        reports = self.reports
        written = reports.finish()
        records = reports.outcomes.records()
        ignored, stale = reports.triage.ignored, reports.triage.stale()
        text = ""
        # A clean run without report files has nothing to summarise: the
        # renderers are then never imported (each module costs the run its
        # import: docs/internals.rst, "Cost of capture").
        if records or ignored or stale or written or reports.run_level:
            from ..render.summary import render_run_level, render_summary

            block = render_run_level(reports.run_level, self.root)
            text = render_summary(
                records,
                ignored,
                stale,
                written,
                run_level=reports.run_level,
                run_level_fails=reports.config.end_of_run == "fail",
            )
            text = block + text if block else text
            text = text.replace("trial-strictclean summary", "trial-strictclean summary (pytest)", 1) if text else text
        lines = []
        if self.shared_ends:
            lines.append("")
            how = (
                "errors at their teardown (--strictclean-shared=strict)"
                if self.shared == "strict"
                else "not failed: counted against the fixture (--strictclean-shared=practical)"
            )
            lines.append(f"server ends of a shared server left open by tests, {how}:")
            for owner, tests in self.shared_ends.items():
                more = " ..." if len(tests) > 5 else ""
                lines.append(f"  {owner}: {len(tests)} tests: {', '.join(tests[:5])}{more}")
            lines.append("  wait for them with: await trial_strictclean.testing.server_ends_closed(port)")
        notes = self._shown_notes + [n for n in self._notes if n not in self._shown_notes]
        if notes:
            lines.append("")
            lines.extend(f"trial-strictclean: {note}" for note in notes)
        inherited = self._not_blamed() + self._received
        if inherited and not self.is_worker:
            lines.append("")
            lines.append(
                f"{inherited} objects created by leftovers of earlier tests while later tests ran "
                "the reactor were not blamed on the later tests"
            )
        if text or lines:
            terminalreporter.write_sep("=", "trial-strictclean")
            for line in (text.strip("\n") + "\n" + "\n".join(lines)).strip("\n").splitlines():
                terminalreporter.write_line(line)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """xdist controller: what outlived every test in that worker."""
        try:
            text = getattr(node, "workeroutput", {}).get(_RUN_LEVEL_KEY)
            if text:
                self._workers_run_level += [Finding.from_dict(f) for f in json.loads(text)]
        except Exception:
            self._could_not("read what outlived a worker's tests", "run-level")

    def pytest_sessionfinish(self, session) -> None:
        # After the last test's teardown (every wider fixture finalized),
        # before pytest-twisted stops the reactor (pytest_unconfigure).
        try:
            found = self.session.finish()
        except Exception:
            self._could_not("look at the reactor at the end of the run", "run-level")
            found = []
        if self.is_worker:
            try:
                session.config.workeroutput[_RUN_LEVEL_KEY] = json.dumps([f.to_dict() for f in found])
            except Exception:
                self._could_not("send what outlived the tests to the controller", "run-level")
            return
        if self.reports is not None:
            self.reports.run_level = found + self._workers_run_level
            if self.reports.run_failed() and session.exitstatus == 0:
                # end-of-run = "fail": the run fails, no test does.
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            self.reports.finish()


# The key of an xdist worker's output that carries what outlived its tests.
_RUN_LEVEL_KEY = "trial_strictclean_run_level"


def _text(findings: list, owned: list, root: str) -> str:
    """The test's block, then one block per fixture finalized in its teardown."""
    if not findings and not owned:
        return ""
    from ..render.text import WIDTH, render, wrap

    blocks = [render(findings, root)] if findings else []
    for name, group in owned:
        # The core's headline is a paragraph (wrapped at 80 columns) that
        # speaks of a test: say the fixture's instead, keep the items.
        head, _, rest = render(group, root).partition("\n\n")
        head = " ".join(head.split())
        noun = head[head.index("(") : head.index(")") + 1]
        lead = (
            f"The {name} left the reactor dirty when pytest finalized it {noun}; "
            "what a fixture creates is its own: its teardown must wait for or close each one."
        )
        blocks.append("\n".join(wrap(lead, WIDTH)) + "\n\n" + rest)
    return "\n".join(blocks)


def _shared(finding: Finding, owners: list) -> Finding:
    """A server end of a shared server, in the strict reading: say whose."""
    if finding.side != "server" or not finding.kind.startswith("connection-"):
        return finding
    from ..core.findings import replace

    note = (
        f" The server belongs to {' and '.join(owners)}: this end of the test's connection is the test's to wait for "
        "(await trial_strictclean.testing.server_ends_closed(port) after closing the client), "
        "or run with --strictclean-shared=practical to count it against the fixture."
    )
    return replace(
        finding,
        message=finding.message + note,
        detail=(finding.detail or finding.message) + note,
    )


def _owned(finding: Finding, prefix: str) -> Finding:
    from ..core.findings import replace

    return replace(
        finding,
        message=prefix + finding.message,
        detail=prefix + (finding.detail or finding.message),
    )


# pytest's own modules: an error whose traceback passes through one was
# raised into pytest, which reported it.
_PYTEST_PRIVATE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(pytest.__file__))), "_pytest", "")


def _raised_into_pytest(failure) -> bool:
    """
    Whether the error of this unhandled failure went up into pytest, which
    reported it as a test's or a fixture's outcome.  pytest-twisted waits
    for a test (and an async fixture) through a Deferred, raises its
    failure into pytest and leaves the failure in that Deferred: without
    this, every failing test would also get an "unhandled error" at its
    teardown.  Asked only of unhandled failures, which are rare.
    """
    entry = getattr(getattr(failure, "value", None), "__traceback__", None)
    while entry is not None:
        if entry.tb_frame.f_code.co_filename.startswith(_PYTEST_PRIVATE):
            return True
        entry = entry.tb_next
    return False


def _has_ours(report, when: str = "") -> bool:
    """
    Whether the report carries anything of ours, or is an unexpected
    success.  Of a call's report, only the latter: ``_carry`` puts ours on
    teardown reports only.
    """
    # Twice per test: one look at the instance's attributes, where pytest,
    # xdist and we put these, rather than six hasattr().
    plain = _plain_reports.get(type(report))
    if plain is None:
        plain = _plain_reports[type(report)] = _plain(type(report))
    if plain:
        if when == "call":
            return "wasxfail" in report.__dict__
        return not _OURS.isdisjoint(report.__dict__)
    return any(hasattr(report, name) for name in _OURS)


_plain_reports: dict = {}


def _plain(cls) -> bool:
    """Whether ``hasattr`` on instances of ``cls`` only looks in their ``__dict__`` for our names."""
    return (
        hasattr(cls, "__dict__")
        and "__dict__" in dir(cls)
        and not hasattr(cls, "__getattr__")
        and not any(hasattr(cls, name) for name in _OURS)
    )


# How pytest states the teardown's exception when it is our DirtyReactor
# (``report.longrepr.reprcrash.message``, whatever --tb says).
_DIRTY_REACTOR = f"{DirtyReactor.__module__}.{DirtyReactor.__qualname__}: "


def _dirty_reactor(report) -> bool:
    """Whether the report's phase failed with our DirtyReactor (not another error of its teardown)."""
    message = getattr(getattr(report.longrepr, "reprcrash", None), "message", None)
    return isinstance(message, str) and message.startswith(_DIRTY_REACTOR)


def _ours(text: str) -> bool:
    return text.startswith("This test left") or (text.startswith("The fixture '") and "left the reactor dirty" in text)


class _Reported:
    """
    A test as its reports name it (in the controller there is no item).
    The records read where a test is defined from its function's code
    (``function.__code__``: file and first line, as for a Trial test);
    here that is the report's location, as pytest found it on the item
    (``item.reportinfo()``), relative to the rootdir, its line counted
    from 0.
    """

    _testMethodName = "function"

    def __init__(self, report, rootpath: str) -> None:
        self.nodeid = report.nodeid
        self.function = None
        location = getattr(report, "location", None)
        if location and location[0] and location[1] is not None:
            self.function = _Where(os.path.join(rootpath, location[0]), location[1] + 1)

    def id(self) -> str:
        return self.nodeid


class _Where:
    """A file and a first line, in the shape of a function's code object."""

    def __init__(self, filename: str, line: int) -> None:
        self.__code__ = self
        self.co_filename = os.path.normpath(filename)
        self.co_firstlineno = line


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


# Report attributes of ours, carried from an xdist worker to the controller
# as pytest carries any attribute of a report: its serialization copies the
# report's __dict__, and TestReport(**data) sets what it does not know as
# attributes.  No report_to/from_serializable wrapper of ours (three calls
# per test in each process) adds anything to that.
_CARRIED = (
    "strictclean", "strictclean_ignored", "strictclean_shared", "strictclean_inherited", "strictclean_notes",
)
_OURS = frozenset(_CARRIED + ("wasxfail",))

