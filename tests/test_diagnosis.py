"""
Every kind of leftover, reported through the real ``trial`` with the right
kind, side and lines, on the default and asyncio reactors; and nothing for
tests that clean up correctly.
"""

from __future__ import annotations

import os
import re

from twisted.trial import unittest

from trial_strictclean.core.diagnosis import diagnose
from trial_strictclean.core.findings import KINDS, Finding
from trial_strictclean.core.inspection import Leftovers

from .test_more_kinds import MORE_KINDS
from .trialrun import FIXTURES, cached_run

DIRTY = "kinds_dirty"
CLEAN = "kinds_clean"

# test name -> the findings its block must hold:
# (kind, side, tag of the created line, tag of the closed line or None)
EXPECTED = {
    "Ports.test_tcp_port_open": [("listening-port-open", None, "tcp_port_open", None)],
    "Ports.test_tcp_port_open_in_helper": [("listening-port-open", None, "helper", None)],
    "Ports.test_udp_port_open": [("listening-port-open", None, "udp_port_open", None)],
    "Ports.test_unix_port_open": [("listening-port-open", None, "unix_port_open", None)],
    "Ports.test_tls_port_open": [("listening-port-open", None, "tls_port_open", None)],
    "Ports.test_tcp_port_closing": [
        ("listening-port-closing", None, "tcp_port_closing", "tcp_port_closing")
    ],
    "Ports.test_udp_port_closing": [
        ("listening-port-closing", None, "udp_port_closing", "udp_port_closing")
    ],
    "Ports.test_unix_port_closing": [
        ("listening-port-closing", None, "unix_port_closing", "unix_port_closing")
    ],
    "Connections.test_connection_open": [
        ("listening-port-open", None, "open_port", None),
        ("connection-open", "server", "open_port", None),
        ("connection-open", "client", "open_client", None),
    ],
    "Connections.test_client_closing": [
        ("listening-port-closing", None, "closing_port", "closing_port"),
        ("connection-open", "server", "closing_port", None),
        ("connection-closing", "client", "closing_client", "closing_client"),
    ],
    "Connections.test_server_end_left": [("connection-open", "server", "server_left", None)],
    "Connections.test_server_closing": [
        ("connection-closing", "server", "server_closing", "server_closing")
    ],
    "Connections.test_protocol_timeout": [
        ("listening-port-open", None, "timeout_port", None),
        ("connection-open", "server", "timeout_port", None),
        ("connection-open", "client", None, None),
        ("protocol-timeout", None, "protocol_timeout", None),
    ],
    "Connections.test_connector_connecting": [
        ("connector-connecting", None, "connector", None)
    ],
    "Timers.test_delayed_call": [("delayed-call", None, "delayed_call", None)],
    "Timers.test_looping_call": [("looping-call", None, "looping_call", None)],
    "Timers.test_deferred_timeout": [("deferred-timeout", None, "deferred_timeout", None)],
    "Timers.test_defer_later": [("defer-later", None, "defer_later", None)],
    "Processes.test_process_running": [("process-running", None, "process", None)],
    "Threads.test_thread_work": [("thread-work", None, "thread_work", None)],
    "Descriptors.test_reader": [("reader", None, "reader", None)],
    "Descriptors.test_writer": [("writer", None, "writer", None)],
    "Errors.test_unhandled_error": [("unhandled-error", None, "unhandled_error", None)],
}

_FINDING_START = re.compile(r"^(\d+)\. ", re.MULTILINE)


def line_of(tag: str, role: str = "created", module: str = DIRTY) -> int:
    """The line of the fixture that carries the marker ``@role:tag``."""
    marker = re.compile(rf"@{role}:{re.escape(tag)}\b")
    with open(os.path.join(FIXTURES, module + ".py")) as source:
        found = [n for n, text in enumerate(source, 1) if marker.search(text)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} lines marked @{role}:{tag} in {module}")
    return found[0]


_PART_START = re.compile(r"^(?=   part\s)", re.MULTILINE)
_CREATED = re.compile(r"^\s*created\s.*$", re.MULTILINE)


def items_in(block: str) -> list[str]:
    """The text of each numbered item (one root cause) of one rendered block."""
    starts = [m.start() for m in _FINDING_START.finditer(block)]
    return [block[a:b] for a, b in zip(starts, starts[1:] + [len(block)])]


def findings_in(block: str) -> list[str]:
    """
    The text of each finding: an item's lead, then each part listed under
    it; a part created on its lead's line does not repeat it, so it gets
    the lead's "created" line here.
    """
    found = []
    for item in items_in(block):
        lead, *parts = _PART_START.split(item)
        found.append(lead)
        created = _CREATED.search(lead)
        for part in parts:
            if not _CREATED.search(part) and created:
                part += "\n" + created.group(0)
            found.append(part)
    return found


