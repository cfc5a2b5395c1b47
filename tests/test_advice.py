"""
Issue 14: advice that fits, one item per root cause, a summary that scales,
and output a person reads at 80 columns.
"""

from __future__ import annotations

import functools
import os
import re

from twisted.trial import unittest

from trial_strictclean.core.findings import Finding, Site
from trial_strictclean.render.text import render

from .trialrun import cached_run, tagged_line

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "> 74 |    code" and "  75 |    code", under a label's indent.
_CODE_FRAME = re.compile(r"^\s*>?\s*\d+ \| ")
# "created   path/to/file.py:74 in Class.method", a traceback's File "...".
_SITE = re.compile(r"\S+:\d+ in \S|File \"")


def too_wide(text: str, width: int = 80) -> list[str]:
    """Lines wider than ``width`` that are neither code nor a path."""
    wide = []
    for line in text.splitlines():
        plain = _ANSI.sub("", line)
        if len(plain) <= width or _CODE_FRAME.match(plain) or _SITE.search(plain):
            continue
        if len(plain.split()) == 1:
            continue  # a test id or a path on its own
        if re.match(r"(PASSED|FAILED) \(", plain):
            continue  # Trial's own last line
        wide.append(plain)
    return wide


def _long_finding(**changes) -> Finding:
    values = dict(
        kind="connection-open",
        side="server",
        resource="server end of a TCP connection 127.0.0.1:43753 <- 127.0.0.1:43086 (EchoServerProtocol)",
        state="open",
        message="m",
        detail="Accepted by the TCP port 127.0.0.1:43753, since stopped (created at the line below). " * 3,
        created=Site("a/very/long/path/" * 6 + "module.py", 7, "Some.long_function_name_" * 3),
        wait_for="the server protocol's connectionLost (EchoServerProtocol.connectionLost) " * 2,
        fix="Fire a Deferred from EchoServerProtocol.connectionLost on the server side and wait for it. " * 3,
        after="it finished closing when the reactor was spun after the test, as Trial's janitor does",
        group=1,
    )
    values.update(changes)
    return Finding(**values)


class EightyColumnTests(unittest.SynchronousTestCase):
    """Item 6: prose wraps at 80 columns, or narrower terminals; code and paths may not."""

    def test_prose_wraps_at_80(self):
        text = render([_long_finding(), _long_finding(kind="delayed-call", side=None, group=2)])
        self.assertEqual(too_wide(text), [], text)
        # The path line stays whole, however long.
        self.assertIn("a/very/long/path/" * 6 + "module.py:7 in", text)

    def test_narrower_terminal(self):
        text = render([_long_finding()], width=60)
        self.assertEqual(too_wide(text, 60), [], text)

    def test_colour_does_not_count(self):
        text = render([_long_finding()], color=True)
        self.assertIn("\x1b[", text)
        self.assertEqual(too_wide(text), [], text)

    def test_every_fixture_at_80_columns(self):
        run = cached_run(
            "--reporter=strictclean", "kinds_dirty", "foundation_suite", "trial_strictclean.demo.scenarios"
        )
        self.assertIn("This test left the reactor dirty", run.output)
        self.assertEqual(too_wide(run.output), [], run.output)


class DemoColourTests(unittest.SynchronousTestCase):
    def _child_env(self, tty: bool, environ: dict) -> dict:
        from trial_strictclean.demo import __main__ as demo

        class Stream:
            def isatty(self):
                return tty

        self.patch(demo.sys, "stdout", Stream())
        self.patch(demo.os, "environ", environ)
        return demo._child_env()

    def test_colour_on_a_terminal(self):
        self.assertEqual(self._child_env(True, {})["TRIAL_STRICTCLEAN_COLOR"], "always")

    def test_no_color_respected(self):
        self.assertNotIn("TRIAL_STRICTCLEAN_COLOR", self._child_env(True, {"NO_COLOR": "1"}))

    def test_not_on_a_pipe(self):
        self.assertNotIn("TRIAL_STRICTCLEAN_COLOR", self._child_env(False, {}))


