"""
Selectables: listening ports, connection ends (client and server),
connection attempts, and anything else registered with the reactor.
"""

from __future__ import annotations

from ..findings import Finding
from .common import Context, address, is_a, make_finding, phrase, safe, type_name, unwrap_protocol, when_done
from .naming import name_for


def _port_kind(port) -> str:
    if is_a(port, "twisted.internet.unix", ("DatagramPort",)):
        return "UNIX datagram"
    if is_a(port, "twisted.internet.udp", ("Port",)):
        return "UDP"
    if is_a(port, "twisted.internet.unix", ("Port",)):
        return "UNIX"
    return "TCP"


def _port_address(port) -> str:
    where = safe(lambda: address(port.getHost()), None)
    return where if where is not None else str(getattr(port, "port", "?"))


def describe_port(port) -> str:
    factory = getattr(port, "factory", None) or getattr(port, "protocol", None)
    tls = False
    if factory is not None and is_a(factory, "twisted.protocols.tls", ("TLSMemoryBIOFactory",)):
        factory = getattr(factory, "wrappedFactory", factory)
        tls = True
    what = f"{'TLS over ' if tls else ''}{_port_kind(port)} port {_port_address(port)}"
    if factory is not None:
        what += f" serving {factory_name(factory)}"
    return what


_PLAIN_FACTORIES = ("Factory", "ServerFactory", "ClientFactory", "DatagramProtocol")


def factory_name(factory) -> str:
    """'Echo' for Factory.forProtocol(Echo); 'EchoFactory (Echo)' otherwise."""
    protocol = getattr(factory, "protocol", None)
    name = type_name(factory)
    if isinstance(protocol, type):
        if name in _PLAIN_FACTORIES:
            return protocol.__name__
        return f"{name} ({protocol.__name__})"
    return name


def port_finding(ctx: Context, port) -> Finding:
    created, callers = ctx.created(port)
    name = name_for(port, "port", created, ctx.root)
    return make_finding(
        "listening-port-open",
        describe_port(port),
        "Still listening: the test never called stopListening().",
        created,
        state="listening",
        callers=callers,
        wait_for="the Deferred returned by port.stopListening()",
        fix=(
            f"Stop the port and wait for it: {when_done(ctx, f'{name}.stopListening', waits=True)}."
        ),
    )


def closing_port_finding(ctx: Context, port, due: str) -> Finding:
    created, callers = ctx.created(port)
    name = name_for(port, "port", created, ctx.root)
    return make_finding(
        "listening-port-closing",
        describe_port(port),
        "stopListening() was called, but the test did not wait for the "
        "Deferred it returned, so the port had not finished closing.",
        created,
        ctx.closed(port),
        state="closing",
        callers=callers,
        wait_for="the Deferred returned by stopListening()",
        fix=(
            f"Return that Deferred (return {name}.stopListening()), or have it "
            f"run and waited for when the test ends: "
            f"{when_done(ctx, f'{name}.stopListening', waits=True)}."
        ),
    )


def connection_side(conn) -> str | None:
    if is_a(conn, "twisted.internet.tcp", ("Server",)):
        return "server"
    if is_a(conn, "twisted.internet.tcp", ("BaseClient",)):
        return "client"
    return None


def connection_finding(ctx: Context, conn, side: str) -> Finding:
    protocol, tls = unwrap_protocol(getattr(conn, "protocol", None))
    proto = type_name(protocol) if protocol is not None else "its protocol"
    unix = is_a(conn, "twisted.internet.unix", ("Server", "Client"))
    kind_word = ("TLS over " if tls else "") + ("UNIX" if unix else "TCP")
    local = safe(lambda: address(conn.getHost()))
    peer = safe(lambda: address(conn.getPeer()))
    closing = bool(getattr(conn, "disconnecting", False))
    closed = ctx.closed(conn, getattr(conn, "protocol", None), protocol)
    lost = f"{proto}.connectionLost"
    if side == "server":
        port = getattr(conn, "server", None)
        # The reactor accepted it: the user's line is the port's creation.
        created, callers = ctx.created(port)
        if port is not None and getattr(port, "connected", False):
            port_text = f"the {describe_port(port)}"
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
            + phrase(ctx, "pair helper")
        )
    else:
        created, callers = ctx.created(conn, getattr(conn, "connector", None))
        resource = f"client end of a {kind_word} connection {local} -> {peer} ({proto})"
        accepted = ""
        why = f"The client protocol's connectionLost ({lost}) has not run."
        fix = (
            f"Fire a Deferred from {lost} and wait for it (return it from the "
            f"test, or {phrase(ctx, 'return it')}); trial_strictclean.testing.wait_for_disconnect(protocol) "
            "gives one. " + phrase(ctx, "close then wait")
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
    return make_finding(
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


def connector_finding(ctx: Context, client, connector=None) -> Finding:
    if connector is None:
        connector = getattr(client, "connector", None)
    created, callers = ctx.created(connector, client)
    peer = safe(lambda: address(connector.getDestination()), "?")
    factory = getattr(connector, "factory", None)
    by = f" by {factory_name(factory)}" if factory is not None else ""
    return make_finding(
        "connector-connecting",
        f"connection attempt to {peer}{by}",
        "Neither connected nor failed when the test ended.",
        created,
        ctx.closed(connector, client),
        state="connecting",
        callers=callers,
        wait_for="the factory's clientConnectionFailed, or the protocol's connectionMade",
        fix=(
            f"Wait for the attempt to finish, or stop it {phrase(ctx, 'in a cleanup')} with "
            "connector.disconnect() and wait for clientConnectionFailed."
        ),
    )


def selectable_finding(ctx: Context, obj, reading: bool, writing: bool) -> Finding:
    created, callers = ctx.created(obj)
    kind = "reader" if reading else "writer"
    how = " and ".join(w for w, on in (("reading", reading), ("writing", writing)) if on)
    fileno = safe(lambda: obj.fileno(), "?")
    remove = " and ".join(
        f"reactor.remove{w}(it)" for w, on in (("Reader", reading), ("Writer", writing)) if on
    )
    return make_finding(
        kind,
        f"{type_name(obj)} (file descriptor {fileno})",
        f"Still registered with the reactor for {how}.",
        created,
        ctx.closed(obj),
        state=f"registered for {how}",
        callers=callers,
        fix=(
            f"Remove it {phrase(ctx, 'in a cleanup')} ({remove}) and close its file descriptor, "
            "or, for a transport, call loseConnection() and wait for connectionLost."
        ),
    )

