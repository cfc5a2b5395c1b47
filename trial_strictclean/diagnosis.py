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


def _finding(kind: str, resource: str, detail: str, created: Site | None, closed: Site | None = None, **fields) -> Finding:
    """
    A finding whose ``message`` stands alone (for JSON and JUnit readers)
    while ``detail`` says the same without repeating the resource, for the
    text block that already names it on the line above.
    """
    sites = []
    if created is not None:
        sites.append(f"created at {created.location()}")
    if closed is not None:
        sites.append(f"asked to close at {closed.location()}")
    where = f" ({', '.join(sites)})" if sites else ""
    # "Server end of ..." reads as a sentence; "reactor.callLater(...)" is
    # code and keeps its case.
    if resource.split(" ", 1)[0].isalpha():
        resource_text = resource[:1].upper() + resource[1:]
    else:
        resource_text = resource
    message = f"{resource_text}{where}: {detail}"
    return Finding(
        kind=kind, resource=resource, detail=detail, message=message,
        created=created, closed=closed, **fields,
    )


# --- selectables --------------------------------------------------------


def _port_kind(port) -> str:
    if _is(port, "twisted.internet.unix", ("DatagramPort",)):
        return "UNIX datagram"
    if _is(port, "twisted.internet.udp", ("Port",)):
        return "UDP"
    if _is(port, "twisted.internet.unix", ("Port",)):
        return "UNIX"
    return "TCP"


def _port_address(port) -> str:
    where = _safe(lambda: _address(port.getHost()), None)
    return where if where is not None else str(getattr(port, "port", "?"))


def _describe_port(port) -> str:
    factory = getattr(port, "factory", None) or getattr(port, "protocol", None)
    tls = False
    if factory is not None and _is(factory, "twisted.protocols.tls", ("TLSMemoryBIOFactory",)):
        factory = getattr(factory, "wrappedFactory", factory)
        tls = True
    what = f"{'TLS over ' if tls else ''}{_port_kind(port)} port {_port_address(port)}"
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


_STOP_PORT_FIX = (
    "Stop the port and wait for it: self.addCleanup(port.stopListening) "
    "(Trial waits for a Deferred that a cleanup returns)."
)


def _port_finding(ctx: _Context, port) -> Finding:
    created, callers = ctx.created(port)
    return _finding(
        "listening-port-open",
        _describe_port(port),
        "Still listening: the test never called stopListening().",
        created,
        state="listening",
        callers=callers,
        wait_for="the Deferred returned by port.stopListening()",
        fix=_STOP_PORT_FIX,
    )


