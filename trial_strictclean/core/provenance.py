"""
Where a resource came from: captured cheaply when it is created or closed,
turned into readable sites only when a leftover is reported.

Capture runs on every ``callLater`` of the whole suite, so it walks a few
frames, keeps code objects and line numbers (never frames, which would keep
every local variable of the caller alive), formats nothing and reads no file.
"""

from __future__ import annotations

import importlib.util
import linecache
import os
import sys

from .findings import Site

# The attribute names we set on Twisted's objects.  Storing provenance on the
# object itself means it dies with the object: there is no registry to grow.
CREATED = "_strictclean_created"
CLOSED = "_strictclean_closed"

# User frames kept above the innermost one: the test that called a helper.
# Each one more costs about 0.2 µs per callLater on Python 3.11+, where
# reaching a caller's frame makes the interpreter build a frame object.
_CALLERS = 1
# How deep we look for a user frame at all; resources the reactor creates on
# its own (an accepted connection) have none, and we stop early for them.
_MAX_DEPTH = 40

# Twisted relies on these at run time; frames inside them are plumbing, not
# the user's code.
_TWISTED_DEPENDENCIES = (
    "zope.interface",
    "automat",
    "constantly",
    "incremental",
    "hyperlink",
    "attr",
    "typing_extensions",
    "OpenSSL",
    "service_identity",
    # Test runners' plumbing (found by name, never imported here): the
    # frame that called a test is not where the test created something.
    "_pytest",
    "pluggy",
    "pytest_twisted",
    "xdist",
)


def _package_dir(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], "")


class _Libraries:
    """Decides, once per file name, whether a file is library code."""

    def __init__(self) -> None:
        import twisted

        self.twisted = os.path.join(os.path.dirname(twisted.__file__), "")
        # The package as a whole, not just core/.
        self.ours = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")
        # The demonstration suite is user code, shipped inside the package.
        self.demo = os.path.join(self.ours, "demo", "")
        others = [_package_dir(name) for name in _TWISTED_DEPENDENCIES]
        self.others = tuple(p for p in others if p)
        # The standard library's Python files are where os.py is (the
        # platform-specific part holds only compiled modules, which have
        # no frames); sysconfig would tell the same at the cost of
        # importing it, more than the rest of this class.
        self.stdlib = (os.path.join(os.path.dirname(os.__file__), ""),)
        # Console scripts (bin/trial) sit at the bottom of every stack: a
        # resource the reactor created on its own must not point at them.
        scripts = {os.path.join(sys.prefix, "Scripts" if os.name == "nt" else "bin"), os.path.dirname(sys.executable)}
        self.scripts = tuple(os.path.join(p, "") for p in scripts if p)

    def is_library(self, filename: str) -> bool:
        if filename.startswith("<"):
            # "<frozen importlib._bootstrap>" is the interpreter's; "<string>"
            # and doctests are somebody's code.
            return filename.startswith("<frozen")
        if filename.startswith(self.ours):
            return not filename.startswith(self.demo)
        if filename.startswith(self.twisted):
            # Twisted's own test modules are user code: on Twisted's suite
            # the sites must be lines in twisted/*/test/.
            parts = filename[len(self.twisted) :].split(os.sep)
            return "test" not in parts[:-1]
        if filename.startswith(self.others):
            return True
        for scripts in self.scripts:
            if filename.startswith(scripts) and os.sep not in filename[len(scripts) :]:
                return True
        if filename.startswith(self.stdlib):
            return "site-packages" not in filename and "dist-packages" not in filename
        return False


_libraries: _Libraries | None = None
_is_library_cache: dict[str, bool] = {}


def is_library(filename: str) -> bool:
    """Whether frames of this file are library code rather than the user's."""
    global _libraries
    known = _is_library_cache.get(filename)
    if known is None:
        if _libraries is None:
            _libraries = _Libraries()
        known = _is_library_cache[filename] = _libraries.is_library(filename)
    return known


