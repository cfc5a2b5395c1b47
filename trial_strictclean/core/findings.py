"""
Findings: what a test left in the reactor, as plain values.

Everything here is data that crosses boundaries (the text renderer, JSON,
JUnit, another process under ``trial -j``), so it is frozen, holds only
strings, numbers and tuples, and converts to and from plain dicts.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from operator import attrgetter

# The public names of the kinds of leftover: JSON, JUnit and the docs use
# them, so they only ever grow.
KINDS = (
    "listening-port-open",
    "listening-port-closing",
    "connection-open",
    "connection-closing",
    "connector-connecting",
    "delayed-call",
    "looping-call",
    "protocol-timeout",
    "deferred-timeout",
    "defer-later",
    "process-running",
    "thread-work",
    "reader",
    "writer",
    "unhandled-error",
    "thread-running",
    "asyncio-task",
    "asyncio-handle",
    "system-event-trigger",
    "log-observer",
)


# The test id under which ignore rules, the baseline and reports see what
# outlives every test (Session.finish: the end of the run).
RUN_LEVEL = "run-level"

# The attribute of a test function or class that holds its
# ``@ignore_leftovers`` markers (core/markers.py).  Here, not there, for the
# pytest adapter: a run whose tests use no marker never imports markers.py.
ATTRIBUTE = "_strictclean_ignore"


class Value:
    """
    A frozen plain value: the fields named in ``_FIELDS``, in order, set
    once by ``__init__`` (``_init``), with a dataclass's equality, hash,
    repr and immutability.

    Written out rather than ``@dataclass(frozen=True)``: a dataclass's
    methods are generated and compiled when its class is built, which every
    run pays at start-up (3 to 7 M instructions a class; pytest imports this
    package's modules at start-up of every ``--strictclean`` run).
    ``replace`` stands in for ``dataclasses.replace``.
    """

    _FIELDS: tuple = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.__match_args__ = cls._FIELDS
        # The field values as one tuple: compared, hashed, replaced.
        cls._values = attrgetter(*cls._FIELDS)

    def _init(self, values: dict) -> None:
        # How a frozen dataclass sets its fields: past its own __setattr__.
        self.__dict__.update(values)

    def __setattr__(self, name, value):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._values(self) == other._values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(self._FIELDS, self._values(self)))
        return f"{type(self).__qualname__}({shown})"


def replace(value: Value, /, **changes) -> Value:
    """``value`` with some fields changed, as ``dataclasses.replace`` did."""
    fields = dict(zip(value._FIELDS, value._values(value)))
    fields.update(changes)
    return value.__class__(**fields)


class Site(Value):
    """A line of code: where a resource was created or asked to close."""

    _FIELDS = ("file", "line", "function", "code")

    file: str
    line: int
    function: str
    code: str | None

    def __init__(self, file: str, line: int, function: str, code: str | None = None) -> None:
        self._init({"file": file, "line": line, "function": function, "code": code})

    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "function": self.function, "code": self.code}


class Finding(Value):
    """One leftover, diagnosed: what it is, where it came from, what to do."""

    _FIELDS = (
        "kind", "resource", "state", "message", "side", "created", "closed", "wait_for", "fix", "detail",
        "callers", "group", "after", "baseline", "started_by",
    )

    kind: str
    resource: str
    state: str
    message: str
    side: str | None
    created: Site | None
    closed: Site | None
    wait_for: str | None
    fix: str | None
    # ``message`` without the resource named in it: what a renderer shows
    # under a line that already names the resource.
    detail: str | None
    # User frames above ``created``, innermost first: the helper's caller,
    # and so on.
    callers: tuple[Site, ...]
    # Findings that describe one thing (a port and the connections it
    # accepted) share a group number so renderers can show them together.
    group: int
    # What became of it once the test was judged ("cancelled after the
    # test"), so an odd later failure can be traced back to us.
    after: str | None
    # A known leftover, accepted by the baseline: still reported, marked,
    # but it does not fail its test (core/baseline.py).
    baseline: bool
    # For what outlives every test (the end of the run): the test in which
    # the chain of work that made it began, or None when that was before
    # any test (at import, in a class or module fixture) or is unknown.
    started_by: str | None

    def __init__(
        self,
        kind: str,
        resource: str,
        state: str,
        message: str,
        side: str | None = None,
        created: Site | None = None,
        closed: Site | None = None,
        wait_for: str | None = None,
        fix: str | None = None,
        detail: str | None = None,
        callers: tuple[Site, ...] = (),
        group: int = 0,
        after: str | None = None,
        baseline: bool = False,
        started_by: str | None = None,
    ) -> None:
        self._init(
            {
                "kind": kind, "resource": resource, "state": state, "message": message, "side": side,
                "created": created, "closed": closed, "wait_for": wait_for, "fix": fix, "detail": detail,
                "callers": callers, "group": group, "after": after, "baseline": baseline,
                "started_by": started_by,
            }
        )

    def to_dict(self) -> dict:
        # What dataclasses.asdict made of it: sites as dicts, ``callers`` a
        # tuple of them.
        data = dict(zip(self._FIELDS, self._values(self)))
        for key in ("created", "closed"):
            if data[key] is not None:
                data[key] = data[key].to_dict()
        data["callers"] = type(self.callers)(site.to_dict() for site in self.callers)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        values = dict(data)
        for key in ("created", "closed"):
            if values.get(key) is not None:
                values[key] = Site(**values[key])
        values["callers"] = tuple(Site(**s) for s in values.get("callers", ()))
        # Data from a newer release may carry fields this one does not know.
        known = cls._FIELDS
        return cls(**{k: v for k, v in values.items() if k in known})
