"""
What every part of diagnosis shares: reading odd objects safely, naming
things as the user wrote them, and building a finding whose message stands
alone.
"""

from __future__ import annotations

import reprlib

from .. import provenance
from ..findings import Finding, Site

short_repr = reprlib.Repr()
short_repr.maxstring = 40
short_repr.maxother = 40
short_repr.maxlevel = 2


def is_a(obj, module: str, names: tuple[str, ...]) -> bool:
    """isinstance by qualified name, without importing optional modules."""
    for cls in type(obj).__mro__:
        if cls.__module__ == module and cls.__name__ in names:
            return True
    return False


def type_name(obj) -> str:
    return type(obj).__name__


def unwrap_protocol(protocol):
    # TLS and policy wrappers sit between the transport and the user's
    # protocol; the user knows the inner one.
    seen = 0
    tls = False
    while protocol is not None and seen < 5:
        if is_a(protocol, "twisted.protocols.tls", ("TLSMemoryBIOProtocol",)):
            tls = True
        inner = _INNER.get(type(protocol).__name__, "wrappedProtocol")
        if not hasattr(protocol, inner):
            break
        protocol = getattr(protocol, inner)
        seen += 1
    return protocol, tls


# Twisted's own private wrappers and where they keep the protocol the user
# knows: an endpoint's connectProtocol, and twisted.web's server channel.
_INNER = {"_WrappingProtocol": "_wrappedProtocol", "_GenericHTTPChannelProtocol": "_channel"}


def address(addr) -> str:
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


def safe(call, default="?"):
    try:
        return call()
    except Exception:
        return default


def describe_callable(func, args=(), kw=None) -> str:
    """``Echo.timeout(1, 'x')``: a call as the user would have written it."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if name is None:
        name = short_repr.repr(func)
    parts = [short_repr.repr(a) for a in args]
    parts += [f"{k}={short_repr.repr(v)}" for k, v in (kw or {}).items()]
    return f"{name}({', '.join(parts)})"


def when_done(ctx: "Context", call: str, *args: str, waits: bool = False, resource: str | None = None) -> str:
    """
    How a test has ``call(*args)`` run as it ends, in its runner's idiom:
    ``self.addCleanup(port.stopListening)`` for Trial; for pytest-twisted
    (no ``self``), a fixture that yields the resource and, after the
    ``yield``, makes the call (awaiting it when ``waits``).  Every fix says
    it through here, so each runner reads its own idiom everywhere.
    """
    if ctx.runner != "pytest":
        cleanup = f"self.addCleanup({', '.join((call, *args))})"
        return cleanup + (" (Trial waits for the Deferred it returns)" if waits else "")
    if resource is None:
        resource = call.rsplit(".", 1)[0] if "." in call else "it"
    run = f"{call}({', '.join(args)})"
    if waits:
        return (
            f"a fixture (@pytest_twisted.async_yield_fixture) that does "
            f"yield {resource}, then await {run}"
        )
    return f"a fixture that does yield {resource}, then {run}"


# What a fix says about cleanups besides the call itself, per runner.
_PHRASES = {
    "trial": {
        # Closing several things and waiting for each.
        "order": (
            "As cleanups: register the waits first and the closes last, since "
            "Trial runs cleanups last in, first out"
        ),
        # Closing one thing and waiting for it.
        "close then wait": (
            "Register the cleanup that waits before the one that closes: Trial "
            "runs cleanups last in, first out."
        ),
        "pair helper": (
            "trial_strictclean.testing.connected_pair(self, server_factory, "
            "client_factory) sets up such a pair with those cleanups."
        ),
        # Where the test stops something and waits for it, and how it waits.
        "in a cleanup": "in a cleanup",
        "return it": "return it from the cleanup",
    },
    "pytest": {
        "order": "In a fixture's teardown (after its yield): first the closes, then the waits",
        "close then wait": "In a fixture's teardown, close first, then await it.",
        "pair helper": (
            "trial_strictclean.testing.wait_for_disconnect(protocol) gives a "
            "Deferred to await for each end."
        ),
        "in a cleanup": "in a fixture's teardown (after its yield)",
        "return it": "await it in the fixture's teardown",
    },
}


def phrase(ctx: "Context", name: str) -> str:
    """A sentence about cleanups (``_PHRASES``) in the runner's idiom."""
    return _PHRASES["pytest" if ctx.runner == "pytest" else "trial"][name]


class Context:
    """What diagnosing one test needs to know besides its leftovers."""

    def __init__(self, reactor, root: str, runner: str = "trial") -> None:
        self.reactor = reactor
        self.root = root
        # Whose idiom the advice speaks: "trial" (self.addCleanup) or
        # "pytest" (a fixture's teardown).
        self.runner = runner

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


def make_finding(kind: str, resource: str, detail: str, created: Site | None, closed: Site | None = None, **fields) -> Finding:
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


def fallback(kind: str, obj, error: Exception) -> Finding:
    resource = safe(lambda: short_repr.repr(obj), f"a {type(obj).__name__}")
    detail = (
        "Left in the reactor. (trial-strictclean could not describe it "
        f"further: {type(error).__name__}: {safe(lambda: str(error), '')})"
    )
    return Finding(
        kind=kind,
        resource=resource,
        state="unknown",
        detail=detail,
        message=f"{resource}: {detail}",
    )

