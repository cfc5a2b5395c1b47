"""
``pytest --strictclean``: real pytest runs, in subprocesses, over the suites
in tests/pytest_fixtures/ (copied to a fresh folder, so node ids and the
configuration are the suite's own).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytest_fixtures")


def _errors(output: str) -> list[str]:
    """The tests pytest reported an error at teardown for, in order."""
    return re.findall(r"_ ERROR at teardown of (\S+) _", output)


class PytestRun(SynchronousTestCase):
    def pytest(self, *args: str, suites=("suite_kinds.py",), env=None, config="") -> tuple[int, str]:
        folder = os.path.abspath(self.mktemp())
        os.makedirs(folder)
        for name in suites:
            shutil.copy(os.path.join(FIXTURES, name), folder)
        # The suite's own project: rootdir, node ids and configuration.
        with open(os.path.join(folder, "pyproject.toml"), "w", encoding="utf-8") as file:
            file.write('[tool.pytest.ini_options]\npython_files = ["suite_*.py"]\n' + config)
        command = [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
            "--basetemp", os.path.join(folder, "tmp"),
            *args, *suites,
        ]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TRIAL_STRICTCLEAN_")}
        environment.update(env or {})
        done = subprocess.run(
            command, cwd=folder, env=environment, capture_output=True, text=True, timeout=120
        )
        self.folder = folder
        return done.returncode, done.stdout + done.stderr


KINDS_DIRTY = [
    "test_port_open",
    "test_port_closing",
    "test_timer",
    "test_looping_call",
    "test_defer_later",
]


class OffByDefault(PytestRun):
    def test_no_flag_changes_nothing(self):
        status, output = self.pytest()
        self.assertEqual(status, 0, output)
        self.assertIn("8 passed", output)
        self.assertNotIn("strictclean", output.replace("trial-strictclean-", ""))

    def test_our_modules_are_not_rewritten(self):
        # pytest would import them through its assertion rewriter (about
        # 50 M instructions at start-up); plugin._import_plainly.
        status, output = self.pytest("--strictclean", suites=("suite_loaders.py",))
        self.assertEqual(status, 0, output)

    def test_importing_the_plugin_is_cheap(self):
        code = (
            "import sys, trial_strictclean.pytest.plugin;"
            "print(sorted(m for m in sys.modules if m.startswith(('twisted.internet.reactor', 'twisted.trial'))))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.stdout.strip(), "[]", done.stderr)


class Kinds(PytestRun):
    def check_kinds(self, *args: str):
        status, output = self.pytest("--strictclean", *args)
        self.assertEqual(status, 1, output)
        self.assertEqual(sorted(_errors(output)), sorted(KINDS_DIRTY), output)
        self.assertIn("8 passed, 5 errors", output)
        for site in (
            "created   suite_kinds.py:10 in test_port_open",
            "created   suite_kinds.py:25 in test_port_closing",
            "closed    suite_kinds.py:26 in test_port_closing",
            "created   suite_kinds.py:30 in test_timer",
            "created   suite_kinds.py:38 in test_looping_call",
            "created   suite_kinds.py:44 in test_defer_later",
        ):
            self.assertIn(site, output)
        # Runner plumbing is never shown as the user's caller (the fixes
        # name pytest_twisted's fixture decorators: that is the idiom).
        self.assertNotRegex(output, r"(created|called|closed) +\S*pytest_twisted")
        self.assertNotIn("self.addCleanup", output)
        self.assertIn("a fixture (@pytest_twisted.async_yield_fixture) that does yield port", " ".join(output.split()))
        self.assertIn("as pytest-twisted leaves it", output)

    def test_default_reactor(self):
        self.check_kinds("--reactor=default")

    def test_asyncio_reactor(self):
        self.check_kinds("--reactor=asyncio")


class Scopes(PytestRun):
    def test_wider_fixtures_own_what_they_create(self):
        status, output = self.pytest("--strictclean", suites=("suite_scopes.py",))
        self.assertEqual(status, 1, output)
        self.assertEqual(
            sorted(_errors(output)),
            sorted([
                "test_function_fixture",
                "test_async_function_fixture",
                "StdlibCase.test_stdlib_closing",
                "StdlibCase.test_stdlib_port",
                "SyncCase.test_sync_timer",
                # Module and session fixtures are finalized after the last
                # test: judged then, reported there, named as theirs.
                "test_last",
            ]),
            output,
        )
        last = output.split("ERROR at teardown of test_last")[1].split("= trial-strictclean =")[0]
        words = " ".join(last.split())
        self.assertIn("The fixture 'module_port' (module scope, suite_scopes.py:23) left the reactor dirty", words)
        self.assertIn("The fixture 'session_port' (session scope, suite_scopes.py:16) left the reactor dirty", words)
        # The fixture's own lead, whole, and nothing left of the test's.
        self.assertNotIn("before it ends", last)
        lead = last.split("The fixture 'module_port'")[1].split("\n\n")[0]
        self.assertLessEqual(max(len(line) for line in lead.splitlines()), 80, last)
        self.assertIn("closed    suite_scopes.py:20 in session_port", last)
        self.assertNotIn("This test left", last)
        # Clean: the class fixture, the async module fixture.
        self.assertNotIn("class_timer", output)
        self.assertNotIn("async_module_port", output)


class SharedServers(PytestRun):
    def test_strict(self):
        status, output = self.pytest("--strictclean", suites=("suite_shared.py",))
        self.assertEqual(
            _errors(output), ["test_client_one", "test_client_two", "test_client_waits_for_server_end"], output
        )
        # Prose wraps at 80 columns: compare it as words.
        self.assertIn("The server belongs to fixture 'server' (session scope, suite_shared.py:21)", " ".join(output.split()))
        self.assertIn("fixture 'server' (session scope, suite_shared.py:21): 2 tests:", output)

    def test_practical(self):
        status, output = self.pytest("--strictclean", "--strictclean-shared=practical", suites=("suite_shared.py",))
        self.assertEqual(_errors(output), ["test_client_waits_for_server_end"], output)
        self.assertIn("not failed: counted against the fixture", output)
        self.assertIn("fixture 'server' (session scope, suite_shared.py:21): 2 tests:", output)


    def test_practical_when_the_fixture_ends_in_the_same_teardown(self):
        status, output = self.pytest(
            "--strictclean", "--strictclean-shared=practical", suites=("suite_shared_last.py",)
        )
        self.assertEqual(_errors(output), ["test_only"], output)
        block = output.split("ERROR at teardown of test_only")[1].split("= trial-strictclean =")[0]
        self.assertIn("The fixture 'server' (module scope", block)
        self.assertNotIn("connection-open", block)
        self.assertIn("1 tests: suite_shared_last.py::test_only", output)


class Xdist(PytestRun):
    def records(self, *args: str) -> dict:
        status, output = self.pytest(
            "--strictclean", *args, suites=("suite_kinds.py",), env={"TRIAL_STRICTCLEAN_JSON": "report.json"}
        )
        self.assertEqual(status, 1, output)
        with open(os.path.join(self.folder, "report.json"), encoding="utf-8") as file:
            report = json.load(file)
        return {t["id"]: (t["outcome"], [f["kind"] for f in t["findings"]]) for t in report["tests"]}

    def test_same_json_with_and_without_n(self):
        alone = self.records()
        self.assertEqual(alone["suite_kinds.py::test_port_open"], ("error", ["listening-port-open"]))
        self.assertEqual(alone["suite_kinds.py::test_port_clean"], ("passed", []))
        self.assertEqual(self.records("-n", "2"), alone)


class Locations(PytestRun):
    """Each test's file and line in the report files, as for Trial tests."""

    def where(self, *args: str) -> dict:
        status, output = self.pytest(
            "--strictclean", *args, suites=("suite_kinds.py", "suite_scopes.py"),
            env={"TRIAL_STRICTCLEAN_JUNIT_XML": "junit.xml"},
        )
        self.assertEqual(status, 1, output)
        from xml.etree import ElementTree

        cases = ElementTree.parse(os.path.join(self.folder, "junit.xml")).getroot().iter("testcase")
        return {(c.get("classname"), c.get("name")): (c.get("file"), c.get("line")) for c in cases}

    def test_file_and_line_of_each_test(self):
        alone = self.where()
        found = {name.rpartition(".")[2].rpartition("::")[2]: where for (_, name), where in alone.items()}
        # The def line, 1-based, the path as the suite's findings show it.
        self.assertEqual(found["test_port_open"], ("suite_kinds.py", "9"), alone)
        self.assertEqual(found["test_port_clean"], ("suite_kinds.py", "13"))
        self.assertEqual(found["test_stdlib_port"], ("suite_scopes.py", "85"))
        self.assertNotIn((None, None), alone.values())
        self.assertEqual(self.where("-n", "2"), alone)


