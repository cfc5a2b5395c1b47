"""
Whether the code that scheduled a call on the real reactor already keeps
time some other way: a fake reactor that is (or holds) a ``task.Clock`` or
provides ``IReactorTime``, or code that takes its reactor as a parameter
(``clock=``, ``reactor=``) or keeps it in an attribute.  To such code "pass
it a task.Clock" is no advice: the fake is fixed once, or the parameter
named, or the test waits.

Read from the creating frame's code object only (provenance keeps code
objects, never frames): its class, found in its module, and its bytecode.
Runs for dirty tests only.
"""

from __future__ import annotations

import dis
import functools
import re
import sys
from dataclasses import dataclass

# Names code gives whatever keeps its time: clock, _clock, reactor,
# self._reactor, scheduler.
_TIMER_NAME = re.compile(r"^_*(clock|reactor|scheduler|timer)$", re.IGNORECASE)


@dataclass(frozen=True)
class TimeKeeper:
    """How the scheduling code keeps time, and the names to say it with."""

    # "clock": its class is a Clock or provides IReactorTime (a fake reactor);
    # "holds": its class builds a Clock; "parameter": a clock=/reactor=
    # parameter (of the function, or of its class's __init__); "attribute":
    # it schedules through self.<name>.
    how: str
    # "FakeReactor.forward" (the class's name also on Python 3.10).
    function: str
    # The class ("FakeReactor"), the parameter ("reactor") or the
    # attribute ("self._clock").
    name: str
    # For a parameter of __init__: the class to pass it to.
    owner: str | None = None


def _functions_of(cls):
    for value in list(vars(cls).values()):
        func = getattr(value, "__func__", value)  # staticmethod, classmethod
        func = getattr(func, "__wrapped__", func)
        if getattr(func, "__code__", None) is not None:
            yield func


@functools.lru_cache(maxsize=256)
def _class_of(code):
    """The class defined at module level whose method's code ``code`` is."""
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) != code.co_filename:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
                if any(f.__code__ is code for f in _functions_of(value)):
                    return value
    return None


def _is_a_clock(cls) -> bool:
    from twisted.internet.interfaces import IReactorTime
    from twisted.internet.task import Clock

    return issubclass(cls, Clock) or IReactorTime.implementedBy(cls)


def _builds_a_clock(cls) -> bool:
    return any("Clock" in f.__code__.co_names for f in _functions_of(cls))


def _parameters(code) -> tuple[str, ...]:
    return code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]


def _timer_parameter(code) -> str | None:
    return next((p for p in _parameters(code) if _TIMER_NAME.match(p)), None)


def _self_attributes(code) -> list[str]:
    """``X`` for each ``self.X`` the code reads."""
    found = []
    previous = None
    for instruction in dis.get_instructions(code):
        if (
            instruction.opname in ("LOAD_ATTR", "LOAD_METHOD")
            and previous is not None
            and previous.opname == "LOAD_FAST"
            and previous.argval == "self"
        ):
            found.append(instruction.argval)
        previous = instruction
    return found


def time_keeper(captured) -> TimeKeeper | None:
    """How the innermost frame of a captured creation keeps time, if it does."""
    if not captured:
        return None
    code = captured[0]
    try:
        cls = _class_of(code)
        if cls is not None and hasattr(cls, "addCleanup"):
            return None  # a test case: its own lines are the test's, not shared code
        function = f"{cls.__name__}.{code.co_name}" if cls is not None else code.co_name
        if cls is not None and _is_a_clock(cls):
            return TimeKeeper("clock", function, cls.__name__)
        if cls is not None and _builds_a_clock(cls):
            return TimeKeeper("holds", function, cls.__name__)
        parameter = _timer_parameter(code)
        if parameter is not None:
            return TimeKeeper("parameter", function, parameter)
        attribute = next((a for a in _self_attributes(code) if _TIMER_NAME.match(a)), None)
        if attribute is not None:
            init = getattr(cls, "__init__", None) if cls is not None else None
            parameter = _timer_parameter(init.__code__) if hasattr(init, "__code__") else None
            if parameter is not None:
                return TimeKeeper("parameter", function, parameter, owner=cls.__name__)
            return TimeKeeper("attribute", function, f"self.{attribute}")
    except Exception:
        return None  # the plain advice then
    return None


def advice(keeper: TimeKeeper) -> str:
    """The fix for a call that such code put on the real reactor."""
    wait = "or have the test wait for the call to run before it ends"
    if keeper.how in ("clock", "holds"):
        what = (
            f"{keeper.name} is already a clock (a task.Clock or an IReactorTime provider)"
            if keeper.how == "clock"
            else f"{keeper.name} already keeps a task.Clock"
        )
        return (
            f"{keeper.function} (shared test code) hands the call to the real "
            f"reactor, where the test cannot reach it, though {what}. Fix it once "
            f"there: keep the call on the clock and advance that, {wait}."
        )
    if keeper.how == "parameter":
        where = f"{keeper.owner}({keeper.name}=...)" if keeper.owner else f"its {keeper.name}= parameter"
        return (
            f"{keeper.owner or keeper.function} takes what it schedules on as a parameter "
            f"({keeper.name}=) and was given the real reactor here: pass it a "
            f"task.Clock through {where} and advance the clock, {wait}."
        )
    return (
        f"{keeper.function} schedules through {keeper.name}, which held the real "
        f"reactor here: have the test put a task.Clock there and advance it, {wait}."
    )
