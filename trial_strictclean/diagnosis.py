"""
Diagnosis: turn the raw objects a test left in the reactor into findings a
person can act on: what each one is, where it came from, what the test
should have waited for, and what to change.

Runs only for dirty tests, so it may take its time; it must never raise on
an odd object (a finding that says less is better than a lost verdict).
"""

from __future__ import annotations

import reprlib
from dataclasses import replace

from . import provenance
from .capture import closing_ports
from .findings import Finding, Site
from .inspection import Leftovers

_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlevel = 2

def _is(obj, module: str, names: tuple[str, ...]) -> bool:
    """isinstance by qualified name, without importing optional modules."""
    for cls in type(obj).__mro__:
        if cls.__module__ == module and cls.__name__ in names:
            return True
    return False


def _name(obj) -> str:
    return type(obj).__name__


def _unwrap_protocol(protocol):
    # TLS and policy wrappers sit between the transport and the user's
    # protocol; the user knows the inner one.
    seen = 0
    tls = False
    while protocol is not None and hasattr(protocol, "wrappedProtocol") and seen < 5:
        if _is(protocol, "twisted.protocols.tls", ("TLSMemoryBIOProtocol",)):
            tls = True
        protocol = protocol.wrappedProtocol
        seen += 1
    return protocol, tls


def _address(addr) -> str:
    host = getattr(addr, "host", None)
    port = getattr(addr, "port", None)
    if host is not None and port is not None:
        if ":" in str(host):
            return f"[{host}]:{port}"
        return f"{host}:{port}"
    name = getattr(addr, "name", None)
    if name is not None:
        return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
    return str(addr)


def _safe(call, default="?"):
    try:
        return call()
    except Exception:
        return default