def _closing_port_finding(ctx: _Context, port, due: str) -> Finding:
    created, callers = ctx.created(port)
    return _finding(
        "listening-port-closing",
        _describe_port(port),
        "stopListening() was called, but the test did not wait for the "
        "Deferred it returned, so the port had not finished closing.",
        created,
        ctx.closed(port),
        state="closing",
        callers=callers,
        wait_for="the Deferred returned by stopListening()",
        fix=(
            "Return that Deferred (return port.stopListening()), or register "
            "the call as a cleanup: self.addCleanup(port.stopListening)."
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
    proto = _name(protocol) if protocol is not None else "its protocol"
    unix = _is(conn, "twisted.internet.unix", ("Server", "Client"))
    kind_word = ("TLS over " if tls else "") + ("UNIX" if unix else "TCP")
    local = _safe(lambda: _address(conn.getHost()))
    peer = _safe(lambda: _address(conn.getPeer()))
    closing = bool(getattr(conn, "disconnecting", False))
    closed = ctx.closed(conn, getattr(conn, "protocol", None), protocol)
    lost = f"{proto}.connectionLost"
    if side == "server":
        port = getattr(conn, "server", None)
        # The reactor accepted it: the user's line is the port's creation.
        created, callers = ctx.created(port)
        if port is not None and getattr(port, "connected", False):
            port_text = f"the {_describe_port(port)}"
        else:
            port_text = f"the {'UNIX' if unix else 'TCP'} port {local}, since stopped"
        resource = f"server end of a {kind_word} connection {local} <- {peer} ({proto})"
        accepted = f"Accepted by {port_text} (created at the line below). "
        why = f"The server protocol's connectionLost ({lost}) has not run"
        if closing:
            why += "."
        else:
            why += ": a server end closes only once the client's close reaches it."
        fix = (
            f"Fire a Deferred from {lost} on the server side and wait for it "
            "too: the port, the client end and the server end (all three). "
            "trial_strictclean.testing.connected_pair(self, server_factory, "
            "client_factory) sets up such a pair with those cleanups."
        )
    else:
        created, callers = ctx.created(conn, getattr(conn, "connector", None))
        resource = f"client end of a {kind_word} connection {local} -> {peer} ({proto})"
        accepted = ""
        why = f"The client protocol's connectionLost ({lost}) has not run."
        fix = (
            f"Fire a Deferred from {lost} and return it from the test or a "
            "cleanup; trial_strictclean.testing.wait_for_disconnect(protocol) "
            "gives one."
        )
    if closing:
        state = "closing"
        detail = f"{accepted}Asked to close, but the test did not wait for the close to finish. {why}"
        fix = "loseConnection() only starts the close. " + fix
    else:
        state = "open"
        detail = f"{accepted}Never closed. {why}"
        if side == "client":
            # A server end is closed by the client's close; what it lacks is
            # the wait, which the fix already says.
            fix = "Close it with transport.loseConnection(), then wait. " + fix
    return _finding(
        f"connection-{state}",
        resource,
        detail,
        created,
        closed,
        side=side,
        state=state,
        callers=callers,
        wait_for=f"the {'server' if side == 'server' else 'client'} protocol's connectionLost ({lost})",
        fix=fix,
    )


def _connector_finding(ctx: _Context, client, connector=None) -> Finding:
    if connector is None:
        connector = getattr(client, "connector", None)
    created, callers = ctx.created(connector, client)
    peer = _safe(lambda: _address(connector.getDestination()), "?")
    factory = getattr(connector, "factory", None)
    by = f" by {_factory_name(factory)}" if factory is not None else ""
    return _finding(
        "connector-connecting",
        f"connection attempt to {peer}{by}",
        "Neither connected nor failed when the test ended.",
        created,
        ctx.closed(connector, client),
        state="connecting",
        callers=callers,
        wait_for="the factory's clientConnectionFailed, or the protocol's connectionMade",
        fix=(
            "Wait for the attempt to finish, or stop it in a cleanup with "
            "connector.disconnect() and wait for clientConnectionFailed."
        ),
    )


def _process_finding(ctx: _Context, proc) -> Finding:
    created, callers = ctx.created(proc)
    protocol = getattr(proc, "proto", None)
    proto = _name(protocol) if protocol is not None else "its ProcessProtocol"
    pid = getattr(proc, "pid", None)
    return _finding(
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


def _selectable_finding(ctx: _Context, obj, reading: bool, writing: bool) -> Finding:
    created, callers = ctx.created(obj)
    kind = "reader" if reading else "writer"
    how = " and ".join(w for w, on in (("reading", reading), ("writing", writing)) if on)
    fileno = _safe(lambda: obj.fileno(), "?")
    remove = " and ".join(
        f"reactor.remove{w}(it)" for w, on in (("Reader", reading), ("Writer", writing)) if on
    )
    return _finding(
        kind,
        f"{_name(obj)} (file descriptor {fileno})",
        f"Still registered with the reactor for {how}.",
        created,
        ctx.closed(obj),
        state=f"registered for {how}",
        callers=callers,
        fix=(
            f"Remove it in a cleanup ({remove}) and close its file descriptor, "
            "or, for a transport, call loseConnection() and wait for connectionLost."
        ),
    )


# --- delayed calls -------------------------------------------------------


def _delayed_target(call):
    """The function, arguments and owner a DelayedCall will run."""
    func, args, kw = call.func, call.args, call.kw
    return func, args, kw, getattr(func, "__self__", None)


def _call_finding(ctx: _Context, call) -> tuple[Finding, object | None]:
    """A finding for one delayed call, and the object it belongs to (if any)."""
    func, args, kw, owner = _delayed_target(call)
    qualname = getattr(func, "__qualname__", "") or ""
    name = getattr(func, "__name__", "") or ""
    remaining = _safe(lambda: call.getTime() - ctx.reactor.seconds(), None)
    due = f"due in {remaining:.2f}s" if isinstance(remaining, float) else "pending"
    created, callers = ctx.created(call)

    if _is(func, "twisted.internet.task", ("LoopingCall",)):
        loop = func  # LoopingCall schedules itself: the call's func is the loop
        created, callers = ctx.created(loop, call)
        interval = getattr(loop, "interval", None)
        every = f" every {interval}s" if interval is not None else ""
        return _finding(
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
        proto = _name(owner)
        return _finding(
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
        return _finding(
            "deferred-timeout",
            f"timeout of a Deferred given addTimeout() ({due})",
            "The Deferred never fired, so its timeout is still pending.",
            created,
            state=f"pending, {due}",
            callers=callers,
            wait_for="the Deferred given addTimeout()",
            fix="Return that Deferred from the test, or cancel it in a cleanup: self.addCleanup(d.cancel).",
        ), None

    if _is(owner, "twisted.internet.defer", ("Deferred",)) and name == "callback":
        for port in list(closing_ports):
            if getattr(port, "deferred", None) is owner:
                return _closing_port_finding(ctx, port, due), port
        canceller = getattr(owner, "_canceller", None)
        if "deferLater" in (getattr(canceller, "__qualname__", "") or ""):
            return _finding(
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

    if _is(owner, "twisted.internet.udp", ("Port",)) and name == "connectionLost":
        return _closing_port_finding(ctx, owner, due), owner

    if _is(owner, "twisted.internet.tcp", ("BaseClient",)) and name in (
        "failIfNotConnected",
        "resolveAddress",
    ):
        return _connector_finding(ctx, owner), getattr(owner, "connector", None) or owner

    if _is(owner, "twisted.internet.base", ("BaseConnector",)):
        # The connector's own time limit for the attempt.
        return _connector_finding(ctx, getattr(owner, "transport", None), owner), owner

    what = describe_callable(func, args, kw)
    return _finding(
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


def _thread_finding(ctx: _Context, work) -> Finding:
    created, callers = ctx.created(work)
    return _finding(
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
    detail = (
        "Left in the reactor. (trial-strictclean could not describe it "
        f"further: {type(error).__name__}: {_safe(lambda: str(error), '')})"
    )
    return Finding(
        kind=kind,
        resource=resource,
        state="unknown",
        detail=detail,
        message=f"{resource}: {detail}",
    )


def diagnose(reactor, leftovers: Leftovers, root: str = "") -> tuple[list[Finding], list]:
    """
    Findings for a test's leftovers, related ones grouped, and beside them,
    one for one, the object each finding is about (a delayed call, a
    selectable, a process, thread work), to tell what became of it.
    """
    ctx = _Context(reactor, root)
    # (finding, the resource it is grouped by, the object it is about)
    findings: list[tuple[Finding, object, object]] = []
    process_pipes = {}
    seen = set()

    def add(make, kind, obj, anchor):
        try:
            finding = make()
        except Exception as error:  # an odd object must not lose the verdict
            finding = _fallback(kind, obj, error)
        findings.append((finding, anchor, obj))

    for proc in leftovers.processes:
        process_pipes[id(proc)] = proc
        add(lambda: _process_finding(ctx, proc), "process-running", proc, proc)

    readers = {id(x) for x in leftovers.readers}
    writers = {id(x) for x in leftovers.writers}

    def selectable(obj) -> None:
        proc = _safe(lambda: getattr(obj, "proc", None), None)
        if proc is not None and _is(obj, "twisted.internet.process", ("ProcessReader", "ProcessWriter")):
            # One finding per process, not one per pipe.
            if id(proc) not in process_pipes:
                process_pipes[id(proc)] = proc
                add(lambda: _process_finding(ctx, proc), "process-running", proc, proc)
            return
        if _is(obj, "twisted.internet.process", ("PTYProcess",)):
            if id(obj) not in process_pipes:
                process_pipes[id(obj)] = obj
                add(lambda: _process_finding(ctx, obj), "process-running", obj, obj)
            return
        if _is(obj, "twisted.internet.base", ("BasePort",)):
            add(lambda: _port_finding(ctx, obj), "listening-port-open", obj, obj)
            return
        side = _connection_side(obj)
        if side == "client" and not getattr(obj, "connected", True):
            connector = getattr(obj, "connector", None) or obj
            add(lambda: _connector_finding(ctx, obj), "connector-connecting", obj, connector)
            return
        if side is not None:
            add(lambda: _connection_finding(ctx, obj, side), "connection-open", obj, obj)
            return
        reading, writing = id(obj) in readers, id(obj) in writers
        add(lambda: _selectable_finding(ctx, obj, reading, writing), "reader" if reading else "writer", obj, obj)

    for obj in (*leftovers.readers, *leftovers.writers):
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        try:
            selectable(obj)
        except Exception as error:
            findings.append((_fallback("reader" if id(obj) in readers else "writer", obj, error), None, obj))

    anchors_seen = {id(a) for _, a, _ in findings if a is not None}
    for call in leftovers.calls:
        try:
            finding, owner = _call_finding(ctx, call)
        except Exception as error:
            findings.append((_fallback("delayed-call", call, error), None, call))
            continue
        if finding.kind == "connector-connecting":
            if id(owner) in anchors_seen:
                continue  # the connection attempt is already reported
            anchors_seen.add(id(owner))
        findings.append((finding, owner, call))

    for work in leftovers.threads:
        add(lambda: _thread_finding(ctx, work), "thread-work", work, None)

    grouped = _grouped(findings)
    return [f for f, _ in grouped], [subject for _, subject in grouped]


def _group_key(anchor) -> object:
    """The listening port a resource belongs to, or the resource itself."""
    if anchor is None:
        return None
    server = _safe(lambda: getattr(anchor, "server", None), None)
    if server is not None and _is(anchor, "twisted.internet.tcp", ("Server",)):
        return id(server)
    return id(anchor)


def _grouped(findings: list[tuple[Finding, object, object]]) -> list[tuple[Finding, object]]:
    # A port, the server ends it accepted and the client ends connected to
    # it are one story: number them as one group and keep them together.
    groups: dict[object, int] = {}
    hosts: dict[str, object] = {}
    for finding, anchor, _ in findings:
        if anchor is not None and _is(anchor, "twisted.internet.base", ("BasePort",)):
            where = _safe(lambda: _address(anchor.getHost()), None)
            if where:
                hosts[where] = id(anchor)
        if anchor is not None and _is(anchor, "twisted.internet.tcp", ("Server",)):
            where = _safe(lambda: _address(anchor.getPeer()), None)
            if where:
                hosts["peer:" + where] = _group_key(anchor)
    result = []
    for index, (finding, anchor, subject) in enumerate(findings):
        key = _group_key(anchor)
        if anchor is not None and _is(anchor, "twisted.internet.tcp", ("BaseClient",)):
            key = hosts.get("peer:" + _safe(lambda: _address(anchor.getHost()), ""), key)
            key = hosts.get(_safe(lambda: _address(anchor.getPeer()), ""), key)
        if key is None:
            key = ("alone", index)
        group = groups.setdefault(key, len(groups) + 1)
        result.append((replace(finding, group=group), subject))
    result.sort(key=lambda pair: (pair[0].group, _ORDER.get(pair[0].kind, 5), 0 if pair[0].side != "client" else 1))
    return result
