"""
One group per root cause: findings that one mistake explains share a group
number, and the group gets one fix.

- A listening port, the server ends it accepted and the client ends
  connected to it.
- A connection kept by an ``HTTPConnectionPool``: both ends, their
  timeouts, the pool's timer for the idle connection.
- A protocol's timeout, with the connection it is on.
- Identical findings (same kind, same creation site): one line of code that
  ran many times.
"""

from __future__ import annotations

from ..findings import Finding, replace
from .common import Context, address, is_a, phrase, safe, unwrap_protocol, when_done
from .naming import line_name, name_for, source_line


def _pool_of(obj):
    """The HTTPConnectionPool an object belongs to, if any."""
    owner = safe(lambda: obj.func.__self__, None)
    if owner is not None and is_a(owner, "twisted.web.client", ("HTTPConnectionPool",)):
        return owner
    return None


def _anchor_of(anchor, subject):
    """What a finding hangs on: for a pool's timer, the pooled connection."""
    pool = _pool_of(subject)
    if pool is not None:
        protocol = safe(lambda: subject.args[1], None)
        return safe(lambda: protocol.transport, None) or anchor
    return anchor


def _is_pooled(conn) -> bool:
    protocol, _ = unwrap_protocol(safe(lambda: conn.protocol, None))
    return is_a(protocol, "twisted.web._newclient", ("HTTP11ClientProtocol",))


class _Union:
    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, key):
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, a, b) -> None:
        self.parent[self.find(a)] = self.find(b)


def group(findings: list[tuple[Finding, object, object]], order: dict, ctx: Context) -> list[tuple[Finding, object]]:
    """
    ``(finding, anchor, subject)`` triples, numbered by group (one root
    cause each), kept together, each group's fix made one fix.
    """
    union = _Union()
    keys = []
    ports: dict[str, int] = {}
    peers: dict[str, int] = {}
    anchors = []
    for index, (finding, anchor, subject) in enumerate(findings):
        anchor = _anchor_of(anchor, subject)
        anchors.append(anchor)
        key = ("alone", index) if anchor is None else id(anchor)
        keys.append(key)
        union.find(key)
        if anchor is None:
            continue
        if is_a(anchor, "twisted.internet.base", ("BasePort",)):
            where = safe(lambda: address(anchor.getHost()), None)
            if where:
                ports[where] = key
        if is_a(anchor, "twisted.internet.tcp", ("Server",)):
            server = safe(lambda: anchor.server, None)
            if server is not None:
                union.join(key, id(server))
            where = safe(lambda: address(anchor.getPeer()), None)
            if where:
                peers[where] = key
    for key, anchor in zip(keys, anchors):
        if anchor is not None and is_a(anchor, "twisted.internet.tcp", ("BaseClient",)):
            for table, where in ((peers, safe(lambda: address(anchor.getHost()), "")),
                                 (ports, safe(lambda: address(anchor.getPeer()), ""))):
                if where in table:
                    union.join(key, table[where])
    # One line of code that ran many times is one mistake.
    same: dict[tuple, object] = {}
    for key, (finding, _, _) in zip(keys, findings):
        if finding.created is not None:
            site = (finding.kind, finding.side, finding.created, finding.callers)
            union.join(key, same.setdefault(site, key))

    numbers: dict = {}
    members: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        number = numbers.setdefault(union.find(key), len(numbers) + 1)
        members.setdefault(number, []).append(index)
    result = []
    for number, indexes in members.items():
        parts = [findings[i] for i in indexes]
        # The port's line leads: for a pooled connection the client end
        # often has no line of the test's code (the pool made it).
        parts.sort(key=lambda t: (order.get(t[0].kind, 5), 0 if t[0].side != "client" else 1))
        fix = group_fix([f for f, _, _ in parts], [anchors[i] for i in indexes], [s for _, _, s in parts], ctx)
        for finding, _, subject in parts:
            result.append((replace(finding, group=number, fix=fix), subject))
    return result


def group_fix(findings: list[Finding], anchors: list, subjects: list, ctx: Context) -> str | None:
    """One fix for a group: the root cause's, said once."""
    root = ctx.root
    lead = findings[0]
    if len({(f.kind, f.side) for f in findings}) == 1:
        return lead.fix
    pools = [p for p in map(_pool_of, subjects) if p is not None]
    pooled = any(a is not None and _is_pooled(a) for a in anchors)
    if pools or pooled:
        pool = name_for(pools[0], "pool") if pools else "pool"
        return (
            "These are one connection that an HTTPConnectionPool keeps open for "
            "reuse (persistent=True). Close the pool's connections when the test "
            f"ends and wait for them: {when_done(ctx, f'{pool}.closeCachedConnections', waits=True)}. "
            "Its Deferred fires once they are closed; the timeouts go with the "
            "connection."
        )
    ends = [f for f in findings if f.side in ("client", "server")]
    if not ends:
        return lead.fix
    steps = []
    port = next((f for f in findings if f.kind == "listening-port-open"), None)
    if port is not None:
        steps.append(f"stop the port ({line_name(port.created, root) or 'port'}.stopListening())")
    client = next((f for f in findings if f.side == "client" and f.kind == "connection-open"), None)
    if client is not None:
        steps.append(f"close the client end ({_client_close(client, root)})")
    waits = []
    if any(f.kind.startswith("listening-port") for f in findings):
        waits.append("the Deferred stopListening() returns")
    waits += [f.wait_for for f in ends if f.wait_for]
    do = (", ".join(steps) + ", then wait") if steps else "Wait"
    text = f"{do[:1].upper()}{do[1:]} for all of them: {'; '.join(waits)}."
    if any(f.kind == "protocol-timeout" for f in findings):
        text += " The protocol's timeout goes when its connection closes."
    return (
        f"{text} {phrase(ctx, 'order')}. {phrase(ctx, 'pair helper')}"
    )


def _client_close(client: Finding, root: str) -> str:
    """How the test closes a client end, in the words of its creation line."""
    line = source_line(client.created, root)
    if "connectProtocol(" in line:
        name = line_name(client.created, root) or "protocol"
        return (
            f"{name}.transport.loseConnection(), {name} being the protocol that "
            "connectProtocol's Deferred fires with"
        )
    return "transport.loseConnection()"
