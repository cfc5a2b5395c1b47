"""
Ignore rules: which findings a project accepts, and which of its rules
no longer match anything (stale, like an unused ``noqa``).

Plugged into ``Session.triage``: it sees a test's findings after the
session cleaned them up and returns the ones that still fail the test.

The baseline (core/baseline.py) is applied last, when the verdict is
delivered (``with_baseline``): a known finding is kept for the reports,
marked ``baseline``, and recorded here like an ignored one, so that it
reaches the main process under ``-j`` the same way; it fails its test only
together with a new finding.

Under ``trial -j`` each worker triages the tests it runs and sends what it
ignored to the main process, which counts it with ``merge`` exactly as if
it had triaged the test itself (distributed.py).
"""

from __future__ import annotations

import os
import sys
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from .config import Rule
from .findings import ATTRIBUTE, Finding, Site, Value, replace

if TYPE_CHECKING:
    from .baseline import Baseline, Entry
    from .markers import Marker


def markers_of(test) -> tuple[Marker, ...]:
    """The markers that apply to ``test``: its method's, then its classes'."""
    # Here rather than in markers.py, which makes them: core/markers.py
    # and core/baseline.py are imported only when first needed (a marker
    # made, a baseline configured), as each module costs about 2 M
    # instructions or more at pytest start-up and a typical run needs
    # neither.
    found: list[Marker] = []
    method = getattr(test, getattr(test, "_testMethodName", "") or "", None)
    function = getattr(method, "__func__", method)
    if function is not None and not isinstance(function, type):
        found += getattr(function, ATTRIBUTE, ())
    for cls in type(test).__mro__:
        found += cls.__dict__.get(ATTRIBUTE, ())
    return tuple(found)


class _NoBaseline:
    """
    The baseline of a run that has none: what ``baseline.Baseline()`` is
    (no entries, never hit, never stale), without importing baseline.py.
    """

    entries: tuple = ()
    source = ""
    tests: frozenset = frozenset()

    def __bool__(self) -> bool:
        return False

    def find(self, test_id: str, finding: Finding) -> None:
        return None

    def hit(self, test_id: str, finding: Finding) -> bool:
        return False

    def stale(self, ran) -> list:
        return []


