"""
Child processes still running when the test ended.
"""

from __future__ import annotations

from ..findings import Finding
from .common import Context, make_finding, phrase, type_name
from .naming import name_for


def process_finding(ctx: Context, proc) -> Finding:
    created, callers = ctx.created(proc)
    protocol = getattr(proc, "proto", None)
    proto = type_name(protocol) if protocol is not None else "its ProcessProtocol"
    pid = getattr(proc, "pid", None)
    name = name_for(proc, "transport", created, ctx.root)
    what = f"child process {pid}" if pid is not None else "a child process that has exited"
    return make_finding(
        "process-running",
        f"{what} ({proto})",
        f"Had not ended when the test ended: {proto}.processEnded has not run.",
        created,
        ctx.closed(proc),
        state="running" if pid is not None else "exited, not reaped",
        callers=callers,
        wait_for=f"{proto}.processEnded",
        fix=(
            f"Signal it while it runs ({name}.signalProcess('TERM')), then wait "
            f"for {proto}.processEnded: fire a Deferred there and "
            f"{phrase(ctx, 'return it')}. Signalling alone is not enough, and signalling a process "
            "that has already ended raises ProcessExitedAlready."
        ),
    )

