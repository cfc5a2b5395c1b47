"""
Registers ``--reporter=strictclean`` with Trial's plugin discovery.

This module is imported whenever any program asks Twisted for its plugins,
so it stays tiny: no import of ``trial_strictclean`` and, above all, none of
``twisted.internet.reactor`` (that would install the default reactor before
``trial --reactor=...`` gets to choose one).
"""

from zope.interface import implementer

from twisted.plugin import IPlugin
from twisted.trial.itrial import IReporter


@implementer(IPlugin, IReporter)
class _StrictCleanReporterPlugin:
    name = "strictclean"
    description = (
        "Tree output; a test that leaves anything in the reactor "
        "(timers, sockets, ...) fails, with where it was created"
    )
    longOpt = "strictclean"
    shortOpt = None
    module = "trial_strictclean.trial.reporter"
    klass = "StrictCleanReporter"


strictclean = _StrictCleanReporterPlugin()
