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


def attribute_name(obj) -> str | None:
    """``self.name`` when a test case keeps ``obj`` as an attribute."""
    try:
        referrers = gc.get_referrers(obj)
    except Exception:
        return None
    for holder in referrers:
        if not isinstance(holder, dict):
            continue
        for key, value in list(holder.items()):
            if value is not obj or not isinstance(key, str) or not key.isidentifier():
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
    """The user's expression for ``obj``: an attribute, the creation line's name, or ``fallback``."""
    try:
        return attribute_name(obj) or line_name(site, root, method) or fallback
    except Exception:
        return fallback
