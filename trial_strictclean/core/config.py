"""
Configuration: ``[tool.trial_strictclean]`` in the nearest pyproject.toml
from the working directory upward, each key overridable by an environment
variable ``TRIAL_STRICTCLEAN_<KEY>``.

Everything is checked here, once, before any test runs: a mistake gets one
message naming the key, the value and where it was written, never a
traceback and never a half-configured run.
"""

from __future__ import annotations

import os
import sys
from .findings import KINDS, Value

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


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _path(key: str, value, where: str, base: str) -> str | None:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} = {_show(value)} must be a string (a file path)")
    if not value.strip():
        return None  # an empty path turns the report off
    return os.path.normpath(os.path.join(base, os.path.expanduser(value)))


def _choice(key: str, value, where: str, choices=CHOICES) -> str:
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise ConfigError(f"{where}: {key} = {_show(value)} must be one of {', '.join(map(repr, choices))}")
    return value.strip().lower()


def _rules(value, where: str) -> tuple[Rule, ...]:
    example = '[{ kind = "delayed-call", where = "myapp.cache:*", reason = "..." }]'
    if not isinstance(value, list):
        raise ConfigError(f"{where}: ignore = {_show(value)} must be a list of tables, e.g. ignore = {example}")
    rules = []
    for index, entry in enumerate(value):
        at = f"{where}: ignore[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at} = {_show(entry)} must be a table, e.g. {example}")
        unknown = sorted(set(entry) - set(RULE_KEYS))
        if unknown:
            raise ConfigError(
                f"{at}: unknown key {unknown[0]!r} = {_show(entry[unknown[0]])}; "
                f"a rule has {', '.join(RULE_KEYS)}"
            )
        for name in RULE_KEYS:
            if name in entry and not isinstance(entry[name], str):
                raise ConfigError(f"{at}: {name} = {_show(entry[name])} must be a string")
        kind, pattern, test = entry.get("kind"), entry.get("where"), entry.get("test")
        reason = (entry.get("reason") or "").strip()
        if kind is not None and kind not in KINDS:
            raise ConfigError(f"{at}: kind = {_show(kind)} is not a kind of leftover; the kinds are {', '.join(KINDS)}")
        if not kind and not pattern and not test:
            raise ConfigError(f"{at} = {_show(entry)} needs a kind, a where, a test, or some of them")
        if not reason:
            raise ConfigError(f"{at} = {_show(entry)} needs a reason: say why this leftover is acceptable")
        rules.append(Rule(reason=reason, kind=kind or None, where=pattern or None, test=test or None, origin=f"ignore[{index}] in {where}"))
    return tuple(rules)


def _apply(settings: dict, key: str, value, where: str, base: str) -> None:
    if key in ("json", "junit-xml"):
        settings[key.replace("-", "_")] = _path(key, value, where, base)
    elif key in ("github-annotations", "color"):
        settings[key.replace("-", "_")] = _choice(key, value, where)
    elif key == "baseline":
        settings["baseline"] = _path(key, value, where, base)
        # Kept to name it if the file turns out unusable.
        settings["_baseline_origin"] = (value, where)
    elif key == "baseline-stale":
        settings["baseline_stale"] = _choice(key, value, where, STALE_CHOICES)
    elif key == "end-of-run":
        settings["end_of_run"] = _choice(key, value, where, END_CHOICES)
    else:
        settings["ignore"] = _rules(value, where)


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
        raise ConfigError(f"{path}: [{TABLE}] must be a table, not {_show(table)}")
    return table


def _env_value(key: str, text: str, name: str):
    if key != "ignore":
        return text
    if not text.strip():
        return []
    # The same TOML as in pyproject.toml, as one value.
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{name}={text!r}: not a TOML list of tables: {error}") from None


def load(cwd: str, environ=os.environ) -> Config:
    """The configuration for a run started in ``cwd``; raises ConfigError."""
    settings: dict = {}
    origins: dict[str, str] = {}
    source = find_pyproject(cwd)
    if source is not None:
        table = _read_pyproject(source)
        base = os.path.dirname(source)
        for key, value in table.items():
            if key not in KEYS:
                raise ConfigError(
                    f"{source}: [{TABLE}] has an unknown key {key!r} = {_show(value)}; "
                    f"the keys are {', '.join(KEYS)}"
                )
            _apply(settings, key, value, f"{source} [{TABLE}]", base)
            origins[key] = f"{source} [{TABLE}]"
    names = {env_name(key): key for key in KEYS}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        text = environ[name]
        key = names.get(name)
        if key is None:
            raise ConfigError(
                f"environment variable {name}={text!r} is not a setting of trial-strictclean; "
                f"the variables are {', '.join(names)}"
            )
        _apply(settings, key, _env_value(key, text, name), f"environment variable {name}", cwd)
        origins[key] = f"environment variable {name}"
    origin = settings.pop("_baseline_origin", None)
    if settings.get("baseline"):
        # Imported only when a baseline is configured: each module costs
        # about 2 M instructions or more at pytest start-up (the assertion
        # rewriter imports every module of this package).
        from . import baseline as baseline_file

        try:
            settings["baseline_entries"] = baseline_file.load(settings["baseline"])
        except baseline_file.BaselineError as error:
            value, where = origin
            shown = "" if value == settings["baseline"] else f" ({settings['baseline']})"
            raise ConfigError(f"{where}: baseline = {_show(value)}{shown}: {error}") from None
    return Config(source=source, origins=tuple(origins.items()), **settings)
