"""
Run the real ``trial`` in a subprocess over a fixture suite, and read what
it reported: the summary counts, and which tests erred or failed with what.

Fixture modules live in tests/fixtures/ (not a package, and not named
test_*, so running the project's own suite never collects them).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# "python -m twisted.trial" goes through pkg_resources on Twisted 22.10,
# which rejects newer zope.interface releases; this works on every version.
TRIAL = [sys.executable, "-c", "from twisted.scripts.trial import run; run()"]

_SUMMARY = re.compile(r"^(PASSED|FAILED)(?: \((.*)\))?$")
_SEPARATOR = "=" * 79


@dataclass
class TrialRun:
    args: tuple
    returncode: int
    output: str
    status: str = ""
    counts: dict = field(default_factory=dict)
    # test id -> the reported texts, one per [ERROR] / [FAIL] block
    errors: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)

    def error_text(self, test_id: str) -> str:
        return "\n".join(self.errors.get(test_id, []))


def _parse(run: TrialRun) -> TrialRun:
    lines = run.output.splitlines()
    for line in reversed(lines):
        match = _SUMMARY.match(line.strip())
        if match:
            run.status = match.group(1)
            for part in (match.group(2) or "").split(", "):
                if "=" in part:
                    key, value = part.split("=")
                    run.counts[key] = int(value)
            break
    # Blocks: "=====", "[FLAVOR]", text..., "", test ids...
    blocks = run.output.split(_SEPARATOR + "\n")[1:]
    for block in blocks:
        block = block.split("-" * 79 + "\n")[0]
        flavor, _, body = block.partition("\n")
        text, _, ids = body.rstrip("\n").rpartition("\n\n")
        target = {"[ERROR]": run.errors, "[FAIL]": run.failures}.get(flavor.strip())
        if target is None:
            continue
        for test_id in ids.splitlines():
            target.setdefault(test_id.strip(), []).append(text)
    return run


def run_trial(*args: str, env: dict | None = None, cwd: str | None = None) -> TrialRun:
    """Run trial with ``args`` (fixture modules importable) and parse it."""
    # The outer run's own settings must not leak into the runs it makes.
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("TRIAL_STRICTCLEAN_")
    }
    environment["NO_COLOR"] = "1"
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (FIXTURES, PROJECT, environment.get("PYTHONPATH")) if p
    )
    environment.update(env or {})
    with tempfile.TemporaryDirectory(prefix="strictclean-test-") as temp:
        completed = subprocess.run(
            [*TRIAL, f"--temp-directory={os.path.join(temp, '_trial_temp')}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd or PROJECT,
            env=environment,
            timeout=300,
        )
    return _parse(TrialRun(tuple(args), completed.returncode, completed.stdout))


@functools.lru_cache(maxsize=None)
def cached_run(*args: str) -> TrialRun:
    """run_trial, once per distinct argument list for the whole test run."""
    return run_trial(*args)


def tagged_line(module: str, tag: str) -> int:
    """The number of the line of fixture ``module`` that ends with ``# tag``."""
    with open(os.path.join(FIXTURES, f"{module}.py")) as file:
        for number, text in enumerate(file, 1):
            if text.rstrip().endswith(f"# {tag}"):
                return number
    raise AssertionError(f"no line tagged {tag!r} in {module}")
