"""
``trial -j N``: each test is judged in the worker that runs it, by a session
built exactly as in a single process (session_factory.py), and what the
main process needs reaches it as data:

- a dirty test's findings, inside the error message Trial's worker protocol
  already sends: a headline, then one marked line of JSON;
- after each test, what the worker's triage ignored (the summary counts it
  and stale rules are found from it, as in one process) and how long the
  test ran in the worker, in one AMP command of ours (``TestDone``).  The
  main process replays a worker's results all at once when the test ends
  (Trial's ``DistReporter``), so its own clock would say about zero.

Why the workers triage: a verdict changes what Trial does next with the
test (an accepted leftover must let its success through), and only the
process running the test can do that before Trial moves on.

Workers get only a few of Trial's options, never ``--reporter``, so the main
process (which imported our reporter, so the user asked for it) starts them
through ``worker_main`` instead of Trial's worker script, and passes what
they need in one environment variable.  A worker started by a run without
our reporter is never touched.

Ctrl-C (``interrupt.py``): the main process stops handing out tests, and a
worker reports the test it interrupted as a ``KeyboardInterrupt`` error,
which reaches the main process as it would for any error; a worker that got
Ctrl-C runs no further test it is sent.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass

from twisted.protocols import amp

from . import interrupt
from .verdict import Delivery, DirtyReactor, decode

# What a worker needs from the main process: the run's root and whether
# --unclean-warnings was given.  Not under the TRIAL_STRICTCLEAN_ prefix,
# which is for the user's settings; the worker removes it from its
# environment so that a trial its tests start does not inherit it.
WORKER_VARIABLE = "_TRIAL_STRICTCLEAN_WORKER"

# What the worker process runs instead of twisted/trial/_dist/workertrial.py.
_WORKER_CODE = "from trial_strictclean.trial.distributed import worker_main; worker_main()"

# True in the main process of trial -j once its workers are started: the
# workers judge the tests, so the main process need not look at its reactor.
workers_judge = False

# In the main process: whether the runner about to start workers was given
# --unclean-warnings (Trial does not pass it on to workers).
_unclean_warnings = False

# An AMP value holds at most 65,535 bytes; a character takes at most four.
_PART = 16_000


class TestDone(amp.Command):
    """A worker's account of one test: a JSON text, in parts if long."""

    commandName = b"trial-strictclean-test-done"
    arguments = [(b"part", amp.Unicode()), (b"last", amp.Boolean())]
    # Nothing waits for an answer: the worker's next message (the end of
    # Trial's Run command) follows it on the same pipe, so the main process
    # always has it before it reports the test.
    requiresAnswer = False


class RunLevel(amp.Command):
    """
    Main process to a worker, once the run's tests are done: what outlived
    every test in that worker (Session.finish), as JSON, part by part.
    """

    commandName = b"trial-strictclean-run-level"
    arguments = [(b"part", amp.Integer())]
    response = [(b"text", amp.Unicode()), (b"more", amp.Boolean())]


# Main process: what outlived every test in each worker, as the workers
# answered RunLevel (the reporter takes it when the run is done).
run_level: list = []


