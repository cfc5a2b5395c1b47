"""
The baseline (issue 15): a suite with known leftovers turns the reporter on
in two commands, stays green while its code moves, fails only on new
leftovers, and says when an entry can be deleted; sharded reports merge.

The end-to-end tests copy tests/fixtures/baseline_legacy.py into a folder of
their own (the project), run the real trial there, and edit the copy.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile

from twisted.trial import unittest

from tests.trialrun import FIXTURES, PROJECT, run_trial
from trial_strictclean.core import baseline
from trial_strictclean.core.config import ConfigError, load
from trial_strictclean.core.findings import Finding, Site
from trial_strictclean.render.json_report import SCHEMA_FILE

MODULE = "baseline_legacy"
# Sites name a method Legacy.test_x from Python 3.11 on, test_x before.
QUALIFIED = "Legacy." if sys.version_info >= (3, 11) else ""
LEGACY = f"{MODULE}.Legacy"
SYNC_CLASS = '''class LegacySync(unittest.SynchronousTestCase):
    def test_sync_timer(self):
        reactor.callLater(64, _tick)
'''
HELPER = '''def start_timer():
    return reactor.callLater(60, _tick)


'''
# What a developer does to the legacy suite once the baseline is written.
EDITS = (
    # Lines inserted above everything.
    ("import os\n", "# A new header.\n" * 5 + "import os\n"),
    # A leftover fixed: its entry becomes stale.
    ("reactor.callLater(61, _tick)  # EDIT: fixed", "pass  # EDIT: fixed"),
    # The test renamed, and the creation line's text changed: new findings.
    ("def test_renamed(self):  # EDIT: renamed", "def test_renamed_now(self):  # EDIT: renamed"),
    ("reactor.callLater(63, _tick)  # EDIT: text", "reactor.callLater(63.0, _tick)  # EDIT: text"),
    # A new leftover in a test that had none.
    ("pass  # EDIT: new leak", "reactor.callLater(65, _tick)  # EDIT: new leak"),
)


def _edit(text: str) -> str:
    for old, new in EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    # Functions moved within the file: the helper to the end, the
    # synchronous test class above the other.
    assert text.count(HELPER) == 1 and text.count(SYNC_CLASS) == 1
    text = text.replace(HELPER, "").replace(SYNC_CLASS, "")
    text = text.replace("class Legacy(unittest.TestCase):", SYNC_CLASS + "\n\nclass Legacy(unittest.TestCase):")
    return text.rstrip("\n") + "\n\n\n" + HELPER.rstrip("\n") + "\n"


def _folder(prefix: str) -> str:
    folder = os.path.realpath(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def cli(*args: str, cwd: str = PROJECT) -> subprocess.CompletedProcess:
    """``python -m trial_strictclean ARGS`` in ``cwd``."""
    env = dict(os.environ, PYTHONPATH=PROJECT)
    return subprocess.run(
        [sys.executable, "-m", "trial_strictclean", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


class Project:
    """A copy of the legacy suite in a folder of its own, and runs of it."""

    def __init__(self) -> None:
        self.folder = _folder("strictclean-baseline-")
        shutil.copy(os.path.join(FIXTURES, f"{MODULE}.py"), self.folder)
        self.baseline = os.path.join(self.folder, "strictclean-baseline.json")
        self._runs = 0

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def edit(self) -> None:
        path = self.path(f"{MODULE}.py")
        with open(path, encoding="utf-8") as file:
            text = _edit(file.read())
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)

    def trial(self, *args: str, env: dict | None = None):
        """Run trial here with a JSON report; the run and the report."""
        self._runs += 1
        report = self.path(f"report-{self._runs}.json")
        environment = {"PYTHONPATH": os.pathsep.join((self.folder, PROJECT)), "TRIAL_STRICTCLEAN_JSON": report}
        environment.update(env or {})
        run = run_trial("--reporter=strictclean", *(args or (MODULE,)), env=environment, cwd=self.folder)
        data = None
        if os.path.exists(report):
            with open(report, encoding="utf-8") as file:
                data = json.load(file)
        return run, data

    def with_baseline(self, *args: str, **env: str):
        return self.trial(*args, env={"TRIAL_STRICTCLEAN_BASELINE": self.baseline, **env})


def tests_of(report: dict) -> dict:
    """test id (without the module) -> (outcome, [(kind, baseline flag)])."""
    return {
        test["id"][len(MODULE) + 1 :]: (test["outcome"], [(f["kind"], f.get("baseline", False)) for f in test["findings"]])
        for test in report["tests"]
    }


@functools.lru_cache(maxsize=None)
def scenario() -> dict:
    """The whole story once: before, baseline, after edits, -j, stale."""
    project = Project()
    runs = {"project": project}
    runs["before"] = project.trial()
    runs["baseline-command"] = cli("baseline", "--output", project.baseline, project.path("report-1.json"), cwd=project.folder)
    runs["unchanged"] = project.with_baseline()
    project.edit()
    runs["edited"] = project.with_baseline()
    runs["edited -j2"] = project.with_baseline("-j2", MODULE)
    # test_fixed's entry is stale; test_platform, skipped, is not.
    stale_only = (f"{LEGACY}.test_fixed", f"{LEGACY}.test_timer", f"{LEGACY}.test_platform")
    runs["stale report"] = project.with_baseline(*stale_only, LEGACY_SKIP="1")
    runs["stale fail"] = project.with_baseline(*stale_only, LEGACY_SKIP="1", TRIAL_STRICTCLEAN_BASELINE_STALE="fail")
    runs["stale fail -j2"] = project.with_baseline(
        "-j2", *stale_only, LEGACY_SKIP="1", TRIAL_STRICTCLEAN_BASELINE_STALE="fail"
    )
    runs["skipped only, fail"] = project.with_baseline(
        f"{LEGACY}.test_platform", LEGACY_SKIP="1", TRIAL_STRICTCLEAN_BASELINE_STALE="fail"
    )
    return runs


class TurningItOn(unittest.SynchronousTestCase):
    """Two commands: a report, then a baseline written from it."""

    def test_baseline_written_from_the_report(self):
        runs = scenario()
        command = runs["baseline-command"]
        self.assertEqual(command.returncode, 0, command.stderr)
        self.assertIn("wrote 8 baseline entries for 8 tests", command.stdout)
        with open(runs["project"].baseline, encoding="utf-8") as file:
            text = file.read()
        data = json.loads(text)
        self.assertEqual((data["format"], data["version"]), ("trial-strictclean-baseline", 1))
        entry = next(e for e in data["entries"] if e["test"].endswith("test_helper_timer"))
        # No line number: the file, the function and the line's text.
        self.assertEqual(
            entry,
            {
                "test": f"{LEGACY}.test_helper_timer",
                "kind": "delayed-call",
                "file": f"{MODULE}.py",
                "function": "start_timer",
                "code": "return reactor.callLater(60, _tick)",
                "reason": "",
            },
        )
        # Sorted and stable: writing it again gives the same text.
        self.assertEqual([e["test"] for e in data["entries"]], sorted(e["test"] for e in data["entries"]))
        self.assertEqual(baseline.dumps(baseline.parse(text)), text)

    def test_known_findings_pass_and_are_marked(self):
        run, report = scenario()["unchanged"]
        self.assertEqual(run.returncode, 0, run.output)
        self.assertEqual(run.counts, {"successes": 10})
        tests = tests_of(report)
        self.assertEqual(tests["Legacy.test_port"], ("passed", [("listening-port-open", True)]))
        self.assertEqual(tests["LegacySync.test_sync_timer"], ("passed", [("delayed-call", True)]))
        self.assertEqual(report["summary"]["dirty_tests"], 0)
        self.assertEqual(report["summary"]["findings_by_kind"], {})
        self.assertIn("known, kept by the baseline (not failing their tests): 8", run.output)
        self.assertIn(f"{LEGACY}.test_port: listening-port-open at {MODULE}.py:", run.output)
        self.assertNotIn("stale", run.output)

    def test_known_only_is_no_junit_error_nor_annotation(self):
        from junitparser import JUnitXml

        from trial_strictclean.render.github import annotations
        from trial_strictclean.render.json_report import records_from

        project = scenario()["project"]
        _, report = scenario()["unchanged"]
        self.assertEqual(annotations(records_from(report), project.folder, project.folder), [])
        with open(project.path("unchanged.json"), "w", encoding="utf-8") as file:
            json.dump(report, file)
        merged = cli("merge", "--json", "m.json", "--junit-xml", "m.xml", "unchanged.json", cwd=project.folder)
        self.assertEqual(merged.returncode, 0, merged.stdout + merged.stderr)
        suite = next(iter(JUnitXml.fromfile(project.path("m.xml"))))
        self.assertEqual((suite.tests, suite.errors, suite.failures), (10, 0, 0))

    def test_report_matches_the_schema(self):
        import jsonschema

        with open(SCHEMA_FILE, encoding="utf-8") as file:
            schema = json.load(file)
        for name in ("unchanged", "edited", "edited -j2"):
            jsonschema.validate(scenario()[name][1], schema)


class AfterEdits(unittest.SynchronousTestCase):
    """Lines inserted, functions moved, a fix, a rename, a changed line."""

    def check(self, name):
        run, report = scenario()[name]
        tests = tests_of(report)
        # Still known after lines were inserted above and functions moved.
        self.assertEqual(tests["Legacy.test_timer"], ("passed", [("delayed-call", True)]))
        self.assertEqual(tests["Legacy.test_helper_timer"], ("passed", [("delayed-call", True)]))
        self.assertEqual(tests["Legacy.test_port"], ("passed", [("listening-port-open", True)]))
        self.assertEqual(tests["LegacySync.test_sync_timer"], ("passed", [("delayed-call", True)]))
        self.assertEqual(tests["Legacy.test_fixed"], ("passed", []))
        self.assertEqual(tests["Legacy.test_platform"], ("passed", [("delayed-call", True)]))
        # New: renamed test, changed line, new leftover.
        self.assertEqual(tests["Legacy.test_renamed_now"], ("error", [("delayed-call", False)]))
        self.assertEqual(tests["Legacy.test_text_changed"], ("error", [("delayed-call", False)]))
        self.assertEqual(tests["Legacy.test_new_leak"], ("error", [("delayed-call", False)]))
        self.assertEqual(sorted(run.errors), [f"{LEGACY}.{n}" for n in ("test_new_leak", "test_renamed_now", "test_text_changed")])
        self.assertEqual(report["summary"]["dirty_tests"], 3)
        self.assertEqual(run.returncode, 1)
        # The fixed leftover's entry is stale, named with its test and site,
        # and so is the changed line's old one; the renamed test's entry is
        # not (its test did not run).
        self.assertIn("stale baseline entries", run.output)
        self.assertIn(
            f"stale: {LEGACY}.test_fixed: delayed-call at {MODULE}.py in {QUALIFIED}test_fixed: "
            "reactor.callLater(61, _tick)  # EDIT: fixed",
            run.output,
        )
        self.assertIn(f"stale: {LEGACY}.test_text_changed: delayed-call", run.output)
        self.assertEqual(run.output.count("stale: "), 2, run.output)
        return run, report

    def test_one_process(self):
        self.check("edited")

    def test_under_j2(self):
        self.check("edited -j2")
        self.assertEqual(tests_of(scenario()["edited"][1]), tests_of(scenario()["edited -j2"][1]))

    def test_stale_does_not_fail_by_default(self):
        run, _ = scenario()["stale report"]
        self.assertEqual(run.returncode, 0, run.output)
        self.assertEqual(run.status, "PASSED")
        self.assertIn(f"stale: {LEGACY}.test_fixed", run.output)
        self.assertEqual(run.output.count("stale: "), 1, run.output)
        self.assertIn("delete them from the baseline", run.output)

    def test_stale_fails_when_asked(self):
        for name in ("stale fail", "stale fail -j2"):
            run, _ = scenario()[name]
            self.assertEqual(run.returncode, 1, run.output)
            self.assertEqual(run.status, "FAILED", name)
            self.assertEqual(run.counts, {"successes": 2, "skips": 1}, name)
            self.assertIn(f"stale: {LEGACY}.test_fixed", run.output)
            self.assertEqual(run.output.count("stale: "), 1, run.output)
            self.assertIn("baseline-stale = 'fail'", run.output)

    def test_skipped_test_is_never_stale(self):
        run, _ = scenario()["skipped only, fail"]
        self.assertEqual(run.returncode, 0, run.output)
        self.assertEqual(run.counts, {"skips": 1})
        self.assertNotIn("stale", run.output)


class KnownBesideNew(unittest.SynchronousTestCase):
    """A test with a known and a new leftover fails, and shows both."""

    def test_mixed(self):
        project = Project()
        project.trial(f"{LEGACY}.test_timer")
        command = cli("baseline", "-o", project.baseline, project.path("report-1.json"), cwd=project.folder)
        self.assertEqual(command.returncode, 0, command.stderr)
        path = project.path(f"{MODULE}.py")
        with open(path, encoding="utf-8") as file:
            text = file.read()
        old = "        reactor.callLater(60, _tick)\n"
        with open(path, "w", encoding="utf-8") as file:
            file.write(text.replace(old, old + "        reactor.callLater(66, _tick)\n", 1))
        for args in ((f"{LEGACY}.test_timer",), ("-j2", f"{LEGACY}.test_timer")):
            run, report = project.with_baseline(*args)
            self.assertEqual(run.returncode, 1, run.output)
            self.assertEqual(tests_of(report)["Legacy.test_timer"], ("error", [("delayed-call", False), ("delayed-call", True)]))
            text = run.error_text(f"{LEGACY}.test_timer")
            self.assertIn("reactor.callLater(66, _tick)", text)
            self.assertIn("known: kept by the baseline", text)
            # Prose wraps at 80 columns: compare it as words.
            self.assertIn(
                "(1 leftover: delayed-call); it must wait for or close each one before it ends. (1 more kept by the baseline)",
                " ".join(text.split()),
            )


class Shards(unittest.SynchronousTestCase):
    """Two shards of one run, merged into one report."""

    def setUp(self):
        self.project = Project()

    def test_merge(self):
        project = self.project
        _, whole = project.trial()
        project.trial(LEGACY)
        project.trial(f"{MODULE}.LegacySync")
        out, xml = project.path("merged.json"), project.path("merged.xml")
        merged = cli("merge", "--json", out, "--junit-xml", xml, "report-2.json", "report-3.json", cwd=project.folder)
        self.assertEqual(merged.returncode, 1, merged.stderr)  # the run has dirty tests
        self.assertIn("tests left dirty: 8", merged.stdout)
        with open(out, encoding="utf-8") as file:
            report = json.load(file)
        self.assertEqual(tests_of(report), tests_of(whole))
        self.assertEqual(report["summary"]["dirty_tests"], 8)
        import jsonschema
        from junitparser import JUnitXml

        with open(SCHEMA_FILE, encoding="utf-8") as file:
            jsonschema.validate(report, json.load(file))
        suite = next(iter(JUnitXml.fromfile(xml)))
        self.assertEqual((suite.tests, suite.errors, suite.failures), (10, 8, 0))

        # A baseline from both shards, then the merged run of known leftovers passes.
        command = cli("baseline", "--output", project.baseline, "report-2.json", "report-3.json", cwd=project.folder)
        self.assertEqual(command.returncode, 0, command.stderr)
        project.with_baseline(LEGACY)
        project.with_baseline(f"{MODULE}.LegacySync")
        merged = cli("merge", "--json", out, "report-4.json", "report-5.json", cwd=project.folder)
        self.assertEqual(merged.returncode, 0, merged.stdout + merged.stderr)
        self.assertIn("tests left dirty: none", merged.stdout)

    def test_a_test_in_two_shards(self):
        project = self.project
        project.trial(LEGACY)
        project.trial(f"{LEGACY}.test_timer")
        merged = cli("merge", "--json", "m.json", "report-1.json", "report-2.json", cwd=project.folder)
        self.assertEqual(merged.returncode, 2)
        self.assertEqual(
            merged.stderr,
            f"trial-strictclean: error: test {LEGACY}.test_timer is in two reports, "
            "report-1.json and report-2.json: shards must not overlap\n",
        )
        self.assertFalse(os.path.exists(project.path("m.json")))


class CommandLine(unittest.SynchronousTestCase):
    """Bad input: one line on stderr, status 2, never a traceback."""

    def setUp(self):
        self.folder = _folder("strictclean-cli-")
        self.write("notjson.json", "{")
        self.write("other.json", '{"schema": "something-else/1"}')
        self.write("badtest.json", '{"schema": "trial-strictclean/2", "tests": [{"id": "x", "outcome": "great"}]}')
        self.write("empty.json", '{"schema": "trial-strictclean/2", "tests": [], "summary": {}}')
        self.write("future.json", '{"format": "trial-strictclean-baseline", "version": 99, "entries": []}')

    def write(self, name, text):
        with open(os.path.join(self.folder, name), "w", encoding="utf-8") as file:
            file.write(text)

    def check(self, args, *words):
        done = cli(*args, cwd=self.folder)
        self.assertEqual(done.returncode, 2, (args, done.stdout, done.stderr))
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        for word in words:
            self.assertIn(word, done.stderr, args)

    def test_help_on_every_command(self):
        for args in (("--help",), ("baseline", "--help"), ("merge", "--help")):
            done = cli(*args, cwd=self.folder)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertIn("usage: trial-strictclean", done.stdout)
        self.assertIn("--output", cli("baseline", "--help").stdout)
        self.assertIn("--junit-xml", cli("merge", "--help").stdout)

    def test_console_script(self):
        script = os.path.join(os.path.dirname(sys.executable), "trial-strictclean")
        if not os.path.exists(script):
            raise unittest.SkipTest("not installed in this environment")
        done = subprocess.run([script, "merge", "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_baseline_bad_input(self):
        self.check(("baseline", "--output", "b.json", "missing.json"), "missing.json", "no such file")
        self.check(("baseline", "--output", "b.json", "notjson.json"), "notjson.json", "not valid JSON")
        self.check(("baseline", "--output", "b.json", "other.json"), "other.json", "not a trial-strictclean report", "something-else/1")
        self.check(("baseline", "--output", "b.json", "future.json"), "future.json", "not a trial-strictclean report")
        self.check(("baseline", "--output", "b.json", "badtest.json"), "badtest.json", "outcome", "great")
        # An existing baseline of a newer version is not overwritten.
        self.check(("baseline", "--output", "future.json", "empty.json"), "future.json", "version 99", "upgrade")
        self.check(("baseline", "empty.json"), "--output")
        self.check(("baseline", "--output", "b.json"), "REPORT.json")
        self.assertFalse(os.path.exists(os.path.join(self.folder, "b.json")))

    def test_merge_bad_input(self):
        self.check(("merge", "--json", "m.json", "missing.json"), "missing.json", "no such file")
        self.check(("merge", "--json", "m.json", "empty.json", "other.json"), "other.json", "not a trial-strictclean report")
        self.check(("merge", "empty.json"), "--json")
        self.check(("merge", "--json", "notjson.json/m.json", "empty.json"), "notjson.json/m.json", "cannot be written")
        self.check(("frobnicate",), "frobnicate")
        self.check((), "COMMAND")
        self.assertFalse(os.path.exists(os.path.join(self.folder, "m.json")))

    def test_reasons_kept_when_rewritten(self):
        report = {
            "schema": "trial-strictclean/2",
            "tests": [
                {
                    "id": "a.T.test_x",
                    "outcome": "error",
                    "duration": 0.1,
                    "findings": [
                        {"kind": "delayed-call", "created": {"file": "a.py", "line": 3, "function": "T.test_x", "code": "f()"}},
                        {"kind": "reader", "created": None},
                    ],
                }
            ],
        }
        self.write("r.json", json.dumps(report))
        self.assertEqual(cli("baseline", "-o", "b.json", "r.json", cwd=self.folder).returncode, 0)
        path = os.path.join(self.folder, "b.json")
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
        data["entries"][0]["reason"] = "cache timer, #42"
        self.write("b.json", json.dumps(data))
        self.assertEqual(cli("baseline", "-o", "b.json", "r.json", cwd=self.folder).returncode, 0)
        entries = baseline.load(path)
        self.assertEqual([(e.kind, e.reason) for e in entries], [("delayed-call", "cache timer, #42"), ("reader", "")])


def _finding(kind="delayed-call", file="app/cache.py", line=10, function="Cache.set", code="reactor.callLater(1, f)"):
    return Finding(kind=kind, resource="r", state="s", message="m", created=Site(file, line, function, code))


class Matching(unittest.SynchronousTestCase):
    """Pure logic of core/baseline.py."""

    def setUp(self):
        self.base = baseline.Baseline(baseline.from_findings([("t.T.test_a", _finding())]), "b.json")

    def test_line_number_does_not_matter(self):
        self.assertIsNotNone(self.base.find("t.T.test_a", _finding(line=99)))

    def test_what_breaks_a_match(self):
        for finding, test in (
            (_finding(), "t.T.test_b"),
            (_finding(kind="reader"), "t.T.test_a"),
            (_finding(file="app/other.py"), "t.T.test_a"),
            (_finding(function="Cache.get"), "t.T.test_a"),
            (_finding(code="reactor.callLater(2, f)"), "t.T.test_a"),
        ):
            self.assertIsNone(self.base.find(test, finding), (finding, test))

    def test_bare_and_qualified_function_names(self):
        # Python 3.10 names it "set", 3.11 "Cache.set": either way round.
        self.assertIsNotNone(self.base.find("t.T.test_a", _finding(function="set")))
        bare = baseline.Baseline(baseline.from_findings([("t.T.test_a", _finding(function="set"))]))
        self.assertIsNotNone(bare.find("t.T.test_a", _finding()))
        self.assertIsNone(bare.find("t.T.test_a", _finding(function="Cache.reset")))

    def test_no_creation_site(self):
        bare = Finding(kind="reader", resource="r", state="s", message="m")
        base = baseline.Baseline(baseline.from_findings([("t.T.test_a", bare)]))
        self.assertIsNotNone(base.find("t.T.test_a", bare))
        self.assertIsNone(base.find("t.T.test_a", _finding(kind="reader")))

    def test_stale_only_for_tests_that_ran(self):
        self.assertEqual(self.base.stale(set()), [])
        [entry] = self.base.stale({"t.T.test_a"})
        self.assertEqual(entry.describe(), "t.T.test_a: delayed-call at app/cache.py in Cache.set: reactor.callLater(1, f)")
        self.assertTrue(self.base.hit("t.T.test_a", _finding(line=3)))
        self.assertEqual(self.base.stale({"t.T.test_a"}), [])

    def test_bad_files(self):
        for text, words in (
            ("[", "not valid JSON"),
            ("{}", "not a trial-strictclean baseline"),
            ('{"format": "trial-strictclean-baseline", "version": 2, "entries": []}', "newer trial-strictclean"),
            ('{"format": "trial-strictclean-baseline", "version": "1", "entries": []}', "version = '1'"),
            ('{"format": "trial-strictclean-baseline", "version": 1, "entries": {}}', "entries"),
            ('{"format": "trial-strictclean-baseline", "version": 1, "entries": [{"kind": "reader"}]}', "entries[0]: test"),
            ('{"format": "trial-strictclean-baseline", "version": 1, "entries": [{"test": "t", "kind": "k", "line": 1, "code": 3}]}', "code = 3"),
        ):
            with self.assertRaises(baseline.BaselineError) as caught:
                baseline.parse(text)
            self.assertIn(words, str(caught.exception))


class Configuration(unittest.SynchronousTestCase):
    """baseline and baseline-stale, and unusable baseline files."""

    def setUp(self):
        self.folder = _folder("strictclean-baseline-config-")
        self.write("good.json", baseline.dumps([baseline.Entry("t.T.test_a", "reader")]))
        self.write("future.json", '{"format": "trial-strictclean-baseline", "version": 2, "entries": []}')
        self.write("broken.json", "{")

    def write(self, name, text):
        with open(os.path.join(self.folder, name), "w", encoding="utf-8") as file:
            file.write(text)

    def test_read_from_pyproject_relative_to_it(self):
        self.write("pyproject.toml", '[tool.trial_strictclean]\nbaseline = "good.json"\nbaseline-stale = "fail"\n')
        inner = os.path.join(self.folder, "sub")
        os.makedirs(inner)
        config = load(inner, {})
        self.assertEqual(config.baseline, os.path.join(self.folder, "good.json"))
        self.assertEqual(config.baseline_stale, "fail")
        self.assertEqual([e.test for e in config.baseline_entries], ["t.T.test_a"])
        self.assertEqual(load(self.folder, {"TRIAL_STRICTCLEAN_BASELINE": ""}).baseline_entries, ())

    def test_defaults(self):
        config = load(self.folder, {})
        self.assertEqual((config.baseline, config.baseline_entries, config.baseline_stale), (None, (), "report"))

    BAD = {
        "stale choice": ({"TRIAL_STRICTCLEAN_BASELINE_STALE": "sometimes"}, ["baseline-stale", "sometimes", "TRIAL_STRICTCLEAN_BASELINE_STALE", "'report', 'fail'"]),
        "missing": ({"TRIAL_STRICTCLEAN_BASELINE": "nowhere.json"}, ["baseline", "nowhere.json", "TRIAL_STRICTCLEAN_BASELINE", "no such file"]),
        "not json": ({"TRIAL_STRICTCLEAN_BASELINE": "broken.json"}, ["baseline", "broken.json", "TRIAL_STRICTCLEAN_BASELINE", "not valid JSON"]),
        "future": ({"TRIAL_STRICTCLEAN_BASELINE": "future.json"}, ["baseline", "future.json", "version 2", "upgrade"]),
        "a folder": ({"TRIAL_STRICTCLEAN_BASELINE": "."}, ["baseline", "TRIAL_STRICTCLEAN_BASELINE", "cannot be read"]),
    }

    def test_each_mistake_named(self):
        for name, (env, words) in self.BAD.items():
            with self.assertRaises(ConfigError, msg=name) as caught:
                load(self.folder, env)
            for word in words:
                self.assertIn(word, str(caught.exception), name)

    def test_in_pyproject(self):
        self.write("pyproject.toml", '[tool.trial_strictclean]\nbaseline = "future.json"\n')
        with self.assertRaises(ConfigError) as caught:
            load(self.folder, {})
        self.assertIn("pyproject.toml [tool.trial_strictclean]: baseline = 'future.json'", str(caught.exception))

    def test_trial_stops_before_any_test(self):
        """Under real trial, one process and -j 2: one line, exit status 2."""
        for name, args in (("missing", ()), ("future", ()), ("stale choice", ("-j2",)), ("not json", ("-j2",))):
            env, words = self.BAD[name]
            run = run_trial("--reporter=strictclean", *args, "ci_mixed", env=env, cwd=self.folder)
            lines = [line for line in run.output.splitlines() if line.strip()]
            self.assertEqual(len(lines), 1, run.output)
            self.assertTrue(lines[0].startswith("trial-strictclean: configuration error: "), run.output)
            for word in words:
                self.assertIn(word, lines[0], name)
            self.assertEqual(run.returncode, 2, name)
