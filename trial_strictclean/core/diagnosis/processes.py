"""
Child processes still running when the test ended.
"""

from __future__ import annotations

from ..findings import Finding
from .common import Context, make_finding, type_name


def process_finding(ctx: Context, proc) -> Finding:
    created, callers = ctx.created(proc)
    protocol = getattr(proc, "proto", None)
    proto = type_name(protocol) if protocol is not None else "its ProcessProtocol"
    pid = getattr(proc, "pid", None)
    return make_finding(
        "process-running",
        f"child process {pid} ({proto})",
        f"Had not ended when the test ended: {proto}.processEnded has not run.",
        created,
        ctx.closed(proc),
        state="running" if pid is not None else "exited, not reaped",
        callers=callers,
        wait_for=f"{proto}.processEnded",
        fix=(
            "End the process (transport.signalProcess('KILL')) and wait for "
            f"{proto}.processEnded: fire a Deferred there and return it."
        ),
    )

