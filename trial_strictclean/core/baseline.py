"""
The baseline: leftovers a suite is known to have, accepted until fixed.

One entry per known leftover, keyed on the test id, the kind and the line
that created it, as file, function (qualified name) and the line's stripped
text: never the line number, so inserting lines above it or moving its
function within the file keeps the match.  Renaming the test, moving the
line to another file or changing the line's text makes a new finding.

A finding that matches an entry is still reported, marked ``baseline``,
but does not fail its test.  An entry that matched nothing while its test
ran is stale: the leftover was fixed and the entry can go.

The file is JSON, sorted and indented, so that a diff in review shows only
the entries that changed::

    {
      "format": "trial-strictclean-baseline",
      "version": 1,
      "entries": [
        {"test": "...", "kind": "delayed-call", "file": "app/cache.py",
         "function": "Cache.set", "code": "reactor.callLater(30, self.expire)",
         "reason": ""}
      ]
    }
"""

from __future__ import annotations

import json
import os

from .findings import Finding, Value

FORMAT = "trial-strictclean-baseline"
VERSION = 1
ABOUT = (
    "Known leftovers accepted by trial-strictclean: a finding that matches an entry "
    "(test, kind, file, function and the text of the line that created it) does not "
    "fail its test. Delete an entry once its leftover is fixed; fill in reason as you like."
)
_FIELDS = ("test", "kind", "file", "function", "code")


class BaselineError(Exception):
    """A baseline file that cannot be used; its text says why."""


class Entry(Value):
    """One known leftover: where it comes from, and why it is accepted."""

    # A frozen plain value (findings.Value), not a @dataclass: cheaper at start-up.
    _FIELDS = ("test", "kind", "file", "function", "code", "reason")

    test: str
    kind: str
    file: str | None
    function: str | None
    code: str | None
    reason: str

    def __init__(
        self,
        test: str,
        kind: str,
        file: str | None = None,
        function: str | None = None,
        code: str | None = None,
        reason: str = "",
    ) -> None:
        self._init({"test": test, "kind": kind, "file": file, "function": function, "code": code, "reason": reason})

    @property
    def key(self) -> tuple:
        return (self.test, self.kind, self.file, self.function, self.code)

    def site(self) -> str:
        """Where the leftover was created, as people read it."""
        if self.file is None:
            return "(no creation site)"
        text = f"{self.file} in {self.function}"
        return f"{text}: {self.code}" if self.code else text

    def describe(self) -> str:
        return f"{self.test}: {self.kind} at {self.site()}"

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in (*_FIELDS, "reason")}


def _order(entry: Entry) -> tuple:
    return tuple("" if value is None else value for value in entry.key)


def _unique(entries) -> list[Entry]:
    """One entry per key (the first), sorted."""
    by_key: dict[tuple, Entry] = {}
    for entry in entries:
        by_key.setdefault(entry.key, entry)
    return sorted(by_key.values(), key=_order)


def _path(file: str | None) -> str | None:
    return None if file is None else file.replace(os.sep, "/")


def entry_for(test_id: str, finding: Finding, reason: str = "") -> Entry:
    """The entry that would accept ``finding`` of ``test_id``."""
    site = finding.created
    if site is None:
        return Entry(test_id, finding.kind, reason=reason)
    code = site.code.strip() if site.code else None
    return Entry(test_id, finding.kind, _path(site.file), site.function, code or None, reason)


def _same_function(a: str | None, b: str | None) -> bool:
    # Python 3.10 names a function bare (set), 3.11 qualified (Cache.set):
    # a baseline written on one still matches on the other.
    if a == b:
        return True
    if a is None or b is None:
        return False
    return a.endswith("." + b) or b.endswith("." + a)


def _matches(entry: Entry, candidate: Entry) -> bool:
    return (
        entry.file == candidate.file
        and entry.code == candidate.code
        and _same_function(entry.function, candidate.function)
    )


class Baseline:
    """The entries of one baseline file, and which of them matched."""

    def __init__(self, entries=(), source: str = "") -> None:
        self.entries = tuple(_unique(entries))
        self.source = source
        self._by_test: dict[tuple[str, str], list[Entry]] = {}
        for entry in self.entries:
            self._by_test.setdefault((entry.test, entry.kind), []).append(entry)
        self.tests = frozenset(entry.test for entry in self.entries)
        self._hits: set[Entry] = set()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, test_id: str, finding: Finding) -> Entry | None:
        """The entry that accepts ``finding`` of ``test_id``, if any."""
        candidates = self._by_test.get((test_id, finding.kind))
        if not candidates:
            return None
        wanted = entry_for(test_id, finding)
        for entry in candidates:
            if _matches(entry, wanted):
                return entry
        return None

    def hit(self, test_id: str, finding: Finding) -> bool:
        """Count ``finding`` against its entry; whether there was one."""
        entry = self.find(test_id, finding)
        if entry is not None:
            self._hits.add(entry)
        return entry is not None

    def stale(self, ran) -> list[Entry]:
        """Entries whose test ran (``ran``: test ids) and matched nothing."""
        return [e for e in self.entries if e not in self._hits and e.test in ran]


def dumps(entries) -> str:
    """The text of a baseline file: sorted, one entry per leftover."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        "about": ABOUT,
        "entries": [entry.to_dict() for entry in _unique(entries)],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _optional_text(entry: dict, name: str, where: str) -> str | None:
    value = entry.get(name)
    if value is not None and not isinstance(value, str):
        raise BaselineError(f"{where}: {name} = {value!r} must be a string or null")
    return value


def parse(text: str) -> tuple[Entry, ...]:
    """The entries of a baseline file's text; BaselineError if it is not one."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise BaselineError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(
            f"not a trial-strictclean baseline (no \"format\": \"{FORMAT}\"); "
            "write one with: trial-strictclean baseline --output FILE REPORT.json"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BaselineError(f"version = {version!r} must be a whole number from 1")
    if version > VERSION:
        raise BaselineError(
            f"written by a newer trial-strictclean (baseline version {version}); "
            f"this one reads version {VERSION}: upgrade trial-strictclean"
        )
    raw = data.get("entries")
    if not isinstance(raw, list):
        raise BaselineError(f"entries = {raw!r} must be a list")
    entries = []
    for index, entry in enumerate(raw):
        where = f"entries[{index}]"
        if not isinstance(entry, dict):
            raise BaselineError(f"{where} = {entry!r} must be an object")
        for name in ("test", "kind"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                raise BaselineError(f"{where}: {name} = {entry.get(name)!r} must be a non-empty string")
        reason = entry.get("reason") or ""
        if not isinstance(reason, str):
            raise BaselineError(f"{where}: reason = {reason!r} must be a string")
        file, function, code = (_optional_text(entry, n, where) for n in ("file", "function", "code"))
        entries.append(Entry(entry["test"], entry["kind"], _path(file), function, code, reason))
    return tuple(entries)


def load(path: str) -> tuple[Entry, ...]:
    """The entries of the baseline file at ``path``; BaselineError if unusable."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise BaselineError(
            "no such file; write it with: trial-strictclean baseline --output FILE REPORT.json"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"cannot be read: {getattr(error, 'strerror', None) or error}") from None
    return parse(text)


def from_findings(found, keep=()) -> list[Entry]:
    """
    Entries for ``found`` ((test id, Finding) pairs), one per distinct key;
    reasons are carried over from the entries of ``keep`` with the same key.
    """
    reasons = {entry.key: entry.reason for entry in keep}
    return _unique(entry_for(test_id, f, reasons.get(entry_for(test_id, f).key, "")) for test_id, f in found)
