"""
Diagnosis: turn the raw objects a test left in the reactor into findings a
person can act on: what each one is, where it came from, what the test
should have waited for, and what to change.  One module per family of
resource; this one puts them together and groups related findings.

Findings one mistake explains share a group (groups.py) with one fix.

Runs only for dirty tests, so it may take its time; it must never raise on
an odd object (a finding that says less is better than a lost verdict).
"""

from __future__ import annotations

from ..findings import Finding, replace
from ..inspection import Leftovers
from .calls import call_finding
from .cleanups import order_of, order_text
from .common import Context, describe_callable, fallback, is_a, safe
from .groups import group
from .network import connection_finding, connection_side, connector_finding, port_finding, selectable_finding
from .processes import process_finding
from .asyncio_tasks import handle_finding, task_finding
from .observers import observer_finding
from .threads import running_thread_finding, thread_finding
from .triggers import trigger_finding

__all__ = ["diagnose", "describe_callable"]

_ORDER = {
    "listening-port-open": 0,
    "listening-port-closing": 0,
    "connection-open": 1,
    "connection-closing": 1,
    "connector-connecting": 2,
    "protocol-timeout": 3,
    "process-running": 4,
}


def diagnose(reactor, leftovers: Leftovers, root: str = "", runner: str = "trial") -> tuple[list[Finding], list]:
    """
    Findings for a test's leftovers, related ones grouped, and beside them,
    one for one, the object each finding is about (a delayed call, a
    selectable, a process, thread work), to tell what became of it.
    """
    ctx = Context(reactor, root, runner)
    # (finding, the resource it is grouped by, the object it is about)
    findings: list[tuple[Finding, object, object]] = []
    process_pipes = {}
    seen = set()

    def add(make, kind, obj, anchor):
        try:
            finding = make()
        except Exception as error:  # an odd object must not lose the verdict
            finding = fallback(kind, obj, error)
        findings.append((finding, anchor, obj))

    for proc in leftovers.processes:
        process_pipes[id(proc)] = proc
        add(lambda: process_finding(ctx, proc), "process-running", proc, proc)

    readers = {id(x) for x in leftovers.readers}
    writers = {id(x) for x in leftovers.writers}

    def selectable(obj) -> None:
        proc = safe(lambda: getattr(obj, "proc", None), None)
        if proc is not None and is_a(obj, "twisted.internet.process", ("ProcessReader", "ProcessWriter")):
            # One finding per process, not one per pipe.
            if id(proc) not in process_pipes:
                process_pipes[id(proc)] = proc
                add(lambda: process_finding(ctx, proc), "process-running", proc, proc)
            return
        if is_a(obj, "twisted.internet.process", ("PTYProcess",)):
            if id(obj) not in process_pipes:
                process_pipes[id(obj)] = obj
                add(lambda: process_finding(ctx, obj), "process-running", obj, obj)
            return
        if is_a(obj, "twisted.internet.base", ("BasePort",)):
            add(lambda: port_finding(ctx, obj), "listening-port-open", obj, obj)
            return
        side = connection_side(obj)
        if side == "client" and not getattr(obj, "connected", True):
            connector = getattr(obj, "connector", None) or obj
            add(lambda: connector_finding(ctx, obj), "connector-connecting", obj, connector)
            return
        if side is not None:
            add(lambda: connection_finding(ctx, obj, side), "connection-open", obj, obj)
            return
        reading, writing = id(obj) in readers, id(obj) in writers
        add(lambda: selectable_finding(ctx, obj, reading, writing), "reader" if reading else "writer", obj, obj)

    for obj in (*leftovers.readers, *leftovers.writers):
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        try:
            selectable(obj)
        except Exception as error:
            findings.append((fallback("reader" if id(obj) in readers else "writer", obj, error), None, obj))

    anchors_seen = {id(a) for _, a, _ in findings if a is not None}
    for call in leftovers.calls:
        try:
            finding, owner = call_finding(ctx, call)
        except Exception as error:
            findings.append((fallback("delayed-call", call, error), None, call))
            continue
        if finding.kind == "connector-connecting":
            if id(owner) in anchors_seen:
                continue  # the connection attempt is already reported
            anchors_seen.add(id(owner))
        findings.append((finding, owner, call))

    for work in leftovers.threads:
        add(lambda: thread_finding(ctx, work), "thread-work", work, None)

    others = (
        (running_thread_finding, "thread-running", leftovers.running_threads),
        (task_finding, "asyncio-task", leftovers.tasks),
        (handle_finding, "asyncio-handle", leftovers.handles),
        (trigger_finding, "system-event-trigger", leftovers.triggers),
        (observer_finding, "log-observer", leftovers.observers),
    )
    for make, kind, objects in others:
        for obj in objects:
            add(lambda: make(ctx, obj), kind, obj, None)

    grouped = group(findings, _ORDER, ctx)
    try:
        grouped = _name_the_order(findings, grouped)
    except Exception:
        pass  # the findings without it: better than none
    return [f for f, _ in grouped], [subject for _, subject in grouped]


def _name_the_order(findings: list, grouped: list) -> list:
    """
    A group whose close was a cleanup that ran too late (a waiting cleanup
    registered after it timed out first, cleanups.at_timeout) says so first.
    """
    orders = {}
    for _, anchor, subject in findings:
        order = order_of(subject, anchor, safe(lambda: subject.transport, None))
        if order is not None:
            orders[id(subject)] = order
    if not orders:
        return grouped
    by_group = {}
    for finding, subject in grouped:
        if id(subject) in orders:
            by_group.setdefault(finding.group, orders[id(subject)])
    return [
        (replace(f, fix=f"{order_text(by_group[f.group])} {f.fix or ''}".rstrip()), s)
        if f.group in by_group else (f, s)
        for f, s in grouped
    ]
