"""
The pytest adapter: ``pytest --strictclean`` judges each test of a
pytest-twisted suite with the same core as ``trial --reporter=strictclean``.

``plugin`` is the ``pytest11`` entry point (options only, cheap to import);
``judge`` decides when a test is done and where its verdict goes.
"""
