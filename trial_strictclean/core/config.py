"""
Configuration: ``[tool.trial_strictclean]`` in the nearest pyproject.toml
from the working directory upward, each key overridable by an environment
variable ``TRIAL_STRICTCLEAN_<KEY>``.

Everything is checked once, before any test runs (``config_check``, used
only when something is set): a mistake gets one message naming the key,
the value and where it was written, never a traceback and never a
half-configured run.
"""

from __future__ import annotations

import os
import sys

from .findings import Value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TABLE = "tool.trial_strictclean"
ENV_PREFIX = "TRIAL_STRICTCLEAN_"
CHOICES = ("auto", "always", "never")
KEYS = ("json", "junit-xml", "github-annotations", "color", "ignore", "baseline", "baseline-stale", "end-of-run")
STALE_CHOICES = ("report", "fail")
END_CHOICES = ("fail", "report")
RULE_KEYS = ("kind", "where", "test", "reason")


class ConfigError(Exception):
    """A configuration mistake; its text is the whole message for the user."""


class Rule(Value):
    """One ``ignore`` entry: leftovers of ``kind`` created ``where``."""

    # A frozen plain value (findings.Value), not a @dataclass: cheaper at start-up.
    _FIELDS = ("reason", "kind", "where", "test", "origin")

    reason: str
    kind: str | None
    where: str | None
    # A glob on the test id: Trial's dotted id, or a pytest node id.
    test: str | None
    # Where the rule was written, to name it when it is stale.
    origin: str

    def __init__(
        self, reason: str, kind: str | None = None, where: str | None = None, test: str | None = None, origin: str = ""
    ) -> None:
        self._init({"reason": reason, "kind": kind, "where": where, "test": test, "origin": origin})

    def describe(self) -> str:
        parts = [
            f"{name}={value!r}"
            for name, value in (("kind", self.kind), ("where", self.where), ("test", self.test))
            if value
        ]
        return f"{self.origin} ({', '.join(parts)})"


class Config(Value):
    """The checked settings of one run; report paths are absolute."""

    # A frozen plain value (findings.Value), not a @dataclass: cheaper at start-up.
    _FIELDS = (
        "json", "junit_xml", "github_annotations", "color", "ignore", "baseline", "baseline_entries",
        "baseline_stale", "end_of_run", "source", "origins",
    )

    json: str | None
    junit_xml: str | None
    github_annotations: str
    color: str
    ignore: tuple[Rule, ...]
    # The baseline file, its entries (read and checked here), and whether
    # its stale entries fail the run ("fail") or are only named ("report").
    baseline: str | None
    baseline_entries: tuple
    baseline_stale: str
    # Whether what outlives every test, found at the end of the run, fails
    # the run ("fail") or is only reported ("report").
    end_of_run: str
    # The pyproject.toml the settings came from, if any.
    source: str | None
    # (key, where it was set): "path [tool.trial_strictclean]" or
    # "environment variable NAME", for messages about a setting's value.
    origins: tuple[tuple[str, str], ...]

    def __init__(
        self,
        json: str | None = None,
        junit_xml: str | None = None,
        github_annotations: str = "auto",
        color: str = "auto",
        ignore: tuple[Rule, ...] = (),
        baseline: str | None = None,
        baseline_entries: tuple = (),
        baseline_stale: str = "report",
        end_of_run: str = "fail",
        source: str | None = None,
        origins: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self._init(
            {
                "json": json, "junit_xml": junit_xml, "github_annotations": github_annotations, "color": color,
                "ignore": ignore, "baseline": baseline, "baseline_entries": baseline_entries,
                "baseline_stale": baseline_stale, "end_of_run": end_of_run, "source": source, "origins": origins,
            }
        )

    def origin(self, key: str) -> str | None:
        """Where ``key`` was set: a file and table, or an environment variable."""
        return dict(self.origins).get(key)

    def annotations_wanted(self, environ=os.environ) -> bool:
        if self.github_annotations == "auto":
            return environ.get("GITHUB_ACTIONS") == "true"
        return self.github_annotations == "always"


def find_pyproject(start: str) -> str | None:
    """The nearest pyproject.toml in ``start`` or a folder above it."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper().replace("-", "_")


def _read_pyproject(path: str) -> dict:
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
    table = data.get("tool", {}).get("trial_strictclean", {})
    if not isinstance(table, dict):
        from .config_check import _show

        raise ConfigError(f"{path}: [{TABLE}] must be a table, not {_show(table)}")
    return table


def load(cwd: str, environ=os.environ) -> Config:
    """The configuration for a run started in ``cwd``; raises ConfigError."""
    source = find_pyproject(cwd)
    table = _read_pyproject(source) if source is not None else {}
    if not table and not any(name.startswith(ENV_PREFIX) for name in environ):
        # Nothing set, as in most runs: the checks of what is set
        # (config_check.py) are imported only when something is, for each
        # module costs the run its import (docs/internals.rst, "Cost of
        # capture").
        return Config(source=source)
    from .config_check import checked

    return checked(cwd, environ, source, table)
