"""
System event triggers (``reactor.addSystemEventTrigger``) the test added
and did not remove: they fire at shutdown, or at the next startup, in
another test's context.
"""

from __future__ import annotations

from ..findings import Finding
from .common import Context, describe_callable, make_finding, when_done


def trigger_finding(ctx: Context, record) -> Finding:
    event_type, (phase, func, args, kwargs) = record.key
    created, callers = ctx.created(record)
    return make_finding(
        "system-event-trigger",
        f"system event trigger {phase!r} {event_type!r}: {describe_callable(func, args, kwargs)}",
        f"Still registered with the reactor: it would run at the reactor's next "
        f"{event_type}, in another test's context or at the end of the run.",
        created,
        state="registered",
        callers=callers,
        fix=(
            "Remove it when the test ends: trigger = reactor.addSystemEventTrigger(...); "
            f"{when_done(ctx, 'reactor.removeSystemEventTrigger', 'trigger', resource='trigger')}."
        ),
    )