@dataclass(frozen=True)
class WorkerReport:
    """What a worker says about a test beyond Trial's own results."""

    test_id: str
    duration: float | None
    ignored: tuple = ()
    # What the worker's session had to say while judging (a fault of ours),
    # for the main process to print where the user reads the run.
    notes: tuple[str, ...] = ()
    # Leftovers made, while the test ran, for work begun before it: not
    # blamed on it (Session.not_theirs), counted in the summary.
    not_theirs: int = 0

    def to_json(self) -> str:
        data = {
            "test": self.test_id,
            "duration": self.duration,
            "ignored": [i.to_dict() for i in self.ignored],
            "notes": list(self.notes),
            "not_theirs": self.not_theirs,
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WorkerReport:
        from ..core.ignore import Ignored

        data = json.loads(text)
        duration = data.get("duration")
        return cls(
            str(data.get("test", "")),
            float(duration) if duration is not None else None,
            tuple(Ignored.from_dict(i) for i in data.get("ignored", ())),
            tuple(str(n) for n in data.get("notes", ())),
            int(data.get("not_theirs", 0) or 0),
        )


# Main process: worker reports by test id, until the test's stopTest takes
# them (a list: the same test may run twice in one run).
_arrived: dict[str, list[WorkerReport]] = {}


def take(test) -> WorkerReport | None:
    """The worker's report on ``test``, once; None if none came."""
    reports = _arrived.get(test.id())
    if not reports:
        return None
    report = reports.pop(0)
    if not reports:
        del _arrived[test.id()]
    return report


def _received(protocol, box) -> None:
    """Main process: keep one part of a worker's TestDone."""
    # Whatever happens here must not raise: AMP drops the connection to the
    # worker on an unhandled error, and every later test would be lost.
    try:
        arguments = TestDone.parseArguments(box, protocol)
        parts = protocol.__dict__.setdefault("_strictclean_parts", [])
        parts.append(arguments["part"])
        if not arguments["last"]:
            return
        text = "".join(parts)
        parts.clear()
        report = WorkerReport.from_json(text)
        # Filed under the test the main process is running on this worker,
        # as its reporter will name it (LocalWorkerAMP keeps it, 22.10 to
        # 26.10); the worker's name for it is the same for every test
        # Trial can send to a worker by name.
        case = getattr(protocol, "_testCase", None)
        key = case.id() if case is not None else report.test_id
        _arrived.setdefault(key, []).append(report)
    except Exception as error:
        _warn(f"could not read a worker's account of a test: {error!r}")


def install_main(root: str, check=None) -> None:
    """
    In the main process: start workers that inspect.  ``check`` runs
    before any worker starts, and may stop the run (a configuration error).
    """
    try:
        from twisted.trial._dist.disttrial import DistTrialRunner, WorkerPool
        from twisted.trial._dist.worker import LocalWorker, LocalWorkerAMP
    except ImportError:
        return
    if getattr(WorkerPool, "_strictclean", False):
        return
    original = WorkerPool._launchWorkerProcesses

    def _launchWorkerProcesses(self, spawner, protocols, arguments):
        from twisted.internet import reactor as installed

        if getattr(spawner, "__self__", None) is not installed:
            # Not the run's own pool: a test of Trial's -j machinery, with a
            # fake spawner or reactor.  Leave it exactly as Trial made it.
            return original(self, spawner, protocols, arguments)

        global workers_judge
        workers_judge = True
        # Before the reporter's own (made later, once the workers run).
        interrupt.install("main")
        setup = json.dumps({"root": root, "unclean_warnings": _unclean_warnings})

        def spawn(protocol, executable, args, env=None, **kwargs):
            # args is [python, path/to/workertrial.py, *trial's arguments].
            args = [args[0], "-c", _WORKER_CODE, *args[2:]]
            env = dict(env if env is not None else os.environ)
            env[WORKER_VARIABLE] = setup
            process = spawner(protocol, executable, args=args, env=env, **kwargs)
            interrupt.worker_started(process, getattr(protocol, "_ampProtocol", None))
            return process

        return original(self, spawn, protocols, arguments)

    WorkerPool._launchWorkerProcesses = _launchWorkerProcesses
    WorkerPool._strictclean = True

    run_async = DistTrialRunner.runAsync

    def runAsync(self, *args, **kwargs):
        # The runner knows --unclean-warnings; its pool, which starts the
        # workers, does not.  runAsync starts the pool.
        global _unclean_warnings
        _unclean_warnings = bool(getattr(self, "_uncleanWarnings", False))
        if check is not None:
            # Our reporter is made only once the workers run; a mistake
            # found then stops the run under their feet, and Trial's AMP
            # prints a traceback for each.  Say it before they start.
            check()
        return run_async(self, *args, **kwargs)

    DistTrialRunner.runAsync = runAsync

    from twisted.python.failure import Failure


    build = LocalWorkerAMP._buildFailure
    name = f"{DirtyReactor.__module__}.{DirtyReactor.__name__}"

    def _buildFailure(self, error, errorClass, frames):
        # Give the reporter the same DirtyReactor a single process would.
        if errorClass == name:
            findings = decode(str(error))
            if findings is not None:
                return Failure(DirtyReactor(findings, root))
        return build(self, error, errorClass, frames)

    LocalWorkerAMP._buildFailure = _buildFailure

    _answer_also(LocalWorkerAMP, TestDone, _received)

    run_case = LocalWorkerAMP.run

    async def run(self, testCase, result):
        # After Ctrl-C no test goes out: it is left out of the reports.
        if interrupt.requested():
            return {"success": True}
        interrupt.busy(self, True)
        try:
            return await run_case(self, testCase, result)
        finally:
            interrupt.busy(self, False)

    LocalWorkerAMP.run = run

    leave = LocalWorker.exit

    async def exit(self):
        try:
            return await leave(self)
        except Exception:
            # After Ctrl-C a worker may have ended, or been killed, before
            # Trial joins it: nothing to say (Trial prints a traceback, and
            # on 22.10 its end, never awaited, is an unhandled error).
            if not interrupt.requested():
                raise
            end = getattr(self, "endDeferred", None)
            if end is not None:
                end.addErrback(lambda _: None)

    LocalWorker.exit = exit

    from twisted.trial._dist import disttrial

    run_tests = getattr(disttrial, "runTests", None)
    if run_tests is not None:

        async def runTests(pool, *args, **kwargs):
            outcome = await run_tests(pool, *args, **kwargs)
            # Before Trial writes the results (the reporter's done()).
            if workers_judge and not interrupt.requested():
                for worker in list(getattr(pool, "ampWorkers", ())):
                    await _ask_run_level(worker)
            return outcome

        disttrial.runTests = runTests


async def _ask_run_level(worker) -> None:
    """Main process: add what outlived every test in ``worker`` to ``run_level``."""
    from ..core.findings import Finding

    try:
        parts, part, more = [], 0, True
        while more:
            answer = await worker.callRemote(RunLevel, part=part)
            parts.append(answer["text"])
            more = answer["more"]
            part += 1
        run_level.extend(Finding.from_dict(f) for f in json.loads("".join(parts) or "[]"))
    except Exception as error:
        _warn(f"could not ask a worker what outlived its tests: {error!r}")


def _answer_run_level(session, box):
    """Worker: one part of what outlived every test here, for the main process."""
    from twisted.internet.defer import succeed

    try:
        part = RunLevel.parseArguments(box, None)["part"]
        text = json.dumps([f.to_dict() for f in session.finish()], separators=(",", ":"))
        chunk = text[part * _PART : (part + 1) * _PART]
        more = (part + 1) * _PART < len(text)
    except Exception as error:
        _warn(f"could not say what outlived the tests: {error!r}")
        chunk, more = "", False
    return succeed(RunLevel.makeResponse({"text": chunk, "more": more}, None))


def _answer_also(protocol_class, command, respond) -> None:
    """
    Have ``protocol_class`` answer ``command`` with ``respond(protocol,
    box)``: AMP's public way to answer one more command than a class lists.
    """
    locate = protocol_class.locateResponder

    def locateResponder(self, name):
        if name == command.commandName:
            return lambda box: respond(self, box)
        return locate(self, name)

    protocol_class.locateResponder = locateResponder


def _send(protocol, report: WorkerReport) -> None:
    """Worker: send ``report`` on the test that just stopped."""
    try:
        text = report.to_json()
        for start in range(0, len(text), _PART):
            protocol.callRemote(TestDone, part=text[start : start + _PART], last=start + _PART >= len(text))
    except Exception as error:
        _warn(f"could not send the account of a test: {error!r}")


def _worker_setup() -> dict:
    """What the main process passed; removed from the environment."""
    text = os.environ.pop(WORKER_VARIABLE, None)
    try:
        setup = json.loads(text) if text else {}
    except ValueError:
        setup = {}
    return setup if isinstance(setup, dict) else {}


def worker_main() -> None:
    """Trial's worker, with every test judged as in a single process."""
    from twisted.trial._dist import workertrial
    from twisted.trial._dist.workerreporter import WorkerReporter
    from twisted.trial.runner import TrialSuite

    from ..core import capture, markers
    from ..core.session_factory import new_session, worker_settings
    from . import glue
    setup = _worker_setup()
    root = setup.get("root") or os.getcwd()
    # In one process a dirty-reactor error reaches our reporter unless
    # --unclean-warnings put Trial's wrapper in between, which turns it
    # into a warning and lets the test's success through.  Here the error
    # goes on to the main process, whose wrapper does the same; the test's
    # success must come from here, so decide as that wrapper will.
    forwarded = not setup.get("unclean_warnings", False)
    # Before any test module is imported (the first test's Run command).
    markers.root = root

    capture.install()
    settings = worker_settings(root, _warn)
    delivery = Delivery(root)
    notes: list[str] = []

    def note(text: str) -> None:
        # Kept for the main process, which prints it; err.log keeps it too.
        notes.append(text)
        _warn(text)

    session = new_session(root, settings, note, delivery)
    timed = bool(settings.json or settings.junit_xml)
    DirtyReactor.wire = True
    glue.finish_at_bail = False
    glue.activate(session)

    start, stop, add_error = (
        WorkerReporter.startTest,
        WorkerReporter.stopTest,
        WorkerReporter.addError,
    )
    began = 0.0

    def startTest(self, test):
        nonlocal began
        start(self, test)
        # Timed as our reporter times a test in one process: around the
        # session's own work.
        began = time.perf_counter()
        session.start(test)

    def stopTest(self, test):
        session.stop(test)
        duration = time.perf_counter() - began if timed else None
        ignored = session.triage.take_ignored()
        not_theirs, session.not_theirs = session.not_theirs, 0
        if ignored or timed or notes or not_theirs:
            _send(self.ampProtocol, WorkerReport(test.id(), duration, tuple(ignored), tuple(notes), not_theirs))
            notes.clear()
        stop(self, test)

    def addError(self, test, error):
        if getattr(error, "check", None) and error.check(DirtyReactor):
            delivery.delivered = forwarded
        add_error(self, test, error)

    WorkerReporter.startTest = startTest
    WorkerReporter.stopTest = stopTest
    WorkerReporter.addError = addError

    from twisted.trial._dist.worker import WorkerProtocol

    _answer_also(WorkerProtocol, RunLevel, lambda protocol, box: _answer_run_level(session, box))
    # Each test the main process sends runs in a TrialSuite of its own.
    run_suite = TrialSuite.run

    def run(self, result):
        # Ctrl-C came before the main process stopped sending tests: this
        # one does not run (the main process leaves it out of the reports).
        if not interrupt.requested():
            return run_suite(self, result)

    TrialSuite.run = run
    interrupt.install("worker")
    workertrial.main()


def _warn(text: str) -> None:
    sys.stderr.write(f"trial-strictclean: {text}\n")