def header(kind: str, side: str | None) -> re.Pattern:
    label = f"{kind} ({side})" if side else kind
    return re.compile(rf"^(?:\d+\.|\s+part)\s+{re.escape(label)}(?: \(x \d+\))?: ", re.MULTILINE)


def site_pattern(role: str, tag: str) -> re.Pattern:
    line = line_of(tag, role)
    return re.compile(rf"^\s*{role}\s+\S*{DIRTY}\.py:{line} in ", re.MULTILINE)


class KindsOnReactor:
    """Mixed into one TestCase per reactor; ``reactor_args`` picks it."""

    reactor_args: tuple = ()

    def run_fixtures(self):
        return cached_run(*self.reactor_args, "--reporter=strictclean", DIRTY, CLEAN)

    def test_counts(self):
        """Every dirty test errs once; every clean one passes."""
        run = self.run_fixtures()
        self.assertEqual(run.counts.get("errors"), len(EXPECTED), run.output)
        self.assertEqual(run.counts.get("successes"), 9, run.output)
        self.assertNotIn("failures", run.counts, run.output)

    def test_clean_tests_have_no_finding(self):
        run = self.run_fixtures()
        self.assertEqual([t for t in run.errors if t.startswith(CLEAN)], [], run.output)

    def test_every_kind_is_covered(self):
        kinds = {kind for expected in EXPECTED.values() for kind, *_ in expected}
        # tests/test_more_kinds.py covers the others, over fixtures of its own.
        self.assertEqual(kinds | MORE_KINDS, set(KINDS))

    def test_each_dirty_test(self):
        run = self.run_fixtures()
        for name, expected in EXPECTED.items():
            test_id = f"{DIRTY}.{name}"
            with self.subTest(test=name) if hasattr(self, "subTest") else _nothing():
                block = run.error_text(test_id)
                self.assertTrue(block, f"no error for {test_id}:\n{run.output}")
                parts = findings_in(block)
                self.assertEqual(len(parts), len(expected), block)
                for kind, side, created, closed in expected:
                    matching = [p for p in parts if header(kind, side).search(p)]
                    self.assertEqual(len(matching), 1, f"{kind} {side}\n{block}")
                    text = matching[0]
                    if created is not None:
                        self.assertRegex(text, site_pattern("created", created))
                    if closed is None:
                        self.assertNotRegex(text, re.compile(r"^\s*closed\s", re.MULTILINE))
                    else:
                        self.assertRegex(text, site_pattern("closed", closed))

    def test_helper_caller_is_shown(self):
        """A call inside a user helper points at the helper, then its caller."""
        block = self.run_fixtures().error_text(f"{DIRTY}.Ports.test_tcp_port_open_in_helper")
        line = line_of("helper", "caller")
        self.assertRegex(block, rf"called\s+from \S*{DIRTY}\.py:{line} in ")

    def test_related_findings_are_together(self):
        """A port, both ends of its connection and its timeout are one item, in order."""
        block = self.run_fixtures().error_text(f"{DIRTY}.Connections.test_protocol_timeout")
        self.assertEqual(len(items_in(block)), 1, block)
        kinds = [re.split(r"\. |part\s+", p.split(":")[0].strip(), maxsplit=1)[1] for p in findings_in(block)]
        self.assertEqual(
            kinds,
            [
                "listening-port-open",
                "connection-open (server)",
                "connection-open (client)",
                "protocol-timeout",
            ],
        )
        self.assertNotIn("\n\n", block.split("1. ", 1)[1].rstrip("\n"))

    def test_one_finding_per_process(self):
        block = self.run_fixtures().error_text(f"{DIRTY}.Processes.test_process_running")
        self.assertEqual(len(findings_in(block)), 1, block)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class DefaultReactorTests(KindsOnReactor, unittest.TestCase):
    reactor_args = ()


class AsyncioReactorTests(KindsOnReactor, unittest.TestCase):
    reactor_args = ("--reactor=asyncio",)


class _Odd:
    """An object that fails at everything diagnosis might ask of it."""

    def __getattr__(self, name):
        raise RuntimeError(f"no {name}")

    def __repr__(self):
        raise RuntimeError("no repr")


class _OddCall:
    """A delayed call whose every attribute is strange."""

    func = _Odd()
    args = (_Odd(),)
    kw = {"x": _Odd()}
    cancelled = called = False

    def getTime(self):
        raise RuntimeError("no time")


