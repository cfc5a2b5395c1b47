"""
Threads, asyncio tasks and handles, system event triggers and log
observers (issue 13): each dirty test is failed with its own finding, at
its creation line, with a fix; each clean variant passes; nothing the
reactor, Trial or Twisted's thread pool does for itself is a finding; no
later test changes outcome; on both reactors, in ``trial -j 2``, for
``TestCase``, ``SynchronousTestCase`` and standard library tests alike.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor

import jsonschema
from twisted.trial.unittest import SynchronousTestCase

from trial_strictclean.render.json_report import SCHEMA_FILE

from .test_no_cascade import assert_never_worse_than_stock, stock_outcomes
from .trialrun import FIXTURES, run_trial

# The kinds this module covers (tests/test_diagnosis.py covers the others).
MORE_KINDS = {"thread-running", "asyncio-task", "asyncio-handle", "system-event-trigger", "log-observer"}

ANY_REACTOR = ("more_kinds_default", "more_kinds_sync")
ASYNCIO_ONLY = ("more_kinds_asyncio",)

_REMOVED = "removed from the reactor after the test"
_OBSERVER_REMOVED = "removed from the global log publisher after the test"
_THREAD = "left running: trial-strictclean never stops a thread"
_UNTOUCHED = "nothing is cleaned up after a synchronous test"

# test id -> its findings: (kind, module, tag of the created line, words of "after")
DIRTY = {
    "more_kinds_default.Threads.test_thread_left": [
        ("thread-running", "more_kinds_default", "thread_left", _THREAD)
    ],
    "more_kinds_default.Threads.test_thread_left_non_daemon": [
        ("delayed-call", "more_kinds_default", "thread_release", "it ran when the reactor was spun"),
        ("thread-running", "more_kinds_default", "thread_non_daemon", _THREAD),
    ],
    "more_kinds_default.Triggers.test_trigger_left": [
        ("system-event-trigger", "more_kinds_default", "trigger_left", _REMOVED)
    ],
    "more_kinds_default.Observers.test_observer_left": [
        ("log-observer", "more_kinds_default", "observer_left", _OBSERVER_REMOVED)
    ],
    "more_kinds_default.Observers.test_legacy_observer_left": [
        ("log-observer", "more_kinds_default", "legacy_observer_left", _OBSERVER_REMOVED)
    ],
    "more_kinds_sync.Synchronous.test_thread_left": [("thread-running", "more_kinds_sync", "sync_thread", _THREAD)],
    "more_kinds_sync.Synchronous.test_trigger_left": [
        ("system-event-trigger", "more_kinds_sync", "sync_trigger", _UNTOUCHED)
    ],
    "more_kinds_sync.Synchronous.test_observer_left": [("log-observer", "more_kinds_sync", "sync_observer", _UNTOUCHED)],
    "more_kinds_sync.Stdlib.test_thread_left": [("thread-running", "more_kinds_sync", "stdlib_thread", _THREAD)],
    "more_kinds_sync.Stdlib.test_trigger_left": [
        ("system-event-trigger", "more_kinds_sync", "stdlib_trigger", _UNTOUCHED)
    ],
    "more_kinds_sync.Stdlib.test_observer_left": [("log-observer", "more_kinds_sync", "stdlib_observer", _UNTOUCHED)],
}

DIRTY_ASYNCIO = {
    "more_kinds_asyncio.Tasks.test_task_left": [
        ("asyncio-task", "more_kinds_asyncio", "task_left", "cancelled after the test")
    ],
    "more_kinds_asyncio.Tasks.test_ensure_future_left": [
        ("asyncio-task", "more_kinds_asyncio", "ensure_future_left", "cancelled after the test")
    ],
    "more_kinds_asyncio.Handles.test_call_later_left": [
        ("asyncio-handle", "more_kinds_asyncio", "call_later_left", "cancelled after the test")
    ],
    "more_kinds_asyncio.Handles.test_call_at_left": [
        ("asyncio-handle", "more_kinds_asyncio", "call_at_left", "cancelled after the test")
    ],
    "more_kinds_asyncio.Handles.test_call_soon_left": [
        ("asyncio-handle", "more_kinds_asyncio", "call_soon_left", "it ran when the reactor was spun")
    ],
    "more_kinds_asyncio.Synchronous.test_call_later_left": [
        ("asyncio-handle", "more_kinds_asyncio", "sync_call_later", _UNTOUCHED)
    ],
    "more_kinds_asyncio.Stdlib.test_task_left": [("asyncio-task", "more_kinds_asyncio", "stdlib_task", _UNTOUCHED)],
}

# What each kind's fix must tell the user to do.
FIXES = {
    "thread-running": "self.addCleanup(thread.join)",
    "asyncio-task": "defer.Deferred.fromFuture(task)",
    "asyncio-handle": "self.addCleanup(handle.cancel)",
    "system-event-trigger": "self.addCleanup(reactor.removeSystemEventTrigger, trigger)",
    "log-observer": "removeObserver",
    "delayed-call": "self.addCleanup(call.cancel)",
}

IGNORE = "[" + ", ".join(f'{{ kind = "{kind}", reason = "accepted" }}' for kind in sorted(MORE_KINDS)) + "]"


def line_of(module: str, tag: str) -> int:
    marker = re.compile(rf"@created:{re.escape(tag)}\b")
    with open(os.path.join(FIXTURES, module + ".py")) as source:
        found = [n for n, text in enumerate(source, 1) if marker.search(text)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} lines marked @created:{tag} in {module}")
    return found[0]


def all_tests(modules) -> list[str]:
    """Every test id in the fixture modules, read from their source."""
    ids = []
    for module in modules:
        with open(os.path.join(FIXTURES, module + ".py")) as source:
            cls = None
            for text in source:
                found = re.match(r"class (\w+)\(", text)
                if found:
                    cls = found.group(1)
                found = re.match(r"    (?:async )?def (test_\w+)\(", text)
                if found and cls:
                    ids.append(f"{module}.{cls}.{found.group(1)}")
    return ids


class Run:
    def __init__(self, trial, report):
        self.trial, self.report = trial, report
        self.tests = {t["id"]: t for t in report.get("tests", ())}

    def outcome(self, test_id):
        return self.tests[test_id]["outcome"] if test_id in self.tests else "missing"


def _strict(*options, env=None):
    with tempfile.TemporaryDirectory(prefix="strictclean-kinds-") as folder:
        path = os.path.join(folder, "report.json")
        trial = run_trial("--reporter=strictclean", *options, env={**(env or {}), "TRIAL_STRICTCLEAN_JSON": path})
        try:
            with open(path, encoding="utf-8") as file:
                report = json.load(file)
        except (OSError, ValueError):
            report = {}
    return Run(trial, report)


def _stock(*options):
    return stock_outcomes(run_trial("--reporter=bwverbose", *options).output)


_RUNS = {
    "default": lambda: _strict(*ANY_REACTOR),
    "asyncio": lambda: _strict("--reactor=asyncio", *ANY_REACTOR, *ASYNCIO_ONLY),
    "-j2": lambda: _strict("-j2", *ANY_REACTOR),
    "ignore": lambda: _strict(*ANY_REACTOR, env={"TRIAL_STRICTCLEAN_IGNORE": IGNORE}),
    "ignore-asyncio": lambda: _strict(
        "--reactor=asyncio", *ANY_REACTOR, *ASYNCIO_ONLY, env={"TRIAL_STRICTCLEAN_IGNORE": IGNORE}
    ),
    "stock-default": lambda: _stock(*ANY_REACTOR),
    "stock-asyncio": lambda: _stock("--reactor=asyncio", *ANY_REACTOR, *ASYNCIO_ONLY),
}


@functools.lru_cache(maxsize=None)
def _results():
    # Every run side by side, all waited for and the pool's threads joined
    # before the first test that needs one ends: left running, they would
    # be that test's thread-running leftovers.
    pool = ThreadPoolExecutor(max_workers=3)
    futures = {key: pool.submit(make) for key, make in _RUNS.items()}
    pool.shutdown(wait=True)
    return {key: future.result() for key, future in futures.items()}


def run(key):
    return _results()[key]


class _Kinds:
    """Checks shared by each reactor and mode; subclasses name the run."""

    key = "default"
    modules = ANY_REACTOR
    dirty = DIRTY

    def setUp(self):
        self.run = run(self.key)
        self.output = self.run.trial.output

    def test_every_test_ran(self):
        self.assertEqual(sorted(self.run.tests), sorted(all_tests(self.modules)), self.output)

    def test_each_dirty_test_has_its_own_findings(self):
        for test_id, expected in self.dirty.items():
            test = self.run.tests.get(test_id, {})
            findings = test.get("findings", [])
            self.assertEqual(test.get("outcome"), "error", f"{test_id}\n{self.output}")
            self.assertEqual([f["kind"] for f in findings], [e[0] for e in expected], f"{test_id}\n{self.output}")
            for finding, (kind, module, tag, after) in zip(findings, expected):
                where = f"{test_id} ({kind})"
                self.assertEqual(finding["created"]["line"], line_of(module, tag), where)
                self.assertTrue(finding["created"]["file"].endswith(module + ".py"), where)
                self.assertIn(FIXES[kind], finding["fix"], where)
                self.assertIn(after, finding["after"] or "", where)

    def test_every_other_test_passes(self):
        # The clean variants, and every later test whatever an earlier one left.
        others = {t: r["outcome"] for t, r in self.run.tests.items() if t not in self.dirty}
        broken = {t: o for t, o in others.items() if o != "passed"}
        self.assertEqual(broken, {}, self.output)
        self.assertTrue(others)

    def test_text_block_names_the_line(self):
        test_id, [(kind, module, tag, _)] = next(iter((t, e) for t, e in self.dirty.items() if len(e) == 1))
        text = self.run.trial.error_text(test_id)
        self.assertIn(f"{kind}: ", text)
        self.assertRegex(text, rf"created\s+\S*{module}\.py:{line_of(module, tag)} in ")

    def test_report_matches_the_schema(self):
        with open(SCHEMA_FILE, encoding="utf-8") as file:
            jsonschema.validate(self.run.report, json.load(file))


class DefaultReactor(_Kinds, SynchronousTestCase):
    def test_never_worse_than_stock(self):
        assert_never_worse_than_stock(self, self.run, run("stock-default"))


class AsyncioReactor(_Kinds, SynchronousTestCase):
    key = "asyncio"
    modules = ANY_REACTOR + ASYNCIO_ONLY
    dirty = {**DIRTY, **DIRTY_ASYNCIO}

    def test_never_worse_than_stock(self):
        assert_never_worse_than_stock(self, self.run, run("stock-asyncio"))


class Distributed(_Kinds, SynchronousTestCase):
    key = "-j2"


class _Ignored:
    """Ignore rules accept the new kinds: the dirty tests pass, counted as ignored."""

    key = "ignore"
    dirty = DIRTY

    def test_ignored_dirty_tests_pass(self):
        run_ = run(self.key)
        failing = {t: r["outcome"] for t, r in run_.tests.items() if r["outcome"] != "passed"}
        # The one delayed call is not covered by the rules.
        self.assertEqual(failing, {"more_kinds_default.Threads.test_thread_left_non_daemon": "error"}, run_.trial.output)
        ignored = sum(1 for e in self.dirty.values() for f in e if f[0] in MORE_KINDS)
        self.assertIn(f"ignored: {ignored} (", run_.trial.output)
        self.assertNotIn("stale ignore rules", run_.trial.output)


class Ignored(_Ignored, SynchronousTestCase):
    def test_ignored_dirty_tests_pass(self):
        # On the default reactor the asyncio rules match nothing: stale.
        run_ = run(self.key)
        self.assertIn("stale ignore rules", run_.trial.output)
        failing = {t: r["outcome"] for t, r in run_.tests.items() if r["outcome"] != "passed"}
        self.assertEqual(failing, {"more_kinds_default.Threads.test_thread_left_non_daemon": "error"}, run_.trial.output)


class IgnoredAsyncio(_Ignored, SynchronousTestCase):
    key = "ignore-asyncio"
    dirty = {**DIRTY, **DIRTY_ASYNCIO}


class Kinds(SynchronousTestCase):
    def test_schema_lists_every_kind(self):
        """The schema names the kinds it knows, in the order they were added."""
        from trial_strictclean.core.findings import KINDS

        with open(SCHEMA_FILE, encoding="utf-8") as file:
            schema = json.load(file)
        self.assertEqual(tuple(schema["$defs"]["kind"]["examples"]), KINDS)

    def test_ignore_rules_accept_the_new_kinds(self):
        from trial_strictclean.core.markers import ignore_leftovers

        for kind in sorted(MORE_KINDS):
            ignore_leftovers(kind, reason="accepted")(lambda: None)
