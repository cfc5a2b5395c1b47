"""
The adapter for Trial: when a test is judged (``glue``), how the verdict
reaches Trial's result (``verdict``), the reporter users name with
``--reporter=strictclean`` (``reporter``), and ``trial -j`` workers
(``distributed``).
"""
