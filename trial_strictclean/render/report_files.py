"""
The CI outputs of one run: collects test records, applies ignore rules,
and writes the JSON and JUnit reports atomically.

JUnit is rewritten as tests finish (at most about one part in twenty of the
run's time goes to it) and once more at the end, or at exit if the run was
interrupted, so a killed run still leaves the tests finished so far.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import time
import weakref

from ..core.config import Config, ConfigError
from ..core.ignore import Triage
from ..core.outcomes import Outcomes

# The quickest JUnit rewrite interval, and how many times the cost of one
# write we wait before the next.
_MIN_INTERVAL = 1.0
_COST_FACTOR = 20


def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: str, data: bytes) -> None:
    folder = os.path.dirname(path) or "."
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp makes the file 0600; a report is an ordinary file, made
        # with the user's umask (0644 typically) as open() would.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def check_writable(config: Config) -> None:
    """Fail before any test runs if a report could not be written."""
    for key, path in (("json", config.json), ("junit-xml", config.junit_xml)):
        if path is None:
            continue
        where = config.origin(key)
        setting = f"{where}: {key} = {path!r}" if where else f"{key} = {path!r}"
        folder = os.path.dirname(path) or "."
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"{setting}: cannot create its folder: {error.strerror}") from None
        if os.path.isdir(path) or not os.access(folder, os.W_OK):
            raise ConfigError(f"{setting}: cannot write a file there")


class Reports:
    """The records, ignore rules and report files of one run."""

    def __init__(self, config: Config, root: str, warn, triage: Triage | None = None) -> None:
        self.config = config
        self.root = root
        self._warn = warn
        self.outcomes = Outcomes(root, every_test=bool(config.json or config.junit_xml))
        # The judging session's triage, whose count the summary shows.
        self.triage = triage if triage is not None else Triage(config.ignore, root)
        self.started = time.time()
        self.finished = False
        self._next_junit = 0.0
        self._failed: set[str] = set()
        # What outlived every test (Session.finish), once the run is over.
        self.run_level: list = []
        if config.json or config.junit_xml:
            reports = weakref.ref(self)
            atexit.register(lambda: (r := reports()) and r.finish())

    def _write(self, path: str, render) -> bool:
        try:
            write_atomically(path, render())
            return True
        except Exception as error:
            if path not in self._failed:  # say it once, keep the run going
                self._failed.add(path)
                self._warn(f"could not write {path}: {error}")
            return False

    def _json(self) -> bytes:
        # Imported here, as the JUnit writer is: a run without a JSON
        # report never loads it (each module costs the run its import).
        from . import json_report

        return json_report.render(self.outcomes.records(), self.run_level).encode("utf-8")

    def _junit(self) -> bytes:
        # Imported when first written: xml.etree costs a run that writes no
        # JUnit file some 40 ms at start-up.
        from . import junit_xml

        return junit_xml.render_xml(self.outcomes.records(), self.root, self.started, self.run_level)

    def test_done(self) -> None:
        """Rewrite the JUnit file if enough time has passed since the last."""
        if self.config.junit_xml is None or time.monotonic() < self._next_junit:
            return
        began = time.monotonic()
        self._write(self.config.junit_xml, self._junit)
        cost = time.monotonic() - began
        self._next_junit = time.monotonic() + max(_MIN_INTERVAL, _COST_FACTOR * cost)

    def run_failed(self) -> bool:
        """Whether what outlived every test fails the run (end-of-run = "fail")."""
        return self.config.end_of_run == "fail" and any(not f.baseline for f in self.run_level)

    def finish(self) -> list[tuple[str, str]]:
        """Write every report for the last time; what was written where."""
        if self.finished:
            return []
        self.finished = True
        written = []
        if self.config.junit_xml and self._write(self.config.junit_xml, self._junit):
            written.append(("JUnit XML", self.config.junit_xml))
        if self.config.json and self._write(self.config.json, self._json):
            written.append(("JSON report", self.config.json))
        return written
