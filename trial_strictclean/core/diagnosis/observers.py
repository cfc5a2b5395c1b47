"""
Log observers the test added to the global log publisher and left there:
they see every later test's events.
"""

from __future__ import annotations

from ..findings import Finding
from .common import Context, describe_callable, make_finding, when_done


def observer_finding(ctx: Context, record) -> Finding:
    observer = record.key
    created, callers = ctx.created(record)
    legacy = getattr(observer, "legacyObserver", None)
    shown = legacy if legacy is not None else observer
    if getattr(shown, "__qualname__", None) or getattr(shown, "__name__", None):
        name = describe_callable(shown).removesuffix("()")
    else:
        name = f"a {type(shown).__qualname__} instance"
    if legacy is not None:
        how = "twisted.python.log.addObserver"
        fix = f"Remove it when the test ends: {when_done(ctx, 'log.removeObserver', 'observer', resource='observer')}."
    else:
        how = "globalLogPublisher.addObserver"
        fix = (
            "Remove it when the test ends: "
            f"{when_done(ctx, 'globalLogPublisher.removeObserver', 'observer', resource='observer')}."
        )
    return make_finding(
        "log-observer",
        f"log observer {name} (added with {how})",
        "Still registered when the test ended: it sees every later test's log events.",
        created,
        state="registered",
        callers=callers,
        fix=fix,
    )
