"""
Ignore rules and markers: accepted leftovers are cleaned up and counted,
not errors; rules and markers that matched nothing are named as stale.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile

from twisted.trial import unittest

from tests.trialrun import run_trial
from trial_strictclean.core.config import Rule
from trial_strictclean.core.findings import Finding, Site
from trial_strictclean.core.ignore import Triage
from trial_strictclean.core.markers import ignore_leftovers

RULES = (
    '[{ kind = "delayed-call", where = "ci_ignore:start_cache_timer", reason = "cache timer" },'
    ' { where = "nowhere.py:*", reason = "left over from an old refactor" }]'
)


@functools.lru_cache(maxsize=None)
def ignore_run():
    """One run of the ignore suite with rules from the environment."""
    folder = tempfile.mkdtemp(prefix="strictclean-ignore-")
    try:
        env = {"TRIAL_STRICTCLEAN_IGNORE": RULES, "TRIAL_STRICTCLEAN_JSON": os.path.join(folder, "r.json")}
        run = run_trial("--reporter=strictclean", "ci_ignore", env=env)
        with open(os.path.join(folder, "r.json"), encoding="utf-8") as file:
            return run, json.load(file)
    finally:
        shutil.rmtree(folder, True)


class EndToEnd(unittest.SynchronousTestCase):
    def setUp(self):
        self.trial, self.report = ignore_run()

    def outcome(self, name):
        [test] = [t for t in self.report["tests"] if t["id"].endswith("." + name)]
        return test["outcome"], len(test["findings"])

    def test_ignored_are_not_errors(self):
        self.assertEqual(self.outcome("test_cache_timer"), ("passed", 0))
        self.assertEqual(self.outcome("test_marked"), ("passed", 0))
        self.assertEqual(self.outcome("test_any_kind"), ("passed", 0))
        # The next test is not blamed: the ignored timer was cleaned up.
        self.assertEqual(self.outcome("test_after"), ("passed", 0))

    def test_others_still_fail(self):
        self.assertEqual(self.outcome("test_other_timer"), ("error", 1))
        self.assertEqual(self.trial.counts, {"errors": 1, "successes": 5})
        self.assertEqual(list(self.trial.errors), ["ci_ignore.ByRule.test_other_timer"])

    def test_counted_in_summary(self):
        self.assertIn("ignored: 3 (3 delayed-call)", self.trial.output)
        self.assertIn("1 by ignore[0] in environment variable TRIAL_STRICTCLEAN_IGNORE", self.trial.output)
        self.assertIn("1 by @ignore_leftovers(any kind) on ci_ignore.WholeClass", self.trial.output)

    def test_stale_rules_named(self):
        self.assertIn("stale ignore rules (matched nothing in this run): 2", self.trial.output)
        self.assertIn("ignore[1] in environment variable TRIAL_STRICTCLEAN_IGNORE (where='nowhere.py:*')", self.trial.output)
        self.assertIn("@ignore_leftovers(listening-port-open) on ci_ignore.ByMarker.test_marked_stale", self.trial.output)

    def test_rules_from_pyproject(self):
        folder = os.path.realpath(self.mktemp())
        os.makedirs(folder)
        with open(os.path.join(folder, "pyproject.toml"), "w", encoding="utf-8") as file:
            file.write(f"[tool.trial_strictclean]\nignore = {RULES}\n")
        run = run_trial("--reporter=strictclean", "ci_ignore.ByRule", cwd=folder)
        self.assertEqual(run.counts, {"errors": 1, "successes": 2})
        self.assertIn("pyproject.toml [tool.trial_strictclean] (where='nowhere.py:*')", run.output)


def _finding(kind="delayed-call", file="src/app/cache.py", line=10, function="expire"):
    return Finding(kind=kind, resource="r", state="s", message="m", created=Site(file, line, function))


class _Test:
    _testMethodName = "test_it"

    def id(self):
        return "t.T.test_it"

    def test_it(self):
        pass


class Matching(unittest.SynchronousTestCase):
    def triage(self, *rules):
        return Triage(tuple(Rule(reason="r", origin=f"rule{i}", **rule) for i, rule in enumerate(rules)), "/nowhere")

    def test_kind_only(self):
        triage = self.triage({"kind": "delayed-call"})
        kept = triage(_Test(), [_finding(), _finding(kind="reader")])
        self.assertEqual([f.kind for f in kept], ["reader"])
        self.assertEqual(len(triage.ignored), 1)
        self.assertEqual(triage.stale(), [])

    def test_where_module_function_and_path_line(self):
        # Not an imported module: the module name comes from the path.
        self.assertEqual(self.triage({"where": "src.app.cache:exp*"})(_Test(), [_finding()]), [])
        self.assertEqual(self.triage({"where": "*/cache.py:10"})(_Test(), [_finding()]), [])
        self.assertEqual(len(self.triage({"where": "*/cache.py:11"})(_Test(), [_finding()])), 1)

    def test_where_needs_a_creation_site(self):
        bare = Finding(kind="reader", resource="r", state="s", message="m")
        self.assertEqual(self.triage({"where": "*"})(_Test(), [bare]), [bare])

    def test_stale(self):
        triage = self.triage({"kind": "reader"}, {"kind": "delayed-call"})
        triage(_Test(), [_finding()])
        self.assertEqual(triage.stale(), ["rule0 (kind='reader')"])


class Marker(unittest.SynchronousTestCase):
    def test_unknown_kind(self):
        self.assertRaises(ValueError, ignore_leftovers, "timer", reason="r")

    def test_reason_required(self):
        self.assertRaises(ValueError, ignore_leftovers, "delayed-call", reason=" ")
        self.assertRaises(TypeError, ignore_leftovers, "delayed-call")

    def test_method_and_class(self):
        @ignore_leftovers("reader", reason="class")
        class T(_Test):
            @ignore_leftovers("delayed-call", reason="method")
            def test_it(self):
                pass

        triage = Triage((), "/")
        kept = triage(T(), [_finding(), _finding(kind="reader"), _finding(kind="writer")])
        self.assertEqual([f.kind for f in kept], ["writer"])
        self.assertEqual(triage.stale(), [])
