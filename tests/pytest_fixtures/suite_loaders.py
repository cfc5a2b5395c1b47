"""Run with --strictclean: our modules are imported plainly, not by pytest's assertion rewriter."""

import sys


def test_our_modules_are_imported_plainly():
    loaders = {
        name: type(module.__loader__).__name__
        for name, module in list(sys.modules.items())
        if name.startswith("trial_strictclean.core")
    }
    assert loaders, "no module of trial_strictclean.core imported"
    assert "AssertionRewritingHook" not in loaders.values(), loaders
