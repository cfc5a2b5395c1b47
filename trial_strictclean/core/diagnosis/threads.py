"""
Work on the reactor's thread pool still running or queued.
"""

from __future__ import annotations

from ..findings import Finding
from .common import Context, describe_callable, make_finding, phrase, when_done


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



def running_thread_finding(ctx: Context, thread) -> Finding:
    """A threading.Thread the test started and did not wait for."""
    created, callers = ctx.created(thread)
    target = getattr(thread, "_target", None)
    what = f" running {describe_callable(target)}" if target is not None else ""
    daemon = " (daemon)" if getattr(thread, "daemon", False) else ""
    return make_finding(
        "thread-running",
        f"thread {thread.name!r}{what}{daemon}",
        "Started by the test and still alive when it ended: it outlives the test "
        "and runs on during later ones.",
        created,
        state="alive",
        callers=callers,
        wait_for="the thread to finish: Thread.join()",
        fix=(
            f"Join it before the test ends: {when_done(ctx, 'thread.join', resource='thread')}; "
            "a thread that loops until told to stop must be told first (e.g. "
            f"stop_event.set() before thread.join()). {phrase(ctx, 'order')}."
        ),
    )
