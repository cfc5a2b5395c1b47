"""
Configuration: where it is read from, how paths resolve, and that each
mistake gets one clear error before any test runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from twisted.trial import unittest

from tests.trialrun import run_trial
from trial_strictclean.core.config import ConfigError, find_pyproject, load
from trial_strictclean.render.report_files import check_writable


def _write(folder: str, text: str) -> str:
    path = os.path.join(folder, "pyproject.toml")
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


class Loading(unittest.SynchronousTestCase):
    def setUp(self):
        self.folder = os.path.realpath(self.mktemp())
        self.inner = os.path.join(self.folder, "a", "b")
        os.makedirs(self.inner)

    def test_defaults_without_pyproject(self):
        config = load(self.inner, {})
        self.assertEqual((config.json, config.junit_xml, config.color, config.ignore), (None, None, "auto", ()))

    def test_nearest_pyproject_upward(self):
        path = _write(self.folder, '[tool.trial_strictclean]\njson = "out/r.json"\ncolor = "never"\n')
        self.assertEqual(find_pyproject(self.inner), path)
        config = load(self.inner, {})
        # Relative to the pyproject's folder, not to where trial runs.
        self.assertEqual(config.json, os.path.join(self.folder, "out", "r.json"))
        self.assertEqual(config.color, "never")
        self.assertEqual(config.source, path)

    def test_environment_overrides_relative_to_cwd(self):
        _write(self.folder, '[tool.trial_strictclean]\njson = "r.json"\njunit-xml = "j.xml"\n')
        env = {"TRIAL_STRICTCLEAN_JSON": "x.json", "TRIAL_STRICTCLEAN_JUNIT_XML": ""}
        config = load(self.inner, env)
        self.assertEqual(config.json, os.path.join(self.inner, "x.json"))
        self.assertIsNone(config.junit_xml)  # empty turns it off

    def test_ignore_rules(self):
        _write(
            self.folder,
            '[tool.trial_strictclean]\nignore = [{ kind = "delayed-call", where = "app.cache:*", reason = "expiry" }]\n',
        )
        [rule] = load(self.folder, {}).ignore
        self.assertEqual((rule.kind, rule.where, rule.reason), ("delayed-call", "app.cache:*", "expiry"))
        env = {"TRIAL_STRICTCLEAN_IGNORE": '[{ where = "x.py:*", reason = "r" }]'}
        [rule] = load(self.folder, env).ignore
        self.assertEqual((rule.kind, rule.where), (None, "x.py:*"))

    def test_annotations_auto(self):
        config = load(self.inner, {})
        self.assertTrue(config.annotations_wanted({"GITHUB_ACTIONS": "true"}))
        self.assertFalse(config.annotations_wanted({}))
        config = load(self.inner, {"TRIAL_STRICTCLEAN_GITHUB_ANNOTATIONS": "never"})
        self.assertFalse(config.annotations_wanted({"GITHUB_ACTIONS": "true"}))


# (pyproject table body or None, environment, words the one error must contain)
BAD = {
    "unknown key": ('jsn = "r.json"', {}, ["jsn", "r.json", "pyproject.toml"]),
    "wrong type": ("json = 3", {}, ["json", "3", "pyproject.toml"]),
    "bad choice": ('github-annotations = "sometimes"', {}, ["github-annotations", "sometimes", "pyproject.toml"]),
    "bad env choice": (None, {"TRIAL_STRICTCLEAN_COLOR": "blue"}, ["color", "blue", "TRIAL_STRICTCLEAN_COLOR"]),
    "unknown env": (None, {"TRIAL_STRICTCLEAN_JSONN": "x"}, ["TRIAL_STRICTCLEAN_JSONN", "x"]),
    "unknown kind": (
        'ignore = [{ kind = "timer", reason = "r" }]',
        {},
        ["ignore[0]", "kind", "timer", "pyproject.toml"],
    ),
    "no reason": ('ignore = [{ kind = "delayed-call" }]', {}, ["ignore[0]", "reason", "pyproject.toml"]),
    "rule without kind or where": ('ignore = [{ reason = "r" }]', {}, ["ignore[0]", "kind", "where"]),
    "ignore not a list": ('ignore = "delayed-call"', {}, ["ignore", "delayed-call", "list"]),
    "bad env ignore": (None, {"TRIAL_STRICTCLEAN_IGNORE": "[{kind="}, ["TRIAL_STRICTCLEAN_IGNORE", "TOML"]),
    "not toml": ("json = ", {}, ["pyproject.toml", "TOML"]),
    "unwritable report": (
        'json = "pyproject.toml/r.json"',
        {},
        ["json", "pyproject.toml/r.json", "pyproject.toml [tool.trial_strictclean]"],
    ),
    "unwritable report from env": (
        None,
        {"TRIAL_STRICTCLEAN_JUNIT_XML": "/dev/null/r.xml"},
        ["junit-xml", "/dev/null/r.xml", "environment variable TRIAL_STRICTCLEAN_JUNIT_XML"],
    ),
}


class BadConfiguration(unittest.SynchronousTestCase):
    def check(self, name):
        table, env, words = BAD[name]
        folder = os.path.realpath(self.mktemp())
        os.makedirs(folder)
        if table is not None:
            _write(folder, f"[tool.trial_strictclean]\n{table}\n")
        else:
            _write(folder, "[project]\nname = 'x'\n")
        with self.assertRaises(ConfigError, msg=name) as caught:
            # Reading checks the values; the reporter then checks the paths.
            check_writable(load(folder, env))
        for word in words:
            self.assertIn(word, str(caught.exception), name)
        return folder, env, words

    def test_each_mistake_named(self):
        for name in BAD:
            self.check(name)

    def test_trial_stops_before_any_test(self):
        """Under real trial: one line, exit status 2, no traceback, no test."""
        for name in ("unknown key", "bad env choice", "unknown kind", "not toml", "unwritable report"):
            folder, env, words = self.check(name)
            run = run_trial("--reporter=strictclean", "ci_mixed", env=env, cwd=folder)
            lines = [line for line in run.output.splitlines() if line.strip()]
            self.assertEqual(len(lines), 1, run.output)
            self.assertTrue(lines[0].startswith("trial-strictclean: configuration error: "), run.output)
            for word in words:
                self.assertIn(word, lines[0])
            self.assertEqual(run.returncode, 2)


class PathsBeforeChdir(unittest.SynchronousTestCase):
    def test_reports_next_to_pyproject(self):
        """Trial runs in _trial_temp; the reports still land where configured."""
        folder = os.path.realpath(tempfile.mkdtemp(prefix="strictclean-config-"))
        self.addCleanup(shutil.rmtree, folder, True)
        _write(folder, '[tool.trial_strictclean]\njson = "reports/r.json"\njunit-xml = "reports/r.xml"\n')
        inner = os.path.join(folder, "sub")
        os.makedirs(inner)
        run = run_trial("--reporter=strictclean", "ci_mixed.Mixed.test_clean", cwd=inner)
        self.assertEqual(run.returncode, 0, run.output)
        self.assertEqual(sorted(os.listdir(os.path.join(folder, "reports"))), ["r.json", "r.xml"])
        self.assertIn(os.path.join(folder, "reports", "r.json"), run.output)