class Idiom(PytestRun):
    def test_the_documented_fixes_are_clean(self):
        # docs/pytest.rst, "Fixing a leftover under pytest".
        status, output = self.pytest("--strictclean", suites=("suite_idiom.py",))
        self.assertEqual(status, 0, output)
        self.assertIn("3 passed", output)
        self.assertEqual(_errors(output), [], output)


class XdistCounts(PytestRun):
    def test_not_blamed_again_count_reaches_the_controller(self):
        def count(*args):
            status, output = self.pytest("--strictclean", *args, suites=("suite_more_kinds.py",))
            found = re.findall(r"(\d+) objects created by leftovers of earlier tests", output)
            self.assertEqual(len(found), 1, output)
            return int(found[0])

        alone = count()
        self.assertGreater(alone, 0)
        # One file, one worker: the same tests in the same order.
        self.assertEqual(count("-n", "2", "--dist", "loadfile"), alone)


class Ignoring(PytestRun):
    def test_rules_match_node_ids_and_markers_apply(self):
        rules = (
            "[tool.trial_strictclean]\n"
            'ignore = [{ test = "suite_ignore.py::test_ruled_*", reason = "by node id" },\n'
            '          { test = "*::test_nothing_matches", reason = "stale" }]\n'
        )
        status, output = self.pytest("--strictclean", suites=("suite_ignore.py",), config=rules)
        self.assertEqual(_errors(output), ["test_unaccepted_timer"], output)
        self.assertIn("ignored: 3 (3 delayed-call)", output)
        self.assertIn("stale ignore rules (matched nothing in this run): 1", output)
        self.assertIn("test='*::test_nothing_matches'", output)


