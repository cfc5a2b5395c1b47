"""
Work on the reactor's thread pool still running or queued.
"""

from __future__ import annotations

from ..findings import Finding
from .common import Context, describe_callable, make_finding


def thread_finding(ctx: Context, work) -> Finding:
    created, callers = ctx.created(work)
    return make_finding(
        "thread-work",
        f"{describe_callable(work.func)} on the reactor's thread pool",
        "Still running (or queued) when the test ended.",
        created,
        state="running or queued",
        callers=callers,
        wait_for="the Deferred returned by deferToThread()",
        fix=(
            "Return or await the Deferred from deferToThread(); for callInThread(), "
            "report completion with reactor.callFromThread and wait on that."
        ),
    )

