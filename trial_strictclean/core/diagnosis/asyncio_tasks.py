"""
asyncio tasks still pending and handles still scheduled on the loop the
asyncio reactor runs: what ``getDelayedCalls()`` never lists.
"""

from __future__ import annotations

from ..findings import Finding
from .common import Context, describe_callable, make_finding, phrase, safe, when_done


def _coroutine_name(task) -> str:
    coro = safe(lambda: task.get_coro(), None)
    name = getattr(coro, "__qualname__", None) or getattr(coro, "__name__", None)
    return f"{name}()" if name else safe(lambda: task.get_name(), "a coroutine")


def task_finding(ctx: Context, record) -> Finding:
    task = record.key
    created, callers = ctx.created(record)
    name = safe(lambda: task.get_name(), "?")
    return make_finding(
        "asyncio-task",
        f"asyncio task {name} running {_coroutine_name(task)}",
        "Still pending when the test ended: the test neither waited for it nor cancelled it.",
        created,
        state="pending",
        callers=callers,
        wait_for="the task: Deferred.fromFuture(task)",
        fix=(
            "Wait for it before the test ends: return defer.Deferred.fromFuture(task) "
            "(in an async test: await defer.Deferred.fromFuture(task)); or stop it "
            f"{phrase(ctx, 'in a cleanup')}: call task.cancel() and wait for "
            "defer.Deferred.fromFuture(task) with an errback that traps "
            "asyncio.CancelledError."
        ),
    )


def handle_finding(ctx: Context, record) -> Finding:
    handle = record.key
    created, callers = ctx.created(record)
    func = getattr(handle, "_callback", None)
    args = getattr(handle, "_args", None) or ()
    what = describe_callable(func, args) if func is not None else "?"
    when = safe(lambda: handle.when() - record.owner.time(), None)
    due = f"due in {when:.2f}s" if isinstance(when, float) else "due at the next turn of the loop"
    delay = "..., " if record.how in ("call_later", "call_at") else ""
    return make_finding(
        "asyncio-handle",
        f"loop.{record.how}({delay}{what})",
        f"Still scheduled on the asyncio loop ({due}).",
        created,
        state=f"scheduled, {due}",
        callers=callers,
        fix=(
            f"Keep the handle that {record.how} returns and cancel it when the test "
            f"ends: {when_done(ctx, 'handle.cancel')}; to let it run, wait for what it does "
            "before the test ends."
        ),
    )
