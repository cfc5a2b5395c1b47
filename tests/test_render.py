"""The text block: headline, code frames, colour; findings as plain data."""

from __future__ import annotations

import json
import os

from twisted.trial import unittest

from trial_strictclean.core.findings import Finding, Site
from trial_strictclean.render.text import code_frame, headline, render

_HERE = os.path.abspath(__file__)


def _line_of(text: str) -> int:
    with open(_HERE) as source:
        for number, line in enumerate(source, 1):
            if text in line:
                return number
    raise LookupError(text)


# A line of context above,
FRAME_LINE = _line_of("# the marked line")  # the marked line
# and one below.


def _finding(**changes) -> Finding:
    values = dict(
        kind="listening-port-closing",
        resource="TCP port 127.0.0.1:4000 serving Echo",
        state="closing",
        message="TCP port 127.0.0.1:4000 serving Echo: stopListening() was not waited for.",
        detail="stopListening() was not waited for.",
        created=Site(_HERE, FRAME_LINE, "here", "FRAME_LINE = ..."),
        closed=Site("gone.py", 7, "tearDown", "port.stopListening()"),
        wait_for="the Deferred returned by stopListening()",
        fix="self.addCleanup(port.stopListening)",
        callers=(Site("caller.py", 3, "test_it"),),
        group=1,
    )
    values.update(changes)
    return Finding(**values)


class CodeFrameTests(unittest.SynchronousTestCase):
    def test_marked_line_with_context(self):
        lines = code_frame(Site(_HERE, FRAME_LINE, "f"))
        self.assertEqual(len(lines), 3)
        self.assertTrue(lines[1].startswith(f"> {FRAME_LINE} | "), lines)
        self.assertIn("# the marked line", lines[1])
        self.assertTrue(lines[0].startswith(f"  {FRAME_LINE - 1} | "), lines)

    def test_unreadable_file_falls_back_to_captured_code(self):
        lines = code_frame(Site("no/such/file.py", 12, "f", "call()"))
        self.assertEqual(lines, ["> 12 | call()"])

    def test_relative_to_root(self):
        root, name = os.path.split(_HERE)
        lines = code_frame(Site(name, FRAME_LINE, "f"), root, context=0)
        self.assertIn("# the marked line", lines[0])


class RenderTests(unittest.SynchronousTestCase):
    def test_headline_counts_kinds_and_sides(self):
        findings = [
            _finding(kind="connection-open", side="client"),
            _finding(kind="connection-open", side="client"),
            _finding(kind="delayed-call"),
        ]
        text = headline(findings)
        self.assertIn("3 leftovers", text)
        self.assertIn("2 x connection-open (client)", text)
        self.assertIn("delayed-call", text)

    def test_block_reads_top_down(self):
        text = render([_finding()])
        order = [
            "This test left the reactor dirty",
            "1. listening-port-closing: TCP port 127.0.0.1:4000 serving Echo",
            "stopListening() was not waited for.",
            f"created   {_HERE}:{FRAME_LINE} in here",
            f"> {FRAME_LINE} | ",
            "called    from caller.py:3 in test_it",
            "closed    gone.py:7 in tearDown",
            "> 7 | port.stopListening()",
            "wait for  the Deferred returned by stopListening()",
            "fix       self.addCleanup(port.stopListening)",
        ]
        positions = [text.index(part) for part in order]
        self.assertEqual(positions, sorted(positions), text)

    def test_resource_named_once_per_finding(self):
        text = render([_finding()])
        self.assertEqual(text.count("127.0.0.1:4000"), 1, text)

    def test_no_creation_site(self):
        text = render([_finding(created=None, callers=())])
        self.assertIn("no line of the test's code was on the stack", text)

    def test_groups_are_separated(self):
        text = render([_finding(group=1), _finding(group=1), _finding(group=2)])
        blocks = text.strip("\n").split("\n\n")
        self.assertEqual(len(blocks), 3, text)  # headline, group 1, group 2

    def test_no_colour_by_default(self):
        self.assertNotIn("\x1b[", render([_finding()]))

    def test_colour(self):
        text = render([_finding()], color=True)
        self.assertIn("\x1b[1;31m", text)
        self.assertIn("\x1b[0m", text)
        self.assertIn("\x1b[1;33mlistening-port-closing\x1b[0m", text)


class RepeatTests(unittest.SynchronousTestCase):
    def test_repeat_keeps_the_tests_own_line(self):
        """A block that refers back to an earlier test still says which line of this test led there."""
        from trial_strictclean.render.text import render_repeat

        text = render_repeat([_finding(callers=(Site("tests/test_b.py", 41, "B.test_two"),))], "t.A.test_one")
        self.assertIn("same      as in t.A.test_one,", text)
        self.assertIn("called    from tests/test_b.py:41 in B.test_two", text)


class FindingDataTests(unittest.SynchronousTestCase):
    def test_round_trip_through_json(self):
        finding = _finding(side="server")
        data = json.loads(json.dumps(finding.to_dict()))
        self.assertEqual(Finding.from_dict(data), finding)

    def test_round_trip_without_sites(self):
        finding = _finding(created=None, closed=None, callers=())
        self.assertEqual(Finding.from_dict(finding.to_dict()), finding)

    def test_unknown_fields_are_ignored(self):
        data = dict(_finding().to_dict(), added_later="x")
        self.assertEqual(Finding.from_dict(data), _finding())
