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
    _import_plainly()
    from .judge import StrictClean

    config.pluginmanager.register(StrictClean(config, shared), "trial-strictclean")


def _import_plainly() -> None:
    """
    Take this package off the list of names pytest's assertion rewriter
    imports itself.  pytest puts every package of a ``pytest11`` plugin's
    distribution there, so that a plugin's failing asserts read well; ours
    are not test code, and importing them through the rewriter cost about
    50 M instructions at start-up (its own byte-code cache, read object by
    object), more than everything else we do before the first test, and
    left the two asserts of our ``callLater`` rewritten on the hottest
    path.  Private attributes of pytest's hook: where they are not there,
    modules are imported as before, only slower.
    """
    import sys

    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if isinstance(marked, set) and __package__.partition(".")[0] in marked:
            marked.discard(__package__.partition(".")[0])
            cache = getattr(finder, "_marked_for_rewrite_cache", None)
            if isinstance(cache, dict):
                cache.clear()  # it may have answered for a name of ours already
