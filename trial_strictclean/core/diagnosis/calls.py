"""
Delayed calls: what each one belongs to (a looping call, a protocol's
timeout, a port's pending close, a connection attempt) or, failing that,
the plain call the test scheduled.
"""

from __future__ import annotations

from ..capture import closing_ports
from ..findings import Finding
from .common import Context, describe_callable, is_a, make_finding, safe, type_name
from .network import closing_port_finding, connector_finding


def _delayed_target(call):
    """The function, arguments and owner a DelayedCall will run."""
    func, args, kw = call.func, call.args, call.kw
    return func, args, kw, getattr(func, "__self__", None)


def call_finding(ctx: Context, call) -> tuple[Finding, object | None]:
    """A finding for one delayed call, and the object it belongs to (if any)."""
    func, args, kw, owner = _delayed_target(call)
    qualname = getattr(func, "__qualname__", "") or ""
    name = getattr(func, "__name__", "") or ""
    remaining = safe(lambda: call.getTime() - ctx.reactor.seconds(), None)
    due = f"due in {remaining:.2f}s" if isinstance(remaining, float) else "pending"
    created, callers = ctx.created(call)

    if is_a(func, "twisted.internet.task", ("LoopingCall",)):
        loop = func  # LoopingCall schedules itself: the call's func is the loop
        created, callers = ctx.created(loop, call)
        interval = getattr(loop, "interval", None)
        every = f" every {interval}s" if interval is not None else ""
        return make_finding(
            "looping-call",
            f"LoopingCall of {describe_callable(loop.f, loop.a, loop.kw)}{every}",
            f"Started and never stopped; next call {due}.",
            created,
            state=f"running, next call {due}",
            callers=callers,
            wait_for="the Deferred returned by LoopingCall.start(), which fires after stop()",
            fix="Stop it when the test ends: self.addCleanup(loop.stop).",
        ), loop

    if qualname.endswith("TimeoutMixin.__timedOut") or name.endswith("__timedOut"):
        proto = type_name(owner)
        return make_finding(
            "protocol-timeout",
            f"{proto} timeout from TimeoutMixin.setTimeout ({due})",
            "Still pending because the protocol's connection is still open; "
            "it is cancelled when the connection is lost.",
            created,
            state=f"pending, {due}",
            callers=callers,
            wait_for=f"{proto}.connectionLost, which cancels the timeout",
            fix=(
                "Close the connection and wait for connectionLost, or call "
                "self.setTimeout(None) on the protocol before the test ends."
            ),
        ), getattr(owner, "transport", None) or owner

    if "addTimeout" in qualname and "timeItOut" in qualname:
        return make_finding(
            "deferred-timeout",
            f"timeout of a Deferred given addTimeout() ({due})",
            "The Deferred never fired, so its timeout is still pending.",
            created,
            state=f"pending, {due}",
            callers=callers,
            wait_for="the Deferred given addTimeout()",
            fix="Return that Deferred from the test, or cancel it in a cleanup: self.addCleanup(d.cancel).",
        ), None

    if is_a(owner, "twisted.internet.defer", ("Deferred",)) and name == "callback":
        for port in list(closing_ports):
            if getattr(port, "deferred", None) is owner:
                return closing_port_finding(ctx, port, due), port
        canceller = getattr(owner, "_canceller", None)
        if "deferLater" in (getattr(canceller, "__qualname__", "") or ""):
            return make_finding(
                "defer-later",
                f"Deferred returned by task.deferLater() ({due})",
                "The test did not wait for it.",
                created,
                state=f"pending, {due}",
                callers=callers,
                wait_for="the Deferred returned by task.deferLater()",
                fix=(
                    "Return that Deferred from the test (or await it), or cancel "
                    "it in a cleanup: self.addCleanup(d.cancel)."
                ),
            ), None

    if is_a(owner, "twisted.internet.udp", ("Port",)) and name == "connectionLost":
        return closing_port_finding(ctx, owner, due), owner

    if is_a(owner, "twisted.internet.tcp", ("BaseClient",)) and name in (
        "failIfNotConnected",
        "resolveAddress",
    ):
        return connector_finding(ctx, owner), getattr(owner, "connector", None) or owner

    if is_a(owner, "twisted.internet.base", ("BaseConnector",)):
        # The connector's own time limit for the attempt.
        return connector_finding(ctx, getattr(owner, "transport", None), owner), owner

    what = describe_callable(func, args, kw)
    return make_finding(
        "delayed-call",
        f"reactor.callLater(..., {what})",
        f"Still pending ({due}).",
        created,
        state=f"pending, {due}",
        callers=callers,
        fix=(
            "Keep the DelayedCall that callLater returns and cancel it in a "
            "cleanup (self.addCleanup(call.cancel)); to let it run, pass the "
            "code a twisted.internet.task.Clock and advance that instead."
        ),
    ), None

