"""
Issue 14: advice that fits, one item per root cause, a summary that scales,
and output a person reads at 80 columns.
"""

from __future__ import annotations

import os
import re

from twisted.trial import unittest

from trial_strictclean.core.findings import Finding, Site
from trial_strictclean.render.text import render

from .trialrun import cached_run

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
