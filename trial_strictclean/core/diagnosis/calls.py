"""
Delayed calls: what each one belongs to (a looping call, a protocol's
timeout, a port's pending close, a connection attempt) or, failing that,
the plain call the test scheduled.
"""

from __future__ import annotations

from .. import provenance
from ..capture import closing_ports
from ..findings import Finding
from .clocks import advice, time_keeper
from .common import Context, describe_callable, is_a, make_finding, safe, type_name, when_done
from .naming import line_name, name_for, source_line
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
    if not isinstance(remaining, float):
        due = "pending"
    elif remaining < 0.005:
        due = "due now"  # a zero-delay call: the next reactor turn runs it
    else:
        due = f"due in {remaining:.2f}s"
    created, callers = ctx.created(call)

    if is_a(func, "twisted.internet.task", ("LoopingCall",)):
        loop = func  # LoopingCall schedules itself: the call's func is the loop
        # The line that scheduled it (start()) before the constructor's.
        created, callers = ctx.created(call, loop)
        name = name_for(loop, "loop", created, ctx.root, method="start")
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
            fix=f"Stop it when the test ends: {when_done(ctx, f'{name}.stop')}.",
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
                "Nothing to cancel by itself: the timeout goes when the connection "
                "closes. Close it (transport.loseConnection()) and wait for "
                f"{proto}.connectionLost."
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
            fix=(
                "Return that Deferred from the test (or await it), or cancel it when "
                f"the test ends: {when_done(ctx, 'd.cancel')}."
            ),
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
                    f"it when the test ends: {when_done(ctx, 'd.cancel')}."
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

    if is_a(owner, "twisted.web.client", ("HTTPConnectionPool",)):
        return make_finding(
            "delayed-call",
            f"HTTPConnectionPool timer that closes an idle cached connection ({due})",
            "The pool keeps the connection open for reuse until this timer closes it.",
            created,
            state=f"pending, {due}",
            callers=callers,
            wait_for="the Deferred returned by the pool's closeCachedConnections()",
            fix=(
                "Close the pool's connections when the test ends and wait for them: "
                f"{when_done(ctx, 'pool.closeCachedConnections', waits=True)}."
            ),
        ), owner

    what = describe_callable(func, args, kw)
    wait_for, fix = _call_advice(ctx, created, callers, getattr(call, provenance.CREATED, None))
    return make_finding(
        "delayed-call",
        f"reactor.callLater(..., {what})",
        f"Still pending ({due}).",
        created,
        state=f"pending, {due}",
        callers=callers,
        wait_for=wait_for,
        fix=fix,
    ), None


def _call_advice(ctx: Context, created, callers, captured=None) -> tuple[str | None, str]:
    """
    What to wait for and what to change, by who scheduled the call
    (``captured``: its creation as provenance keeps it, code objects).
    """
    if created is None:
        # Library code scheduled it (an eventual-send queue, a cache): the
        # test cannot reach the call, and cancelling it would break the library.
        return (
            "the work the library queued to run: a Deferred that fires after it, or "
            "the library's own flush or drain call",
            "The call belongs to library code, not the test: do not cancel it. "
            "Wait for it before the test ends (return a Deferred that fires after "
            "the library's work is done, or call the library's flush or drain "
            "method where it has one).",
        )
    keeper = time_keeper(captured)
    if keeper is not None:
        # Code that already keeps time: never "pass it a Clock".
        return None, advice(keeper)
    if callers:
        function = created.function
        if function.rsplit(".", 1)[-1] == "callLater":
            # A test double standing in for the reactor that hands calls on
            # to the real one: the double is the place to fix, once.
            # Python 3.10 sites name the method without its class.
            who = function if "." in function else f"The fake reactor's {function}"
            return (
                None,
                f"{who} (shared test code) hands the call to the real reactor, "
                "where the test cannot reach it. Fix it once there: keep the call "
                "on the fake (it is already a clock: advance it), or have the test "
                "wait for the call to run before it ends.",
            )
        if source_line(created, ctx.root).lstrip().startswith("return "):
            # The helper hands the DelayedCall back: the test can keep it.
            helper = created.function.rsplit(".", 1)[-1]
            return (
                None,
                f"{helper}() returns the DelayedCall: keep it (call = {helper}(...)) "
                f"and cancel it when the test ends: {when_done(ctx, 'call.cancel')}. To "
                "let it run instead, pass that code a twisted.internet.task.Clock and "
                "advance that.",
            )
        return (
            None,
            f"The call is scheduled inside {function} (code the test calls, at the "
            "'called from' line), where the test cannot cancel it. Have the test "
            "wait for it before it ends (a Deferred that fires once it has run, or "
            "that code's own flush or drain call where it has one); or pass that "
            "code a twisted.internet.task.Clock instead of the reactor and advance "
            "the clock.",
        )
    name = line_name(created, ctx.root)
    if name:
        fix = f"Cancel it when the test ends: {when_done(ctx, f'{name}.cancel')}."
    else:
        fix = (
            "Keep the DelayedCall that callLater returns (call = "
            "reactor.callLater(...)) and cancel it when the test ends: "
            f"{when_done(ctx, 'call.cancel')}."
        )
    return None, fix + (
        " To let it run instead, pass the code a twisted.internet.task.Clock "
        "and advance that."
    )