class Ignored(Value):
    """A finding that a rule or a marker accepted."""

    # A frozen plain value (findings.Value), not a @dataclass: cheaper at start-up.
    _FIELDS = ("test_id", "finding", "by", "rule", "marker")

    test_id: str
    finding: Finding
    by: str
    # Which rule (its index in the configuration) or marker accepted it, so
    # that another process can count the hit against the same one.
    rule: int | None
    marker: Marker | None

    def __init__(
        self, test_id: str, finding: Finding, by: str, rule: int | None = None, marker: Marker | None = None
    ) -> None:
        self._init({"test_id": test_id, "finding": finding, "by": by, "rule": rule, "marker": marker})

    def to_dict(self) -> dict:
        marker = self.marker
        return {
            "test_id": self.test_id,
            "finding": self.finding.to_dict(),
            "by": self.by,
            "rule": self.rule,
            "marker": None if marker is None else [list(marker.kinds), marker.reason, marker.origin],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Ignored:
        marker = data.get("marker")
        if marker is not None:
            from .markers import Marker
        return cls(
            str(data["test_id"]),
            Finding.from_dict(data["finding"]),
            str(data["by"]),
            data.get("rule"),
            None if marker is None else Marker(tuple(marker[0]), marker[1], marker[2]),
        )


class _Modules:
    """Module names by source file, rebuilt when a file is not known yet."""

    def __init__(self) -> None:
        self._by_file: dict[str, str] = {}
        self._size = -1

    def name(self, path: str, root: str) -> str:
        full = os.path.normcase(os.path.abspath(os.path.join(root, path)))
        if full not in self._by_file and len(sys.modules) != self._size:
            self._size = len(sys.modules)
            for name, module in list(sys.modules.items()):
                file = getattr(module, "__file__", None)
                if isinstance(file, str):
                    self._by_file.setdefault(os.path.normcase(os.path.abspath(file)), name)
        known = self._by_file.get(full)
        if known is not None:
            return known
        # Not imported as a module (exec'd code): guess from the path.
        stem = os.path.splitext(path)[0].replace(os.sep, "/").strip("/")
        if stem.endswith("/__init__"):
            stem = stem[: -len("/__init__")]
        return stem.replace("/", ".")


def where_keys(site: Site, module: str) -> tuple[str, ...]:
    """The strings a ``where`` glob is matched against for a creation site."""
    path = site.file.replace(os.sep, "/")
    return (f"{module}:{site.function}", f"{path}:{site.line}")


class Triage:
    """Applies the configured rules and the tests' markers; keeps count."""

    def __init__(self, rules: tuple[Rule, ...], root: str, baseline: Baseline | None = None) -> None:
        self.rules = tuple(rules)
        self.root = root
        self.baseline = baseline if baseline is not None else _NoBaseline()
        # Tests of the baseline that ran: only their entries can be stale.
        self._baseline_ran: set[str] = set()
        # Ignored findings, and known ones (``finding.baseline``), in order.
        self.ignored: list[Ignored] = []
        self._rule_hits = [0] * len(self.rules)
        # Every marker of every test that ran, and how often it matched.
        self._marker_hits: dict[Marker, int] = {}
        self._modules = _Modules()

    def saw(self, test) -> None:
        """Note the markers of a test that runs, so unused ones are stale."""
        for marker in markers_of(test):
            self._marker_hits.setdefault(marker, 0)
        if self.baseline:
            test_id = test.id()
            if test_id in self.baseline.tests:
                self._baseline_ran.add(test_id)

    def skipped(self, test) -> None:
        """``test`` was skipped: its baseline entries cannot be stale."""
        self._baseline_ran.discard(test.id())

    def _rule_matches(self, rule: Rule, finding: Finding, test_id: str) -> bool:
        if rule.kind is not None and rule.kind != finding.kind:
            return False
        if rule.test is not None and not fnmatchcase(test_id, rule.test):
            return False
        if rule.where is None:
            return True
        if finding.created is None:
            return False
        module = self._modules.name(finding.created.file, self.root)
        return any(fnmatchcase(key, rule.where) for key in where_keys(finding.created, module))

    def __call__(self, test, findings: list[Finding]) -> list[Finding]:
        """The findings that still fail ``test``; the others are counted."""
        markers = markers_of(test)
        for marker in markers:
            self._marker_hits.setdefault(marker, 0)
        keep = []
        for finding in findings:
            accepted = None
            for marker in markers:
                if marker.matches(finding.kind):
                    self._marker_hits[marker] += 1
                    accepted = Ignored(test.id(), finding, marker.describe(), marker=marker)
                    break
            if accepted is None:
                for index, rule in enumerate(self.rules):
                    if self._rule_matches(rule, finding, test.id()):
                        self._rule_hits[index] += 1
                        accepted = Ignored(test.id(), finding, rule.describe(), rule=index)
                        break
            if accepted is None:
                keep.append(finding)
            else:
                self.ignored.append(accepted)
        return keep

    def with_baseline(self, report):
        """
        ``report`` (a runner's ``Session.report``), with known findings
        marked and recorded: a test whose findings are all known is not
        reported (it passes); otherwise its new findings come first.
        """
        if not self.baseline:
            return report

        def deliver(test, result, findings):
            findings = self.mark_known(test.id(), findings)
            if all(finding.baseline for finding in findings):
                return False
            return report(test, result, findings)

        return deliver

    def mark_known(self, test_id: str, findings: list[Finding]) -> list[Finding]:
        """
        ``findings`` with those the baseline knows marked (``baseline``) and
        recorded as accepted: the new ones first.
        """
        if not self.baseline:
            return findings
        new, known = [], []
        for finding in findings:
            if self.baseline.hit(test_id, finding):
                known.append(replace(finding, baseline=True))
            else:
                new.append(finding)
        self.ignored += [Ignored(test_id, finding, self._baseline_by()) for finding in known]
        return new + known

    def _baseline_by(self) -> str:
        return f"the baseline {self.baseline.source}"

    def take_ignored(self) -> list[Ignored]:
        """What was ignored since the last call, forgotten here (a -j worker)."""
        taken, self.ignored = self.ignored, []
        return taken

    def merge(self, ignored: list[Ignored]) -> None:
        """Count what another process's triage ignored, as if done here."""
        for item in ignored:
            self.ignored.append(item)
            rule = item.rule
            if rule is not None and 0 <= rule < len(self.rules) and self.rules[rule].describe() == item.by:
                self._rule_hits[rule] += 1
            elif item.marker is not None:
                self._marker_hits[item.marker] = self._marker_hits.get(item.marker, 0) + 1
            elif item.finding.baseline:
                self.baseline.hit(item.test_id, item.finding)

    def stale_baseline(self) -> list[Entry]:
        """Baseline entries whose test ran and matched nothing: fixed."""
        return self.baseline.stale(self._baseline_ran)

    def stale(self) -> list[str]:
        """Rules and markers that matched nothing in this run."""
        unused = [rule.describe() for rule, hits in zip(self.rules, self._rule_hits) if not hits]
        unused += [marker.describe() for marker, hits in self._marker_hits.items() if not hits]
        return unused
