"""
Smoke tests of ``benchmarks/``: the comparison runs end to end in its quick
mode and the test-by-test comparison reads what it recorded.  They check that
the scripts work, never how fast anything is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


def _script(name: str) -> str:
    return os.path.join(BENCHMARKS, name)


def _env() -> dict:
    # The inner runs must not write over the outer run's reports.
    return {k: v for k, v in os.environ.items() if not k.startswith("TRIAL_STRICTCLEAN_")}


class QuickComparisonTests(SynchronousTestCase):
    def test_quick_stress_pair(self):
        """
        ``compare.py --quick`` runs one pair over a tiny generated suite,
        prints the ratios, and both runs pass: the stress suite is clean.
        """
        record = self.mktemp()
        figures = self.mktemp()
        done = subprocess.run(
            [sys.executable, _script("compare.py"), "--quick", "--record", record, "--json", figures],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("pair 1 (A first)", done.stdout)
        self.assertIn("median B/A over 1 pair(s)", done.stdout)
        self.assertIn("A (stock trial): PASSED (successes=20)", done.stdout)
        self.assertIn("B (strictclean): PASSED (successes=20)", done.stdout)

        with open(figures) as f:
            pair = json.load(f)["pairs"][0]
        for variant in ("A", "B"):
            self.assertEqual(pair[variant]["exit"], 0)
            self.assertGreater(pair[variant]["wall"], 0)
            self.assertGreater(pair[variant]["rss_mib"], 0)

        compared = subprocess.run(
            [
                sys.executable,
                _script("outcomes.py"),
                os.path.join(record, "pair1-A-events.json"),
                os.path.join(record, "pair1-B-events.json"),
                os.path.join(record, "pair1-B-report.json"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(compared.returncode, 0, compared.stderr)
        self.assertEqual(
            compared.stdout.splitlines()[0],
            "20 tests in A, 20 in B; 20 with the same outcome; 0 to review",
        )


class OutcomesTests(SynchronousTestCase):
    def setUp(self):
        sys.path.insert(0, BENCHMARKS)
        self.addCleanup(sys.path.remove, BENCHMARKS)
        import outcomes

        self.outcomes = outcomes

    def _write(self, events) -> str:
        path = self.mktemp()
        with open(path, "w") as f:
            json.dump(events, f)
        return path

    def test_worst_event_wins(self):
        """
        Stock trial's success followed by its dirty-reactor error counts as
        an error, named after the error's type.
        """
        path = self._write(
            [
                ["t.A.test_port", "addSuccess", None],
                ["t.A.test_port", "addError", "DirtyReactorAggregateError"],
                ["t.A.test_ok", "addSuccess", None],
                ["t.A.test_skip", "addSkip", None],
            ]
        )
        self.assertEqual(
            self.outcomes.outcomes(path),
            {
                "t.A.test_port": ("error", ("DirtyReactorAggregateError",)),
                "t.A.test_ok": ("passed", ()),
                "t.A.test_skip": ("skipped", ()),
            },
        )

    def test_differences_and_findings_are_listed(self):
        """Only tests whose outcome differs, or that have findings, are listed."""
        a = {"t.test_same": ("passed", ()), "t.test_dirty": ("passed", ())}
        b = {"t.test_same": ("passed", ()), "t.test_dirty": ("error", ("DirtyReactor",))}
        found = {"t.test_dirty": [{"kind": "delayed-call"}]}
        rows = self.outcomes.differences(a, b, found)
        self.assertEqual([row[0] for row in rows], ["t.test_dirty"])
