"""
The core: what any test runner needs to judge a test, and nothing of any
runner.  No module here imports ``twisted.trial`` or ``pytest``.

The data flows capture (``capture``, ``provenance``: cheap notes taken as
resources are created and closed) → inspection (``inspection``: what is new
since the test started) → findings (``diagnosis``, one module per family of
resource, into ``findings``: plain values) → policy (``ignore``,
``markers``, ``config``) → the ``session`` that judges one test at a time,
and ``outcomes``, the plain records of a run.
"""