POOL = "advice_pool"
_PRIVATE = re.compile(r"(?<![\w.])_[A-Za-z]\w*|\._[A-Za-z]\w*")


def _pool_run():
    return cached_run("--reporter=strictclean", POOL)


def _fixed(block: str) -> str:
    """The fix of an item, unwrapped into one line."""
    match = re.search(r"^   fix\s+(.*?)(?=^   \S|\Z)", block, re.MULTILINE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""


class GroupingTests(unittest.SynchronousTestCase):
    """Item 4: one numbered item per root cause, with one fix."""

    def test_pooled_connection_is_one_item(self):
        block = _pool_run().error_text(f"{POOL}.PooledAgent.test_get")
        self.assertEqual(len(re.findall(r"^\d+\. ", block, re.MULTILINE)), 1, block)
        self.assertIn("(1 item, 4 leftovers:", " ".join(block.split()))
        self.assertEqual(len(re.findall(r"^   part\s", block, re.MULTILINE)), 3, block)
        self.assertEqual(len(re.findall(r"^   fix\s", block, re.MULTILINE)), 1, block)

    def test_identical_findings_are_one_item_with_a_count(self):
        block = _pool_run().error_text(f"{POOL}.SharedFake.test_many_zero_delay_calls")
        self.assertEqual(len(re.findall(r"^\d+\. ", block, re.MULTILINE)), 1, block)
        self.assertIn("1. delayed-call (x 29): ", block)
        self.assertIn("Still pending (due now).", block)
        self.assertLess(len(block.splitlines()), 20, block)

    def test_group_in_json(self):
        from .trialrun import run_trial

        import json
        import tempfile

        with tempfile.TemporaryDirectory() as temp:
            path = os.path.join(temp, "report.json")
            run_trial("--reporter=strictclean", f"{POOL}.PooledAgent", f"{POOL}.SharedFake",
                      env={"TRIAL_STRICTCLEAN_JSON": path})
            with open(path) as file:
                tests = {t["id"]: t for t in json.load(file)["tests"]}
        pooled = tests[f"{POOL}.PooledAgent.test_get"]["findings"]
        self.assertEqual(len(pooled), 4)
        self.assertEqual({f["group"] for f in pooled}, {1})
        self.assertEqual(len({f["fix"] for f in pooled}), 1)
        fake = tests[f"{POOL}.SharedFake.test_many_zero_delay_calls"]["findings"]
        self.assertEqual((len(fake), {f["group"] for f in fake}), (29, {1}))

    def test_render_groups_parts_under_one_number(self):
        lead = _long_finding(kind="listening-port-open", side=None, resource="TCP port 1", group=1)
        part = _long_finding(resource="server end 2", group=1, fix="ignored")
        other = _long_finding(kind="delayed-call", side=None, resource="call 3", group=2)
        text = render([lead, part, other])
        self.assertIn("1. listening-port-open: TCP port 1", text)
        self.assertRegex(text, r"(?m)^   part\s+connection-open \(server\): server end 2")
        self.assertIn("2. delayed-call: call 3", text)
        self.assertNotIn("ignored", text)
        self.assertIn("(2 items, 3 leftovers:", " ".join(text.split()))


class AdviceTests(unittest.SynchronousTestCase):
    """Items 1-3: the fix in the user's words, public names, shaped to what the test can do."""

    def test_no_private_names(self):
        run = _pool_run()
        for test_id, blocks in run.errors.items():
            for block in blocks:
                prose = "\n".join(
                    line for line in block.splitlines()
                    if not _CODE_FRAME.match(line) and not _SITE.search(line)
                )
                self.assertEqual(_PRIVATE.findall(prose), [], f"{test_id}\n{block}")

    def test_pool_fix(self):
        block = _pool_run().error_text(f"{POOL}.PooledAgent.test_get")
        fix = _fixed(block)
        self.assertIn("self.addCleanup(pool.closeCachedConnections)", fix)
        self.assertNotIn("setTimeout(None)", block)
        self.assertIn("HTTP11ClientProtocol", block)
        self.assertIn("HTTPChannel", block)

    def test_looping_call_in_the_users_words(self):
        from .test_diagnosis import line_of

        block = _pool_run().error_text(f"{POOL}.Heartbeat.test_beats")
        self.assertRegex(block, rf"created\s+\S*{POOL}\.py:{line_of('loop', module=POOL)} in ")
        self.assertEqual(_fixed(block), "Stop it when the test ends: self.addCleanup(self.heartbeat.stop).")

    def test_process_signal_then_wait(self):
        fix = _fixed(_pool_run().error_text(f"{POOL}.Child.test_spawn"))
        self.assertIn("self.proc.signalProcess('TERM')", fix)
        self.assertIn("Sleeper.processEnded", fix)
        self.assertNotIn("KILL", fix)

    def test_shared_fake_reactor(self):
        from .test_diagnosis import line_of

        block = _pool_run().error_text(f"{POOL}.SharedFake.test_many_zero_delay_calls")
        # The fake's line, and the test's line that led to it.
        # Python 3.10 names the method without its class.
        self.assertRegex(block, rf"created\s+\S*{POOL}\.py:{line_of('fake', module=POOL)} in (FakeReactor\.)?callLater")
        self.assertRegex(block, rf"called\s+from \S*{POOL}\.py:{line_of('fake', 'test', POOL)} in ")
        fix = _fixed(block)
        self.assertRegex(fix, r"(FakeReactor\.|The fake reactor's )callLater \(shared test code\)")
        self.assertNotIn("pass the code a", fix)  # it already is a Clock
        self.assertNotIn("cancel", fix)  # the test cannot reach the call


MANY = "advice_many"


def _summary_lines(output: str) -> list[str]:
    lines = output.splitlines()
    start = lines.index("trial-strictclean summary")
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    return lines[start:end]


class ScalingSummaryTests(unittest.SynchronousTestCase):
    """Item 5: 1,000 tests leaving the same timer from one helper."""

    def test_output_is_small(self):
        run = cached_run("--reporter=strictclean", MANY)
        self.assertEqual(run.counts.get("errors"), 1000, run.output[-2000:])
        self.assertLess(len(run.output.encode()), 300_000)

    def test_summary_groups_by_creation_site(self):
        from .test_diagnosis import line_of

        summary = _summary_lines(cached_run("--reporter=strictclean", MANY).output)
        self.assertLessEqual(len(summary), 20, summary)
        line = line_of("many", module=MANY)
        self.assertIn(f"    tests/fixtures/{MANY}.py:{line} in start_timer: delayed-call, 1000 tests", "\n".join(summary))
        self.assertIn(f"{MANY}.Many.test_0000", "\n".join(summary))
        self.assertEqual(too_wide("\n".join(summary)), [])

    def test_repeats_refer_back(self):
        run = cached_run("--reporter=strictclean", MANY)
        first = run.error_text(f"{MANY}.Many.test_0000")
        self.assertIn("   fix ", first)
        later = run.error_text(f"{MANY}.Many.test_0500")
        self.assertIn(f"same as in {MANY}.Many.test_0000,", " ".join(later.split()))
        self.assertNotIn("   fix ", later)
        # One short block for all 999: Trial lists their ids under it.
        self.assertEqual(run.output.count(f"same      as in {MANY}.Many.test_0000,"), 1)

    def test_summary_caps_the_sites(self):
        from trial_strictclean.core.outcomes import TestRecord
        from trial_strictclean.render.summary import render_summary

        records = [
            TestRecord(f"t.T.test_{n}", "error", 0.0, (_long_finding(created=Site(f"f{n}.py", n, "f"), group=1),))
            for n in range(50)
        ]
        summary = render_summary(records, [], [], []).strip("\n").splitlines()
        self.assertLessEqual(len(summary), 22, summary)
        self.assertIn("    and 42 more sites, in 42 tests (their blocks are above)", summary)


class SmallThingsTests(unittest.SynchronousTestCase):
    """Item 7."""

    def test_reports_follow_the_umask(self):
        from trial_strictclean.render.report_files import write_atomically

        folder = self.mktemp()
        os.makedirs(folder)
        for mask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
            old = os.umask(mask)
            try:
                path = os.path.join(folder, f"r{mask:o}.json")
                write_atomically(path, b"{}")
            finally:
                os.umask(old)
            self.assertEqual(os.stat(path).st_mode & 0o777, mode, oct(mask))

    def test_until_failure_one_summary(self):
        from .trialrun import run_trial

        folder = self.mktemp()
        os.makedirs(folder)
        path = os.path.join(os.path.abspath(folder), "r.json")
        run = run_trial("--reporter=strictclean", "--until-failure", "advice_passes",
                        env={"TRIAL_STRICTCLEAN_JSON": path})
        self.assertIn("Test Pass 2", run.output)
        self.assertEqual(run.output.count("trial-strictclean summary"), 1, run.output)
        self.assertIn("trial-strictclean summary (pass 2; the passes before it passed)", run.output)
        import json

        with open(path) as file:
            [test] = json.load(file)["tests"]
        self.assertEqual((test["outcome"], len(test["findings"])), ("error", 1))

    def test_endpoint_connect_protocol(self):
        block = _pool_run().error_text(f"{POOL}.Endpoint.test_connect_protocol")
        fix = _fixed(block)
        self.assertIn("protocol.transport.loseConnection()", fix)
        self.assertIn("connectProtocol", fix)
        self.assertIn("last in, first out", fix)

    def test_library_call_is_waited_for_not_cancelled(self):
        from trial_strictclean.core.diagnosis.calls import _call_advice

        from trial_strictclean.core.diagnosis.common import Context

        wait_for, fix = _call_advice(Context(None, ""), None, ())
        self.assertIn("flush or drain", wait_for)
        self.assertIn("do not cancel it", fix)
        self.assertNotIn("Clock", fix)

    def test_code_under_test_owns_the_timer(self):
        from trial_strictclean.core.diagnosis.calls import _call_advice

        helper = Site("app/cache.py", 12, "Cache.refresh")
        from trial_strictclean.core.diagnosis.common import Context

        _, fix = _call_advice(Context(None, ""), helper, (Site("tests/test_cache.py", 30, "T.test_refresh"),))
        self.assertIn("Cache.refresh", fix)
        self.assertIn("flush or drain", fix)
        self.assertIn("task.Clock", fix)
        self.assertNotIn("addCleanup", fix)


class NamingTests(unittest.SynchronousTestCase):
    """Item 1: the user's expression, read from the creation line."""

    def test_lines(self):
        from trial_strictclean.core.diagnosis.naming import line_name

        cases = [
            ("self.heartbeat = task.LoopingCall(beat)", None, "self.heartbeat"),
            ("        port = reactor.listenTCP(0, f)", None, "port"),
            ("self.timer: IDelayedCall = reactor.callLater(1, f)", None, "self.timer"),
            ("self.heartbeat.start(60, now=False)", "start", "self.heartbeat"),
            ("d = self.loop.start(1)", "start", "self.loop"),
            ("reactor.callLater(30, print, 'x')", None, None),
            ("if a == reactor.callLater(1, f):", None, None),
        ]
        for code, method, expected in cases:
            self.assertEqual(line_name(Site("nowhere.py", 1, "f", code), method=method), expected, code)

    def test_attribute_of_a_test(self):
        from trial_strictclean.core.diagnosis.naming import name_for

        self.kept = object()
        self.assertEqual(name_for(self.kept, "thing"), "self.kept")
        self.assertEqual(name_for(object(), "thing"), "thing")


class GroupFixTests(unittest.SynchronousTestCase):
    def test_port_connection_and_timeout_one_fix(self):
        run = cached_run("--reporter=strictclean", "kinds_dirty", "kinds_clean")
        block = run.error_text("kinds_dirty.Connections.test_protocol_timeout")
        fix = _fixed(block)
        self.assertTrue(fix.startswith("Stop the port (port.stopListening()), close the client end"), fix)
        self.assertIn("The protocol's timeout goes when its connection closes.", fix)
        self.assertIn("last in, first out", fix)
        self.assertNotIn("setTimeout(None)", block)

    def test_helper_that_returns_the_call(self):
        from trial_strictclean.core.diagnosis.calls import _call_advice
        from trial_strictclean.core.diagnosis.common import Context

        path = os.path.abspath(self.mktemp())
        with open(path, "w") as file:
            file.write("def start_timer():\n    return reactor.callLater(5, f)\n")
        helper = Site(path, 2, "start_timer")
        _, fix = _call_advice(Context(None, ""), helper, (Site("t.py", 9, "T.test_it"),))
        self.assertIn("start_timer() returns the DelayedCall: keep it (call = start_timer(...))", fix)
        self.assertIn("self.addCleanup(call.cancel)", fix)


CLOCKS = "advice_clocks"


class TimeKeepingCodeTests(unittest.SynchronousTestCase):
    """
    Item 3: never suggest a Clock to code that already keeps time; fix the
    shared code, name its parameter, or wait.
    """

    def block(self, test: str) -> str:
        return cached_run("--reporter=strictclean", CLOCKS).error_text(f"{CLOCKS}.Keepers.{test}")

    def test_fake_that_is_a_clock_under_another_name(self):
        block = self.block("test_forwarding_clock")
        fix = _fixed(block)
        # The class's name on Python 3.10 too, whose sites lack it.
        self.assertTrue(fix.startswith("ForwardingClock.schedule (shared test code) hands the call"), fix)
        self.assertIn("ForwardingClock is already a clock", fix)
        self.assertNotIn("pass", fix)
        self.assertNotIn("cancel", fix)
        self.assertRegex(block, rf"called\s+from \S*{CLOCKS}\.py:{tagged_line(CLOCKS, '@test:forwarding')} in ")

    def test_fake_that_keeps_a_clock(self):
        fix = _fixed(self.block("test_wrapping_fake"))
        self.assertIn("WrappingFake already keeps a task.Clock. Fix it once there", fix)
        self.assertNotIn("pass", fix)

    def test_clock_parameter_of_a_class(self):
        fix = _fixed(self.block("test_poller"))
        self.assertIn("Poller takes what it schedules on as a parameter (clock=)", fix)
        self.assertIn("through Poller(clock=...)", fix)

    def test_reactor_parameter_of_a_function(self):
        fix = _fixed(self.block("test_retry"))
        self.assertIn("retry_later takes what it schedules on as a parameter (reactor=)", fix)

    def test_plain_helper_still_gets_a_clock(self):
        fix = _fixed(self.block("test_plain_helper"))
        self.assertIn("pass that code a twisted.internet.task.Clock", fix)


CLEANUPS = "advice_cleanups"


def _cleanup_timeouts() -> str | None:
    import inspect

    from twisted.trial._asynctest import TestCase

    # The source, not _run's signature: the reporter wraps _run.
    run = getattr(TestCase, "_deferRunCleanups", None) or getattr(TestCase, "deferRunCleanups", None)
    if "self._run(" in inspect.getsource(run):
        return None
    return "cleanups have no timeout of their own before Twisted 25: a misordered one hangs"


@functools.lru_cache(maxsize=None)
def _two_errors_run(*args: str):
    """A run over tests/fixtures/two_errors/ (see its README.txt)."""
    from .trialrun import FIXTURES, PROJECT, run_trial

    path = [os.path.join(FIXTURES, "two_errors"), FIXTURES, PROJECT, os.environ.get("PYTHONPATH", "")]
    return run_trial(*args, env={"PYTHONPATH": os.pathsep.join(p for p in path if p)})


class CleanupOrderTests(unittest.SynchronousTestCase):
    """
    Issue 14, item 2 (LIFO cleanup order): a cleanup that waits, registered
    after the one that causes what it waits for, is named with the order
    that works, in the timeout and in the findings the timeout leaves.
    """

    skip = _cleanup_timeouts()

    def run_fixture(self):
        return _two_errors_run("--reporter=strictclean", CLEANUPS)

    def blocks(self, test: str) -> tuple[str, str]:
        """The timeout's block and the findings' block of one test."""
        blocks = self.run_fixture().errors[f"{CLEANUPS}.{test}"]
        timeout = [b for b in blocks if "TimeoutError" in b]
        dirty = [b for b in blocks if "left the reactor dirty" in b]
        return (timeout[0] if timeout else ""), (dirty[0] if dirty else "")

    def test_timeout_names_the_order(self):
        timeout, _ = self.blocks("Connected.test_wait_registered_after_the_close")
        lines = [line.strip() for line in timeout.splitlines()]
        self.assertIn("Cleanups registered in an order that cannot work:", lines, timeout)
        self.assertIn("ran first self.addCleanup(lambda: waiting(self.client_lost))", lines)
        self.assertIn("not run   self.addCleanup(self.client.transport.loseConnection)", lines)
        at = lines.index("ran first self.addCleanup(lambda: waiting(self.client_lost))")
        self.assertEqual(lines[at + 1], f"at {os.path.join('tests', 'fixtures', 'two_errors', CLEANUPS)}.py:{_tagged(CLEANUPS, '@cleanup:wait')}")
        # The fix: the same lines, the waiting one first, paste-able.
        fix = lines.index("fix       register them the other way round, the waiting one first:")
        self.assertEqual(
            lines[fix + 1 : fix + 4],
            [
                "self.addCleanup(lambda: waiting(self.client_lost))",
                "self.addCleanup(self.port.stopListening)",
                "self.addCleanup(self.client.transport.loseConnection)",
            ],
        )
        ours = timeout[timeout.index("It was waiting here"):]  # not Trial's own line
        self.assertEqual(too_wide(ours), [], timeout)

    def test_findings_left_by_the_timeout_name_it(self):
        _, dirty = self.blocks("Connected.test_wait_registered_after_the_close")
        fix = _fixed(dirty)
        self.assertTrue(fix.startswith(
            "Cleanups registered in an order that cannot work: "
            "self.addCleanup(lambda: waiting(self.client_lost)) was registered after "
            "self.addCleanup(self.client.transport.loseConnection)"
        ), dirty)
        self.assertIn(
            "Register them the other way round: self.addCleanup(lambda: "
            "waiting(self.client_lost)) then self.addCleanup(self.port.stopListening) "
            "then self.addCleanup(self.client.transport.loseConnection).",
            fix,
        )
        self.assertEqual(too_wide(dirty), [], dirty)

    def test_loop_waited_for_before_its_stop(self):
        timeout, _ = self.blocks("Loop.test_wait_for_the_loop_before_its_stop")
        lines = [line.strip() for line in timeout.splitlines()]
        self.assertIn("not run   self.addCleanup(loop.stop)", lines, timeout)
        fix = lines.index("fix       register them the other way round, the waiting one first:")
        self.assertEqual(lines[fix + 1 : fix + 3], ["self.addCleanup(lambda: waiting(done))", "self.addCleanup(loop.stop)"])

    def test_right_order_is_clean(self):
        run = self.run_fixture()
        self.assertNotIn(f"{CLEANUPS}.Connected.test_right_order", run.errors, run.output)


def _tagged(module: str, tag: str) -> int:
    return tagged_line(os.path.join("two_errors", module), tag)


class _Target:
    def close(self):
        pass


def _trial_runs(func, args, kwargs):
    # The shape of the function Trial (25.x+) runs a cleanup through.
    return lambda: func(*args, **kwargs)


class CleanupOrderLogicTests(unittest.SynchronousTestCase):
    """The pure part: which cleanups are named, in which order, what is marked."""

    def test_pending_causes_named_in_running_order(self):
        from trial_strictclean.core.diagnosis.cleanups import at_timeout, order_of

        first, second, unrelated = _Target(), _Target(), _Target()
        wait = lambda: None  # noqa: E731
        pending = [(first.close, (), {}), (len, ([],), {}), (second.close, (), {})]
        order = at_timeout(self, _trial_runs(wait, (), {}), pending)
        self.assertEqual([c.code for c in order.causes], ["self.addCleanup(_Target.close)"] * 2)
        self.assertEqual(order.fixed[0], "self.addCleanup(CleanupOrderLogicTests.test_pending_causes_named_in_running_order.<locals>.<lambda>)")
        self.assertIs(order_of(first), order)
        self.assertIs(order_of(second), order)
        self.assertIsNone(order_of(unrelated))

    def test_nothing_without_a_cause(self):
        from trial_strictclean.core.diagnosis.cleanups import at_timeout

        self.assertIsNone(at_timeout(self, _trial_runs(len, ([],), {}), [(len, ([],), {})]))

    def test_not_a_cleanup(self):
        from trial_strictclean.core.diagnosis.cleanups import at_timeout

        self.assertIsNone(at_timeout(self, "test_method", [(_Target().close, (), {})]))


SHARED = "advice_shared"

# test -> the tag of its line that called the shared helper
SHARED_TESTS = {
    "Shared.test_delayed_call": "delayed_call",
    **{f"Repeats.test_{n}": f"repeat{n}" for n in range(10)},
    "Shared.test_counted": "counted",
    "Shared.test_looping_call": "looping_call",
    "Shared.test_port": "port",
    "Shared.test_closing_port": "closing_port",
    "Shared.test_pair": "pair",
    "Shared.test_connector": "connector",
    "Shared.test_process": "process",
    "Shared.test_thread_running": "thread_running",
    "Shared.test_thread_work": "thread_work",
    "Shared.test_trigger": "trigger",
    "Shared.test_observer": "observer",
    "Shared.test_defer_later": "defer_later",
    "Shared.test_deferred_timeout": "deferred_timeout",
}
SHARED_ASYNCIO = {
    "SharedAsyncio.test_asyncio_task": "asyncio_task",
    "SharedAsyncio.test_asyncio_handle": "asyncio_handle",
}


class TestsOwnLineTests(unittest.SynchronousTestCase):
    """
    Item 3: a leftover made by shared code (a helper) shows the helper's
    line and the test's line that led to it, in every kind and shape: grouped
    parts, counted identical items, and a block that refers back to an
    earlier test's.
    """

    def check(self, run, tests: dict) -> None:
        path = os.path.join("tests", "fixtures", f"{SHARED}.py")
        for test, tag in tests.items():
            block = run.error_text(f"{SHARED}.{test}")
            self.assertIn("left the reactor dirty", block, f"{test}\n{run.output[-3000:]}")
            line = tagged_line(SHARED, f"@test:{tag}")
            self.assertRegex(block, rf"called\s+from \S*{re.escape(path)}:{line} in ", f"{test}\n{block}")

    def test_default_reactor(self):
        run = cached_run("--reporter=strictclean", SHARED)
        self.check(run, SHARED_TESTS)
        # Counted: one item for the three identical calls, with the test's line.
        self.assertIn("1. delayed-call (x 3): ", run.error_text(f"{SHARED}.Shared.test_counted"))
        # Grouped: the client end's part names the test's line too.
        pair = run.error_text(f"{SHARED}.Shared.test_pair")
        self.assertEqual(pair.count(f"{SHARED}.py:{tagged_line(SHARED, '@test:pair')} in "), 2, pair)
        # A repeat of an earlier test's story refers back, and keeps its own line.
        again = run.error_text(f"{SHARED}.Repeats.test_5")
        self.assertIn(f"as in {SHARED}.Repeats.test_0,", " ".join(again.split()))
        self.assertNotIn("   fix ", again)

    def test_asyncio_reactor(self):
        run = cached_run("--reporter=strictclean", "--reactor=asyncio", f"{SHARED}.SharedAsyncio")
        self.check(run, SHARED_ASYNCIO)