# Library functions that run other code on the reactor's or Trial's behalf:
# whatever is above them on the stack is the run loop or the test runner,
# never the code that created a resource, so the walk stops there instead
# of climbing the 30-odd frames up to main() for a call the reactor made.
# Checked by name, for library frames only: a set look-up of a string whose
# hash is cached, cheaper than anything keyed on code objects (whose hash
# is recomputed from their contents on every look-up).
_RUNNERS = frozenset(
    {
        "runUntilCurrent",  # delayed calls, every reactor
        "_doReadOrWrite",  # I/O: poll, epoll, select
        "_readOrWrite",  # I/O: asyncio reactor
        "_run",  # Trial running a test phase; asyncio running a callback
        "_wait",  # Trial running the reactor for a test
        # pluggy calling a pytest hook: above it is pytest's own loop (33
        # frames up to main() when pytest-twisted schedules a call from
        # pytest_pyfunc_call); a user's hook in a conftest is below it.
        "_multicall",
    }
)


def capture(depth: int = 2):
    """
    Note the innermost user frame of the current stack and a few callers.

    Returns a flat tuple ``(code, offset, code, offset, ...)``, innermost
    first, or None when no user code is on the stack; ``offset`` is the
    frame's bytecode offset, turned into a line number only when reported
    (computing ``f_lineno`` decodes the line table: too slow to do on every
    ``callLater``).  ``depth`` frames are skipped (the hook and its caller).

    Callers are the user frames directly above the innermost one (a test
    calling a helper); the walk stops at the first library frame, which
    keeps the common case to a couple of dictionary look-ups.
    """
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return None
    cache = _is_library_cache
    runners = _RUNNERS
    seen = 0
    while frame is not None:
        code = frame.f_code
        library = cache.get(code.co_filename)
        if library is None:
            library = is_library(code.co_filename)
        if not library:
            break
        if code.co_name in runners:
            return None
        seen += 1
        if seen == _MAX_DEPTH:
            return None
        frame = frame.f_back
    else:
        return None
    found = (code, frame.f_lasti)
    wanted = _CALLERS
    frame = frame.f_back
    while wanted and frame is not None:
        code = frame.f_code
        library = cache.get(code.co_filename)
        if library is None:
            library = is_library(code.co_filename)
        if library:
            break
        found += (code, frame.f_lasti)
        wanted -= 1
        frame = frame.f_back
    return found


def _line(code, offset: int) -> int:
    """The source line of the instruction at ``offset`` in ``code``."""
    line = code.co_firstlineno
    for start, end, number in code.co_lines():
        if start <= offset < end:
            return number if number is not None else line
        if number is not None:
            line = number
    return line


# The notes below run inside the user's calls (a constructor, addReader,
# loseConnection), on whatever object that call got: a proxy may raise
# anything from getattr or setattr.  They never let it out; the object then
# goes without a site.


def note_created(obj, depth: int = 3) -> None:
    """Record where ``obj`` is being created, unless already recorded."""
    try:
        if getattr(obj, CREATED, None) is None:
            setattr(obj, CREATED, capture(depth))
    except Exception:
        pass


_MISSING = object()


def note_first_seen(obj, depth: int = 3) -> None:
    """
    Record where ``obj`` is first seen, if nothing was recorded for it yet,
    not even "no user code on the stack" (so this is cheap when repeated).
    """
    try:
        if getattr(obj, CREATED, _MISSING) is _MISSING:
            setattr(obj, CREATED, capture(depth))
    except Exception:
        pass


def note_closed(obj, depth: int = 3) -> None:
    """Record where ``obj`` was first asked to close."""
    try:
        if getattr(obj, CLOSED, None) is None:
            setattr(obj, CLOSED, capture(depth))
    except Exception:
        pass


def _display_path(filename: str, root: str) -> str:
    if filename.startswith(root):
        return filename[len(root) :]
    return filename


def _function_name(code) -> str:
    return getattr(code, "co_qualname", code.co_name)


def sites(captured, root: str = "") -> tuple[Site, ...]:
    """Resolve a captured tuple into sites, reading source lines now."""
    if not captured:
        return ()
    root = os.path.join(root, "") if root else ""
    result = []
    for i in range(0, len(captured), 2):
        code = captured[i]
        line = _line(code, captured[i + 1])
        source = linecache.getline(code.co_filename, line).strip() or None
        result.append(
            Site(
                file=_display_path(code.co_filename, root),
                line=line,
                function=_function_name(code),
                code=source,
            )
        )
    return tuple(result)


def created_sites(obj, root: str = "") -> tuple[Site, ...]:
    return sites(getattr(obj, CREATED, None), root)


def closed_site(obj, root: str = "") -> Site | None:
    found = sites(getattr(obj, CLOSED, None), root)
    return found[0] if found else None
