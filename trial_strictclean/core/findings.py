"""
Findings: what a test left in the reactor, as plain values.

Everything here is data that crosses boundaries (the text renderer, JSON,
JUnit, another process under ``trial -j``), so it is frozen, holds only
strings, numbers and tuples, and converts to and from plain dicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

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


@dataclass(frozen=True)
class Site:
    """A line of code: where a resource was created or asked to close."""

    file: str
    line: int
    function: str
    code: str | None = None

    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Finding:
    """One leftover, diagnosed: what it is, where it came from, what to do."""

    kind: str
    resource: str
    state: str
    message: str
    side: str | None = None
    created: Site | None = None
    closed: Site | None = None
    wait_for: str | None = None
    fix: str | None = None
    # ``message`` without the resource named in it: what a renderer shows
    # under a line that already names the resource.
    detail: str | None = None
    # User frames above ``created``, innermost first: the helper's caller,
    # and so on.
    callers: tuple[Site, ...] = field(default=())
    # Findings that describe one thing (a port and the connections it
    # accepted) share a group number so renderers can show them together.
    group: int = 0
    # What became of it once the test was judged ("cancelled after the
    # test"), so an odd later failure can be traced back to us.
    after: str | None = None
    # A known leftover, accepted by the baseline: still reported, marked,
    # but it does not fail its test (core/baseline.py).
    baseline: bool = False
    # For what outlives every test (the end of the run): the test in which
    # the chain of work that made it began, or None when that was before
    # any test (at import, in a class or module fixture) or is unknown.
    started_by: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        values = dict(data)
        for key in ("created", "closed"):
            if values.get(key) is not None:
                values[key] = Site(**values[key])
        values["callers"] = tuple(Site(**s) for s in values.get("callers", ()))
        # Data from a newer release may carry fields this one does not know.
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
