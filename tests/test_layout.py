"""
The layout the code promises (docs/internals.rst): a core that imports no
test runner and no renderer, renderers that import no runner.
"""

from __future__ import annotations

import ast
import os

from twisted.trial.unittest import SynchronousTestCase

import trial_strictclean

PACKAGE = os.path.dirname(trial_strictclean.__file__)


def _imports(path: str):
    """Every module ``path`` imports, absolute or relative, anywhere in it."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")


def _modules(folder: str):
    for root, _, files in os.walk(os.path.join(PACKAGE, folder)):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(root, name)


class Layers(SynchronousTestCase):
    def assertImportsNone(self, folder: str, forbidden: tuple[str, ...]):
        checked = 0
        for path in _modules(folder):
            checked += 1
            for name in _imports(path):
                bare = name.lstrip(".")
                for bad in forbidden:
                    self.assertFalse(
                        bare == bad or bare.startswith(bad + ".") or name.startswith(".." + bad),
                        f"{os.path.relpath(path, PACKAGE)} imports {name}",
                    )
        self.assertGreater(checked, 5, folder)

    def test_core_knows_no_runner(self):
        self.assertImportsNone("core", ("twisted.trial", "pytest", "_pytest", "trial", "render"))

    def test_renderers_know_no_runner(self):
        self.assertImportsNone("render", ("twisted.trial", "pytest", "_pytest", "trial"))
