"""
Naming things as the user's code does: ``self.heartbeat`` for an object a
test keeps on itself, the name a creation line assigns, or a neutral name
when there is none.
"""

from __future__ import annotations

import gc
import linecache
import os
import re

from ..findings import Site

# "self.heartbeat = task.LoopingCall(...)", "port = reactor.listenTCP(...)"
_ASSIGNED = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(?::[^=]+)?=(?!=)\s*")
# "self.heartbeat.start(60)", "yield self.loop.start(1)"
_CALLED_ON = re.compile(r"^\s*(?:return\s+|yield\s+|await\s+|\w+\s*=\s*)?([A-Za-z_][\w.]*)\.(\w+)\(")


def _key_of(namespace: dict, obj) -> str | None:
    for key, value in list(namespace.items()):
        if value is obj and isinstance(key, str) and key.isidentifier():
            return key
    return None


def attribute_name(obj) -> str | None:
    """``self.name`` when a test case keeps ``obj`` as an attribute."""
    try:
        referrers = gc.get_referrers(obj)
    except Exception:
        return None
    for holder in referrers:
        # Python 3.11+ keeps an instance's attributes inline until its
        # __dict__ is asked for: the referrer is then the instance itself.
        if hasattr(holder, "addCleanup") and isinstance(getattr(holder, "__dict__", None), dict):
            key = _key_of(vars(holder), obj)
            if key:
                return f"self.{key}"
        elif isinstance(holder, dict):
            key = _key_of(holder, obj)
            if key is None:
                continue
            for owner in gc.get_referrers(holder):
                if getattr(owner, "__dict__", None) is holder and hasattr(owner, "addCleanup"):
                    return f"self.{key}"
    return None


def source_line(site: Site | None, root: str = "") -> str:
    if site is None:
        return ""
    path = site.file if os.path.isabs(site.file) else os.path.join(root, site.file)
    return linecache.getline(path, site.line) or site.code or ""


def line_name(site: Site | None, root: str = "", method: str | None = None) -> str | None:
    """The name the creation line gives the object, or calls ``method`` on."""
    line = source_line(site, root)
    if method is not None:
        match = _CALLED_ON.match(line)
        if match and match.group(2) == method:
            return match.group(1)
    match = _ASSIGNED.match(line)
    if match and match.group(1) not in ("_",):
        return match.group(1)
    return None


def name_for(obj, fallback: str, site: Site | None = None, root: str = "", method: str | None = None) -> str:
    """The user's expression for ``obj``: the creation line's name, an attribute, or ``fallback``."""
    # The line first: reading it is cheap, while looking for an attribute
    # walks every object the garbage collector tracks.
    try:
        return line_name(site, root, method) or attribute_name(obj) or fallback
    except Exception:
        return fallback