class FallbackTests(unittest.SynchronousTestCase):
    def test_odd_objects_do_not_raise(self):
        """Diagnosis describes what it can and never raises."""
        from twisted.internet import task

        left = Leftovers(
            calls=[_OddCall()],
            readers=[_Odd(), object()],
            writers=[_Odd()],
            processes=[_Odd()],
            threads=[_Odd()],
        )
        findings, _sockets = diagnose(task.Clock(), left)
        self.assertEqual(len(findings), 6)
        for finding in findings:
            self.assertIn(finding.kind, KINDS)
            self.assertTrue(finding.message)


class _Port:
    """Enough of a listening port for the advice about one."""

    port = 4321
    factory = None


def _noop():
    pass


class _Process:
    """Enough of a process, a connection end, a connector or a task for their advice."""

    pid = 4242


class RunnerIdiomTests(unittest.SynchronousTestCase):
    """
    Issue 14: fixes in the runner's idiom. Trial: self.addCleanup(...);
    pytest-twisted, where a test has no self: a fixture whose teardown
    (after its yield) makes the call, awaiting what returns a Deferred.
    """

    def fixes(self, runner: str) -> dict:
        import threading

        from twisted.internet import task

        from trial_strictclean.core.capture import Registered
        from trial_strictclean.core.diagnosis.calls import call_finding
        from trial_strictclean.core.diagnosis.common import Context
        from trial_strictclean.core.diagnosis.groups import group_fix
        from trial_strictclean.core.diagnosis.asyncio_tasks import task_finding
        from trial_strictclean.core.diagnosis.network import (
            closing_port_finding,
            connection_finding,
            connector_finding,
            port_finding,
        )
        from trial_strictclean.core.diagnosis.processes import process_finding
        from trial_strictclean.core.diagnosis.observers import observer_finding
        from trial_strictclean.core.diagnosis.threads import running_thread_finding
        from trial_strictclean.core.diagnosis.triggers import trigger_finding

        clock = task.Clock()
        ctx = Context(clock, "", runner)
        loop = task.LoopingCall(_noop)
        loop.clock = clock
        loop.start(1, now=False)
        self.addCleanup(loop.stop)
        [call] = clock.getDelayedCalls()
        port = _Port()
        trigger = Registered(clock, ("shutdown", ("before", _noop, (), {})), "addSystemEventTrigger", None)
        observer = Registered(clock, _noop, "addObserver", None)
        ends = [
            port_finding(ctx, port),
            Finding("connection-open", "server end", "open", "m", side="server", wait_for="server lost"),
            Finding("connection-open", "client end", "open", "m", side="client", wait_for="client lost"),
        ]
        proc = _Process()
        task = Registered(clock, _Process(), "create_task", None)
        return {
            "process": process_finding(ctx, proc).fix,
            "client end": connection_finding(ctx, _Process(), "client").fix,
            "connector": connector_finding(ctx, None, _Process()).fix,
            "asyncio task": task_finding(ctx, task).fix,
            "port": port_finding(ctx, port).fix,
            "closing port": closing_port_finding(ctx, port, "due now").fix,
            "looping call": call_finding(ctx, call)[0].fix,
            "thread": running_thread_finding(ctx, threading.Thread(target=_noop)).fix,
            "trigger": trigger_finding(ctx, trigger).fix,
            "observer": observer_finding(ctx, observer).fix,
            "port and connection": group_fix(ends, [None] * 3, [None] * 3, ctx),
        }

    def test_trial(self):
        fixes = self.fixes("trial")
        for what, fix in fixes.items():
            self.assertRegex(fix, r"self\.addCleanup\(|connected_pair\(self,|cleanup", what)
            self.assertNotIn("fixture", fix, what)
        self.assertIn("self.addCleanup(port.stopListening) (Trial waits for the Deferred it returns)", fixes["port"])
        self.assertIn("self.addCleanup(reactor.removeSystemEventTrigger, trigger)", fixes["trigger"])
        self.assertIn("last in, first out", fixes["port and connection"])

    def test_pytest(self):
        fixes = self.fixes("pytest")
        for what, fix in fixes.items():
            self.assertNotIn("addCleanup", fix, what)
            self.assertNotIn("self", fix, what)
            self.assertNotIn("Trial", fix, what)
            self.assertIn("fixture", fix, what)
        self.assertIn(
            "a fixture (@pytest_twisted.async_yield_fixture) that does yield port, "
            "then await port.stopListening()",
            fixes["port"],
        )
        self.assertIn("a fixture that does yield loop, then loop.stop()", fixes["looping call"])
        self.assertIn("yield trigger, then reactor.removeSystemEventTrigger(trigger)", fixes["trigger"])
        self.assertIn("wait_for_disconnect(protocol)", fixes["port and connection"])