class Benchmark(PytestRun):
    def test_quick_pair_runs_and_the_suite_is_clean(self):
        script = os.path.join(os.path.dirname(FIXTURES), os.pardir, "benchmarks", "pytest_compare.py")
        done = subprocess.run(
            [sys.executable, os.path.abspath(script), "--quick"], capture_output=True, text=True, timeout=300
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("median CPU ratio", done.stdout)
        self.assertIn("[20 passed", done.stdout)


class MoreKinds(PytestRun):
    def test_every_other_kind_on_its_test(self):
        status, output = self.pytest("--strictclean", suites=("suite_more_kinds.py",))
        self.assertIn("8 passed, 8 errors", output)
        blocks = dict(re.findall(r"_ ERROR at teardown of (\S+) _+\n(.*?)(?=\n_+ ERROR|\n=+ )", output, re.S))
        expected = {
            "test_connection_open": ["listening-port-open", "connection-open (server)", "connection-open (client)"],
            "test_client_closing": ["connection-open (server)", "connection-closing (client)"],
            "test_protocol_timeout": [
                "listening-port-open", "connection-open (server)", "connection-open (client)", "protocol-timeout",
            ],
            "test_connector_connecting": ["connector-connecting"],
            # The connector of the test before goes on connecting while this
            # test runs the reactor: it is not blamed here again.
            "test_deferred_timeout": ["deferred-timeout"],
            "test_udp_port_open": ["listening-port-open"],
            "test_process_running": ["process-running"],
            "test_thread_work": ["thread-work"],
        }
        self.assertEqual(sorted(blocks), sorted(expected), output)
        for test, kinds in expected.items():
            # An item's lead ("1. kind: ...") and the parts listed under it.
            found = re.findall(r"^(?:\d+\. |\s+part\s+)([a-z-]+(?: \((?:client|server)\))?)(?: \(x \d+\))?:", blocks[test], re.M)
            self.assertEqual(found, kinds, blocks[test])
        for site in (
            "created   suite_more_kinds.py:39 in test_connection_open",
            "created   suite_more_kinds.py:22 in Idle.connectionMade" if sys.version_info >= (3, 11) else "created   suite_more_kinds.py:22 in connectionMade",
            "created   suite_more_kinds.py:66 in test_connector_connecting",
            "created   suite_more_kinds.py:70 in test_deferred_timeout",
            "created   suite_more_kinds.py:78 in test_process_running",
            "created   suite_more_kinds.py:84 in test_thread_work",
        ):
            self.assertIn(site, output)
        self.assertIn("objects created by leftovers of earlier tests", output)


class OurFaults(PytestRun):
    """A fault in the adapter or the core never errs a user's test."""

    def test_tests_keep_their_outcomes(self):
        status, output = self.pytest("--strictclean", suites=("suite_faults.py",), env={"STRICTCLEAN_FAULT": "1"})
        self.assertEqual(status, 0, output)
        self.assertIn("2 passed", output)
        self.assertNotIn("error", output.lower().split("trial-strictclean")[0])
        self.assertIn("trial-strictclean: could not judge suite_faults.py::test_uses_a_module_fixture", output)
        self.assertEqual(output.count("trial-strictclean: could not"), 1, output)


class OurFixtureFaults(PytestRun):
    """
    A fault in the fixture-ownership path (the window around a wider
    fixture, handing what it created over, the window before its teardown,
    judging it at finalization) never errs a user's test either.
    """

    suites = ("suite_fixture_faults.py", "suite_fixture_faults_after.py")

    def check(self, fault: str, note: str):
        status, output = self.pytest("--strictclean", suites=self.suites, env={"STRICTCLEAN_FAULT": fault})
        # Stock pytest's outcomes, and the run goes on judging: the timer
        # of the last test is still found.
        self.assertEqual(_errors(output), ["test_leaves_a_timer"], output)
        self.assertIn("4 passed, 1 error", output)
        self.assertEqual(output.count("trial-strictclean: could not"), 1, output)
        self.assertIn(f"trial-strictclean: could not {note}", output)
        self.assertIn("RuntimeError: injected fault (a fault in trial-strictclean", output)

    def test_unbroken(self):
        status, output = self.pytest("--strictclean", suites=self.suites)
        self.assertEqual(_errors(output), ["test_leaves_a_timer"], output)
        self.assertNotIn("could not", output)

    def test_window_around_setup(self):
        # pytest-twisted's session fixture (twisted_greenlet) comes first.
        self.check("window", "look at the reactor around fixture '")

    def test_reading_the_window(self):
        self.check("created", "note what fixture '")

    def test_handing_over(self):
        self.check("adopt", "note what fixture '")

    def test_window_before_teardown(self):
        self.check("finalizing", "look at the reactor before fixture 'shared' (module scope")

    def test_judging_at_finalization(self):
        self.check("judge-finalized", "judge fixture 'shared' (module scope")


class Ownership(PytestRun):
    """
    Issue 12 item 5 and issue 16: a wider fixture's re-armed timers (a
    Site's, a LoopingCall's) are never a test's; what was started at import
    is reported once, at the end of the run, and fails the run by default.
    """

    def check(self, *args, env=None):
        report = os.path.join(os.path.abspath(self.mktemp()) + ".json")
        status, output = self.pytest(
            "--strictclean", *args, suites=("suite_ownership.py",),
            env={"TRIAL_STRICTCLEAN_JSON": report, **(env or {})},
        )
        self.assertIn("3 passed", output)
        self.assertNotIn("ERROR at teardown", output)
        with open(report, encoding="utf-8") as file:
            data = json.load(file)
        lines = {(f["kind"], f["created"]["line"], f["started_by"]) for f in data["run_level"]}
        self.assertEqual(lines, {("looping-call", _tagged("suite_ownership", "imported-loop"), None)}, output)
        return status, output, data

    def test_fixture_timers_are_not_blamed(self):
        status, output, data = self.check()
        self.assertEqual(status, 1, output)
        self.assertIn("Left in the reactor at the end of the run, on no test", output)
        self.assertIn("stop it after the fixture's yield", " ".join(output.split()))
        self.assertNotIn("self.addCleanup", output)

    def test_asyncio_reactor(self):
        status, output, data = self.check("--reactor=asyncio")
        self.assertEqual(status, 1, output)

    def test_xdist(self):
        # Each worker imported the module: each reports its own loop.
        status, output, data = self.check("-n", "2")
        self.assertEqual(status, 1, output)
        self.assertEqual(data["summary"]["run_level"], 2)

    def test_end_of_run_report_only(self):
        status, output, data = self.check(env={"TRIAL_STRICTCLEAN_END_OF_RUN": "report"})
        self.assertEqual(status, 0, output)
        self.assertIn("reported only: end-of-run = 'report'", " ".join(output.split()))


def _tagged(suite: str, tag: str) -> int:
    """The number of the line of a pytest fixture suite that ends with ``# tag``."""
    with open(os.path.join(FIXTURES, f"{suite}.py"), encoding="utf-8") as file:
        for number, text in enumerate(file, 1):
            if text.rstrip().endswith(f"# {tag}"):
                return number
    raise AssertionError(f"no line tagged {tag!r} in {suite}")


class FailingTests(PytestRun):
    """pytest-twisted keeps a failing test's failure in its own Deferred: never reported twice."""

    def test_each_failure_once(self):
        status, output = self.pytest("--strictclean", suites=("suite_failing.py",))
        self.assertEqual(status, 1, output)
        summary = output.splitlines()[-1]
        # One error at setup (the fixture), one at teardown (the other error).
        self.assertIn("4 failed, 2 errors", summary, output)
        self.assertIn("ERROR at setup of test_uses_a_broken_fixture", output)
        # The one error of its own a test left besides its failure.
        self.assertEqual(_errors(output), ["test_fails_and_leaves_another_error"], output)
        self.assertIn("unhandled-error: ZeroDivisionError", output)
        self.assertNotIn("unhandled-error: AssertionError", output)
        self.assertNotIn("Unhandled error in Deferred", output)
