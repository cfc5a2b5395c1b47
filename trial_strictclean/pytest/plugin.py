"""
The ``pytest11`` entry point: adds ``--strictclean`` and, only when it is
given, registers the object that judges tests (``judge.StrictClean``).

pytest imports this module in every run of every project that has the
package installed, so it imports nothing but pytest here: never
``twisted.internet.reactor`` (pytest-twisted installs the reactor chosen
with ``--reactor`` in its own ``pytest_configure``), never ``twisted.trial``.
"""

from __future__ import annotations

import pytest

SHARED = ("strict", "practical")


def pytest_addoption(parser) -> None:
    group = parser.getgroup("strictclean", "trial-strictclean (leftovers in the Twisted reactor)")
    group.addoption(
        "--strictclean",
        action="store_true",
        default=False,
        help="fail each test that leaves the Twisted reactor dirty (an error at its teardown)",
    )
    group.addoption(
        "--strictclean-shared",
        choices=SHARED,
        default=None,
        help=(
            "server ends of a test's connections to a server owned by a wider fixture: "
            "'strict' (default) blames the test, 'practical' counts them against the fixture"
        ),
    )
    parser.addini("strictclean_shared", "default for --strictclean-shared: strict or practical", default="strict")


@pytest.hookimpl(trylast=True)
def pytest_configure(config) -> None:
    if not config.getoption("strictclean"):
        return
    shared = config.getoption("strictclean_shared") or config.getini("strictclean_shared") or "strict"
    if shared not in SHARED:
        raise pytest.UsageError(f"strictclean_shared = {shared!r} must be one of {', '.join(SHARED)}")
    from .judge import StrictClean

    config.pluginmanager.register(StrictClean(config, shared), "trial-strictclean")
