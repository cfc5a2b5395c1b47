"""
``trial -j N``: each test is inspected in the worker that runs it, and its
findings travel to the reporter in the main process as data.

Workers get only a few of Trial's options, never ``--reporter``, so the main
process (which imported our reporter, so the user asked for it) starts them
through ``worker_main`` instead of Trial's worker script.  A worker started
by a run without our reporter is never touched.

The findings cross the process boundary inside the error message Trial's
worker protocol already sends: a headline, then one marked line of JSON.
"""

from __future__ import annotations

import json
import os
import sys

from .findings import Finding

ROOT_VARIABLE = "TRIAL_STRICTCLEAN_ROOT"
_MARK = "trial-strictclean-findings: "

# What the worker process runs instead of twisted/trial/_dist/workertrial.py.
_WORKER_CODE = "from trial_strictclean.distributed import worker_main; worker_main()"

# True in the main process of trial -j once its workers are started: the
# workers judge the tests, so the main process need not look at its reactor.
workers_judge = False


def encode(headline: str, findings) -> str:
    """The error message a worker sends for a dirty test."""
    payload = json.dumps([f.to_dict() for f in findings], separators=(",", ":"))
    return f"{headline}\n{_MARK}{payload}"


def decode(message: str) -> list[Finding] | None:
    """The findings inside a worker's error message, or None."""
    for line in message.splitlines():
        if line.startswith(_MARK):
            try:
                return [Finding.from_dict(d) for d in json.loads(line[len(_MARK) :])]
            except (ValueError, TypeError, KeyError):
                return None
    return None


def install_main(root: str) -> None:
    """In the main process: start workers that inspect."""
    try:
        from twisted.trial._dist.disttrial import WorkerPool
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

        def spawn(protocol, executable, args, env=None, **kwargs):
            # args is [python, path/to/workertrial.py, *trial's arguments].
            args = [args[0], "-c", _WORKER_CODE, *args[2:]]
            env = dict(env if env is not None else os.environ)
            env[ROOT_VARIABLE] = root
            return spawner(protocol, executable, args=args, env=env, **kwargs)

        return original(self, spawn, protocols, arguments)

    WorkerPool._launchWorkerProcesses = _launchWorkerProcesses
    WorkerPool._strictclean = True

    from twisted.python.failure import Failure
    from twisted.trial._dist.worker import LocalWorkerAMP

    from .verdict import DirtyReactor

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


def worker_main() -> None:
    """Trial's worker, with every test judged as in a single process."""
    from twisted.trial._dist import workertrial
    from twisted.trial._dist.workerreporter import WorkerReporter

    from . import capture, trial_glue
    from .session import Session
    from .verdict import DirtyReactor

    capture.install()
    session = Session(os.environ.get(ROOT_VARIABLE, os.getcwd()), warn=_warn)
    DirtyReactor.wire = True
    trial_glue.activate(session)

    start, stop, add_error = (
        WorkerReporter.startTest,
        WorkerReporter.stopTest,
        WorkerReporter.addError,
    )

    def startTest(self, test):
        start(self, test)
        session.start(test)

    def stopTest(self, test):
        session.stop(test)
        stop(self, test)

    def addError(self, test, error):
        if getattr(error, "check", None) and error.check(DirtyReactor):
            session.delivered = True
        add_error(self, test, error)

    WorkerReporter.startTest = startTest
    WorkerReporter.stopTest = stopTest
    WorkerReporter.addError = addError
    workertrial.main()


def _warn(text: str) -> None:
    sys.stderr.write(f"trial-strictclean: {text}\n")