def describe_callable(func, args=(), kw=None) -> str:
    """``Echo.timeout(1, 'x')``: a call as the user would have written it."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if name is None:
        name = _repr.repr(func)
    parts = [_repr.repr(a) for a in args]
    parts += [f"{k}={_repr.repr(v)}" for k, v in (kw or {}).items()]
    return f"{name}({', '.join(parts)})"


class _Context:
    """What diagnosing one test needs to know besides its leftovers."""

    def __init__(self, reactor, root: str) -> None:
        self.reactor = reactor
        self.root = root

    def created(self, *objects) -> tuple[Site | None, tuple[Site, ...]]:
        """The creation site of the first object that has one, and its callers."""
        for obj in objects:
            if obj is None:
                continue
            found = provenance.created_sites(obj, self.root)
            if found:
                return found[0], found[1:]
        return None, ()

    def closed(self, *objects) -> Site | None:
        for obj in objects:
            if obj is None:
                continue
            site = provenance.closed_site(obj, self.root)
            if site is not None:
                return site
        return None


def _at(site: Site | None) -> str:
    return f" at {site.location()}" if site else ""


# --- selectables --------------------------------------------------------


def _port_kind(port) -> str:
    if _is(port, "twisted.internet.udp", ("Port",)):
        return "UDP" if not _is(port, "twisted.internet.unix", ("DatagramPort",)) else "UNIX datagram"
    if _is(port, "twisted.internet.unix", ("Port",)):
        return "UNIX"
    return "TCP"


def _describe_port(port) -> str:
    kind = _port_kind(port)
    where = _safe(lambda: _address(port.getHost()), None)
    if where is None:
        where = str(getattr(port, "port", "?"))
    factory = getattr(port, "factory", None) or getattr(port, "protocol", None)
    tls = False
    if factory is not None and _is(factory, "twisted.protocols.tls", ("TLSMemoryBIOFactory",)):
        factory = getattr(factory, "wrappedFactory", factory)
        tls = True
    what = f"{'TLS over ' if tls else ''}{kind} port {where}"
    if factory is not None:
        what += f" serving {_factory_name(factory)}"
    return what


_PLAIN_FACTORIES = ("Factory", "ServerFactory", "ClientFactory", "DatagramProtocol")


def _factory_name(factory) -> str:
    """'Echo' for Factory.forProtocol(Echo); 'EchoFactory (Echo)' otherwise."""
    protocol = getattr(factory, "protocol", None)
    name = _name(factory)
    if isinstance(protocol, type):
        if name in _PLAIN_FACTORIES:
            return protocol.__name__
        return f"{name} ({protocol.__name__})"
    return name


def _port_finding(ctx: _Context, port) -> Finding:
    created, callers = ctx.created(port)
    resource = _describe_port(port)
    return Finding(
        kind="listening-port-open",
        resource=resource,
        state="listening",
        created=created,
        callers=callers,
        wait_for="the Deferred returned by port.stopListening()",
        fix=(
            "Stop the port and wait for it: self.addCleanup(port.stopListening) "
            "(Trial waits for a Deferred a cleanup returns)."
        ),
        message=(
            f"The {resource}, opened{_at(created)}, is still listening: "
            "the test never called stopListening()."
        ),
    )


def _connection_side(conn) -> str | None:
    if _is(conn, "twisted.internet.tcp", ("Server",)):
        return "server"
    if _is(conn, "twisted.internet.tcp", ("BaseClient",)):
        return "client"
    return None


def _connection_finding(ctx: _Context, conn, side: str) -> Finding:
    protocol, tls = _unwrap_protocol(getattr(conn, "protocol", None))
    proto = _name(protocol) if protocol is not None else "no protocol"
    unix = _is(conn, "twisted.internet.unix", ("Server", "Client"))
    kind_word = ("TLS over " if tls else "") + ("UNIX" if unix else "TCP")
    local = _safe(lambda: _address(conn.getHost()))
    peer = _safe(lambda: _address(conn.getPeer()))
    closing = bool(getattr(conn, "disconnecting", False))
    wrapper = getattr(conn, "protocol", None)
    closed = ctx.closed(conn, wrapper, protocol)
    if side == "server":
        port = getattr(conn, "server", None)
        created, callers = ctx.created(conn, port)
        if port is not None and getattr(port, "connected", False):
            port_text = _describe_port(port)
        else:
            # The port has stopped; the server end still knows its address.
            port_text = f"the {'UNIX' if unix else 'TCP'} port {local} (since stopped)"
        resource = f"server end of a {kind_word} connection {local} <- {peer} ({proto}), accepted by {port_text}"
        lost = f"the server protocol's connectionLost ({proto}.connectionLost)"
        why = (
            "The server end closes only after it reads the client's close, "
            f"so {lost} has not run yet."
        )
        fix = (
            f"Fire a Deferred from {proto}.connectionLost on the server side and "
            "wait for it as well as for the client and the port (all three). "
            "trial_strictclean.testing.connected_pair() does this in one call."
        )
    else:
        created, callers = ctx.created(conn, getattr(conn, "connector", None))
        resource = f"client end of a {kind_word} connection {local} -> {peer} ({proto})"
        lost = f"the client protocol's connectionLost ({proto}.connectionLost)"
        why = f"{lost[0].upper()}{lost[1:]} has not run yet."
        fix = (
            f"Fire a Deferred from {proto}.connectionLost and return it from the "
            "test or a cleanup; trial_strictclean.testing.connect() does this."
        )
    if closing:
        state = "closing"
        ask = f"asked to close{_at(closed)}" if closed else "asked to close"
        message = (
            f"The {resource} was {ask}, but the test did not wait for the close "
            f"to finish. {why}"
        )
        if side == "client":
            fix = "loseConnection() only starts the close. " + fix
    else:
        state = "open"
        message = f"The {resource} is still open. {why}"
        if side == "client":
            fix = "Close it with transport.loseConnection(), then wait: " + fix
    return Finding(
        kind=f"connection-{state}",
        side=side,
        resource=resource,
        state=state,
        created=created,
        closed=closed,
        callers=callers,
        wait_for=lost,
        fix=fix,
        message=message,
    )


def _connector_finding(ctx: _Context, client) -> Finding:
    connector = getattr(client, "connector", None)
    created, callers = ctx.created(connector, client)
    peer = _safe(lambda: _address(connector.getDestination()), "?")
    factory = getattr(connector, "factory", None)
    resource = f"connection attempt to {peer}" + (f" by {_factory_name(factory)}" if factory is not None else "")
    closed = ctx.closed(connector, client)
    return Finding(
        kind="connector-connecting",
        resource=resource,
        state="connecting",
        created=created,
        closed=closed,
        callers=callers,
        wait_for="the factory's clientConnectionFailed or the protocol's connectionMade",
        fix=(
            "Wait for the attempt to finish, or stop it in a cleanup with "
            "connector.disconnect() and wait for clientConnectionFailed."
        ),
        message=(
            f"The {resource}, started{_at(created)}, had not connected or failed "
            "when the test ended."
        ),
    )


def _process_finding(ctx: _Context, proc) -> Finding:
    created, callers = ctx.created(proc)
    protocol = getattr(proc, "proto", None)
    proto = _name(protocol) if protocol is not None else "its ProcessProtocol"
    pid = getattr(proc, "pid", None)
    argv = getattr(proc, "_strictclean_argv", None)
    resource = f"child process {pid}" + (f" ({argv})" if argv else "") + f" with {proto}"
    closed = ctx.closed(proc)
    return Finding(
        kind="process-running",
        resource=resource,
        state="running" if pid is not None else "exited, not reaped",
        created=created,
        closed=closed,
        callers=callers,
        wait_for=f"{proto}.processEnded",
        fix=(
            f"End the process (transport.signalProcess('TERM')) and wait for "
            f"{proto}.processEnded: fire a Deferred there and return it."
        ),
        message=(
            f"The {resource}, spawned{_at(created)}, had not ended when the test "
            f"ended: {proto}.processEnded has not run."
        ),
    )


def _selectable_finding(ctx: _Context, obj, reading: bool, writing: bool) -> Finding:
    created, callers = ctx.created(obj)
    kind = "reader" if reading else "writer"
    how = " and ".join(w for w, on in (("reading", reading), ("writing", writing)) if on)
    fileno = _safe(lambda: obj.fileno(), "?")
    resource = f"{_name(obj)} (file descriptor {fileno})"
    return Finding(
        kind=kind,
        resource=resource,
        state=f"registered for {how}",
        created=created,
        callers=callers,
        closed=ctx.closed(obj),
        wait_for=None,
        fix=(
            f"Remove it in a cleanup: reactor.remove{'Reader' if reading else 'Writer'}(...) "
            "and close its file descriptor, or call its loseConnection() and wait "
            "for connectionLost."
        ),
        message=f"The {resource}{', created' + _at(created) if created else ''} is still registered with the reactor for {how}.",
    )


# --- delayed calls -------------------------------------------------------


def _call_finding(ctx: _Context, call) -> tuple[Finding, object | None]:
    """A finding for one delayed call, and the object it belongs to (if any)."""
    func, args, kw = call.func, call.args, call.kw
    owner = getattr(func, "__self__", None)
    qualname = getattr(func, "__qualname__", "") or ""
    remaining = _safe(lambda: call.getTime() - ctx.reactor.seconds(), None)
    due = f"due in {remaining:.2f}s" if isinstance(remaining, float) else "pending"
    created, callers = ctx.created(call)

    if _is(func, "twisted.internet.task", ("LoopingCall",)):
        owner = func  # LoopingCall schedules itself: the call's func is the loop
        created, callers = ctx.created(call, owner)
        what = describe_callable(owner.f, owner.a, owner.kw)
        interval = getattr(owner, "interval", None)
        resource = f"LoopingCall of {what}" + (f" every {interval}s" if interval is not None else "")
        return Finding(
            kind="looping-call",
            resource=resource,
            state=f"running, next call {due}",
            created=created,
            callers=callers,
            wait_for="the Deferred returned by LoopingCall.start(), which fires after stop()",
            fix="Stop it when the test ends: self.addCleanup(loop.stop).",
            message=f"The {resource}, started{_at(created)}, was never stopped.",
        ), owner

    if qualname.endswith("TimeoutMixin.__timedOut") or qualname.endswith("TimeoutMixin._TimeoutMixin__timedOut"):
        proto = _name(owner)
        return Finding(
            kind="protocol-timeout",
            resource=f"{proto} timeout (TimeoutMixin.setTimeout)",
            state=f"pending, {due}",
            created=created,
            callers=callers,
            wait_for=f"{proto}.connectionLost, which cancels the timeout",
            fix=(
                "Close the connection and wait for connectionLost, or call "
                "setTimeout(None) on the protocol before the test ends."
            ),
            message=(
                f"The {proto} protocol's idle timeout is still pending because its "
                "connection is still open."
            ),
        ), owner

    if "addTimeout" in qualname and "timeItOut" in qualname:
        return Finding(
            kind="deferred-timeout",
            resource="a Deferred with addTimeout() that never fired",
            state=f"pending, {due}",
            created=created,
            callers=callers,
            wait_for="the Deferred given addTimeout()",
            fix="Wait for that Deferred (return it from the test), or cancel it in a cleanup.",
            message=(
                f"A Deferred given addTimeout(){_at(created)} had not fired when the "
                "test ended, so its timeout is still pending."
            ),
        ), None

    if _is(owner, "twisted.internet.defer", ("Deferred",)) and getattr(func, "__name__", "") == "callback":
        for port in list(closing_ports):
            if getattr(port, "deferred", None) is owner:
                return _closing_port_finding(ctx, port, due), port
        canceller = getattr(owner, "_canceller", None)
        if "deferLater" in (getattr(canceller, "__qualname__", "") or ""):
            return Finding(
                kind="defer-later",
                resource="the Deferred of task.deferLater()",
                state=f"pending, {due}",
                created=created,
                callers=callers,
                wait_for="the Deferred returned by task.deferLater()",
                fix=(
                    "Return that Deferred from the test (or await it), or cancel it "
                    "in a cleanup: self.addCleanup(d.cancel)."
                ),
                message=(
                    f"task.deferLater() was called{_at(created)} but the test did not "
                    "wait for the Deferred it returned."
                ),
            ), None

    if _is(owner, "twisted.internet.udp", ("Port",)) and getattr(func, "__name__", "") == "connectionLost":
        return _closing_port_finding(ctx, owner, due), owner

    if _is(owner, "twisted.internet.tcp", ("BaseClient",)) and getattr(func, "__name__", "") in (
        "failIfNotConnected",
        "resolveAddress",
    ):
        return _connector_finding(ctx, owner), owner

    what = describe_callable(func, args, kw)
    return Finding(
        kind="delayed-call",
        resource=f"reactor.callLater(..., {what})",
        state=f"pending, {due}",
        created=created,
        callers=callers,
        wait_for=None,
        fix=(
            "Keep the DelayedCall that callLater returns and cancel it in a "
            "cleanup (self.addCleanup(call.cancel)); if the test needs it to run, "
            "drive time with twisted.internet.task.Clock instead."
        ),
        message=f"A delayed call to {what}, scheduled{_at(created)}, is still pending ({due}).",
    ), None


def _closing_port_finding(ctx: _Context, port, due: str) -> Finding:
    created, callers = ctx.created(port)
    closed = ctx.closed(port)
    resource = _describe_port(port)
    return Finding(
        kind="listening-port-closing",
        resource=resource,
        state="closing",
        created=created,
        closed=closed,
        callers=callers,
        wait_for=f"the Deferred returned by stopListening(){_at(closed)}",
        fix=(
            "Return that Deferred (return port.stopListening() in tearDown), or "
            "register it as a cleanup: self.addCleanup(port.stopListening)."
        ),
        message=(
            f"stopListening() was called on the {resource}{_at(closed)}, but the "
            "test did not wait for the Deferred it returned: the port was still "
            "closing."
        ),
    )


def _thread_finding(ctx: _Context, work) -> Finding:
    created = provenance.sites(getattr(work, provenance.CREATED, None), ctx.root)
    what = describe_callable(work.func)
    return Finding(
        kind="thread-work",
        resource=f"{what} on the reactor's thread pool",
        state="running or queued",
        created=created[0] if created else None,
        callers=created[1:],
        wait_for="the Deferred returned by deferToThread()",
        fix=(
            "Return or await the Deferred from deferToThread(); for callInThread(), "
            "report completion with reactor.callFromThread and wait on that."
        ),
        message=f"{what}, sent to a thread{_at(created[0] if created else None)}, had not finished when the test ended.",
    )


# --- putting it together -------------------------------------------------

_ORDER = {
    "listening-port-open": 0,
    "listening-port-closing": 0,
    "connection-open": 1,
    "connection-closing": 1,
    "connector-connecting": 2,
    "protocol-timeout": 3,
    "process-running": 4,
}


def _fallback(kind: str, obj, error: Exception) -> Finding:
    resource = _safe(lambda: _repr.repr(obj), f"a {type(obj).__name__}")
    return Finding(
        kind=kind,
        resource=resource,
        state="unknown",
        message=(
            f"{resource} was left in the reactor. (trial-strictclean could not "
            f"describe it further: {type(error).__name__}: {error})"
        ),
    )


def diagnose(reactor, leftovers: Leftovers, root: str = "") -> tuple[list[Finding], list]:
    """
    Findings for a test's leftovers, related ones grouped, and the ports whose
    sockets the clean-up must close itself (their pending close is cancelled).
    """
    ctx = _Context(reactor, root)
    findings: list[tuple[Finding, object]] = []
    sockets = []
    process_pipes = {}
    seen = set()

    def add(make, kind, obj, anchor):
        try:
            finding = make()
        except Exception as error:  # an odd object must not lose the verdict
            finding = _fallback(kind, obj, error)
        findings.append((finding, anchor))

    for proc in leftovers.processes:
        process_pipes[id(proc)] = proc
        add(lambda: _process_finding(ctx, proc), "process-running", proc, proc)

    readers = {id(x) for x in leftovers.readers}
    writers = {id(x) for x in leftovers.writers}
    for obj in (*leftovers.readers, *leftovers.writers):
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        proc = getattr(obj, "proc", None)
        if proc is not None and _is(obj, "twisted.internet.process", ("ProcessReader", "ProcessWriter")):
            # One finding per process, not one per pipe.
            if id(proc) not in process_pipes:
                process_pipes[id(proc)] = proc
                add(lambda: _process_finding(ctx, proc), "process-running", proc, proc)
            continue
        if _is(obj, "twisted.internet.process", ("PTYProcess",)):
            if id(obj) not in process_pipes:
                process_pipes[id(obj)] = obj
                add(lambda: _process_finding(ctx, obj), "process-running", obj, obj)
            continue
        if _is(obj, "twisted.internet.base", ("BasePort",)):
            add(lambda: _port_finding(ctx, obj), "listening-port-open", obj, obj)
            continue
        side = _connection_side(obj)
        if side == "client" and not getattr(obj, "connected", True):
            add(lambda: _connector_finding(ctx, obj), "connector-connecting", obj, obj)
            continue
        if side is not None:
            add(lambda: _connection_finding(ctx, obj, side), f"connection-open", obj, obj)
            continue
        reading, writing = id(obj) in readers, id(obj) in writers
        add(lambda: _selectable_finding(ctx, obj, reading, writing), "reader" if reading else "writer", obj, obj)

    anchors_seen = {id(a) for _, a in findings if a is not None}
    for call in leftovers.calls:
        try:
            finding, owner = _call_finding(ctx, call)
        except Exception as error:
            findings.append((_fallback("delayed-call", call, error), None))
            continue
        if finding.kind == "listening-port-closing":
            sockets.append(owner)
        if finding.kind == "connector-connecting" and id(owner) in anchors_seen:
            continue  # the connection attempt is already reported
        findings.append((finding, owner))

    for work in leftovers.threads:
        add(lambda: _thread_finding(ctx, work), "thread-work", work, None)

    return _grouped(findings), sockets


def _group_key(anchor) -> object:
    """The listening port a resource belongs to, or the resource itself."""
    if anchor is None:
        return None
    server = getattr(anchor, "server", None)
    if server is not None and _is(anchor, "twisted.internet.tcp", ("Server",)):
        return id(server)
    return id(anchor)


def _grouped(findings: list[tuple[Finding, object]]) -> list[Finding]:
    # A port, the server ends it accepted and the client ends connected to
    # it are one story: number them as one group and keep them together.
    groups: dict[object, int] = {}
    hosts: dict[str, object] = {}
    for finding, anchor in findings:
        if anchor is not None and _is(anchor, "twisted.internet.base", ("BasePort",)):
            where = _safe(lambda: _address(anchor.getHost()), None)
            if where:
                hosts[where] = id(anchor)
        if anchor is not None and _is(anchor, "twisted.internet.tcp", ("Server",)):
            where = _safe(lambda: _address(anchor.getPeer()), None)
            if where:
                hosts["peer:" + where] = _group_key(anchor)
    result = []
    for index, (finding, anchor) in enumerate(findings):
        key = _group_key(anchor)
        if anchor is not None and _is(anchor, "twisted.internet.tcp", ("BaseClient",)):
            key = hosts.get("peer:" + _safe(lambda: _address(anchor.getHost()), ""), key)
            key = hosts.get(_safe(lambda: _address(anchor.getPeer()), ""), key)
        if anchor is not None and _is(anchor, "twisted.internet.tcp", ("Server",)):
            pass
        if key is None:
            key = ("alone", index)
        group = groups.setdefault(key, len(groups) + 1)
        result.append(replace(finding, group=group))
    result.sort(key=lambda f: (f.group, _ORDER.get(f.kind, 5), 0 if f.side != "client" else 1))
    return result
