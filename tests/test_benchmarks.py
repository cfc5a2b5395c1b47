"""
Smoke tests of ``benchmarks/``: the comparison runs end to end in its quick
mode and the test-by-test comparison reads what it recorded.  They check that
the scripts work, never how fast anything is.
"""

from __future__ import annotations

import json
import os
import re
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
        The figures, the ratios and what each run recorded agree.
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
            report = json.load(f)
        self.assertEqual(len(report["pairs"]), 1, report)
        pair = report["pairs"][0]
        self.assertEqual(pair["order"], "AB")
        for variant in ("A", "B"):
            self.assertEqual((pair[variant]["exit"], pair[variant]["summary"]), (0, "PASSED (successes=20)"))
        # Two runs, not one counted twice.
        self.assertNotEqual(pair["A"]["wall"], pair["B"]["wall"])
        # The ratios are B over A of the figures recorded for each run, the
        # line printed for the pair shows those same figures, and with one
        # pair the medians are its ratios.
        printed = re.search(
            r"wall +([\d.]+)s +([\d.]+)s x([\d.]+) \| cpu +([\d.]+)s +([\d.]+)s x([\d.]+) \| "
            r"rss +([\d.]+)MiB +([\d.]+)MiB x([\d.]+)",
            done.stdout,
        )
        self.assertIsNotNone(printed, done.stdout)
        for number, measure in enumerate(("wall", "cpu", "rss_mib")):
            a, b, ratio = pair["A"][measure], pair["B"][measure], pair["ratios"][measure]
            self.assertGreater(a, 0, measure)
            self.assertAlmostEqual(ratio, b / a, msg=measure)
            self.assertEqual(report["medians"][measure], ratio, measure)
            shown = printed.groups()[3 * number : 3 * number + 3]
            places = ".1f" if measure == "rss_mib" else ".2f"
            self.assertEqual(shown, (format(a, places), format(b, places), format(ratio, ".3f")), measure)

        # Each run recorded every test of the suite, once, as a success, and
        # its time; only B, run with strictclean, wrote a report, which
        # lists the same tests.
        recorded = {}
        for variant in ("A", "B"):
            with open(os.path.join(record, f"pair1-{variant}-events.json")) as f:
                events = json.load(f)
            with open(os.path.join(record, f"pair1-{variant}-times.json")) as f:
                times = json.load(f)
            ids = [test_id for test_id, _, _ in events]
            self.assertEqual((len(ids), len(set(ids))), (20, 20), events)
            self.assertEqual({outcome for _, outcome, _ in events}, {"addSuccess"}, events)
            self.assertEqual(set(times), set(ids), variant)
            self.assertTrue(all(seconds > 0 for seconds in times.values()), times)
            recorded[variant] = set(ids)
        tests = recorded["A"]
        self.assertEqual(recorded["B"], tests)
        # The suite has both kinds of test, so both paths were measured.
        self.assertEqual(len([t for t in tests if ".SyncCalls." in t]), 2, tests)
        self.assertFalse(os.path.exists(os.path.join(record, "pair1-A-report.json")))
        with open(os.path.join(record, "pair1-B-report.json")) as f:
            strict = json.load(f)
        self.assertEqual({t["id"]: t["outcome"] for t in strict["tests"]}, dict.fromkeys(tests, "passed"))

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
