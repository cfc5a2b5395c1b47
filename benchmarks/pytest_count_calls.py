"""
How many ``reactor.callLater`` calls and file descriptors a real pytest
suite makes per test: the figures that say what a representative suite for
``pytest_compare.py`` looks like.

A pytest plugin, loaded by module name with nothing else of ours::

    PYTHONPATH=path/to/benchmarks pytest -p pytest_count_calls -p no:cacheprovider tests/...

At the end it prints, for the tests run: how many, and the mean and median
number of ``callLater`` calls and ``FileDescriptor`` objects created per
test (setup, call and teardown together).  ``COUNT_CALLS_JSON=path`` also
writes ``[node id, calls, descriptors]`` per test.
"""

from __future__ import annotations

import json
import os
import statistics

import pytest

_made = {"calls": 0, "descriptors": 0}
_per_test: list = []


def _counting(cls, name: str, key: str) -> None:
    original = getattr(cls, name)

    def counted(self, *args, **kwargs):
        _made[key] += 1
        return original(self, *args, **kwargs)

    setattr(cls, name, counted)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config) -> None:
    from twisted.internet.abstract import FileDescriptor
    from twisted.internet.base import ReactorBase

    _counting(ReactorBase, "callLater", "calls")
    _counting(FileDescriptor, "__init__", "descriptors")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    calls, descriptors = _made["calls"], _made["descriptors"]
    try:
        return (yield)
    finally:
        _per_test.append((item.nodeid, _made["calls"] - calls, _made["descriptors"] - descriptors))


def pytest_terminal_summary(terminalreporter) -> None:
    if not _per_test:
        return
    calls = [c for _, c, _ in _per_test]
    descriptors = [d for _, _, d in _per_test]
    terminalreporter.write_line(
        f"count-calls: {len(_per_test)} tests; callLater per test mean {statistics.mean(calls):.1f}, "
        f"median {statistics.median(calls)}; descriptors per test mean {statistics.mean(descriptors):.1f}, "
        f"median {statistics.median(descriptors)}"
    )
    path = os.environ.get("COUNT_CALLS_JSON")
    if path:
        with open(path, "w", encoding="utf-8") as file:
            json.dump(_per_test, file)
