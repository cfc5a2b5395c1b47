"""
The checks of ``[tool.trial_strictclean]`` and ``TRIAL_STRICTCLEAN_*``
values: each key's value, its type and choices, the ignore rules, the
baseline file.  ``config.load`` imports this module only when something is
set, so a run without settings never loads it.
"""

from __future__ import annotations

import os

from .config import (
    CHOICES,
    END_CHOICES,
    ENV_PREFIX,
    KEYS,
    RULE_KEYS,
    STALE_CHOICES,
    TABLE,
    Config,
    ConfigError,
    Rule,
    env_name,
    tomllib,
)
from .findings import KINDS


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


def checked(cwd: str, environ, source: str | None, table: dict) -> Config:
    """The configuration from ``table`` (read from ``source``) and ``environ``; raises ConfigError."""
    settings: dict = {}
    origins: dict[str, str] = {}
    if source is not None:
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
        # the run its import (docs/internals.rst, "Cost of capture").
        from . import baseline as baseline_file

        try:
            settings["baseline_entries"] = baseline_file.load(settings["baseline"])
        except baseline_file.BaselineError as error:
            value, where = origin
            shown = "" if value == settings["baseline"] else f" ({settings['baseline']})"
            raise ConfigError(f"{where}: baseline = {_show(value)}{shown}: {error}") from None
    return Config(source=source, origins=tuple(origins.items()), **settings)
