"""
What ``pytest --strictclean`` costs against stock pytest (pytest-twisted).

Writes a clean pytest-twisted suite to a temporary folder (``--tests``
tests, 1,000 by default, in files of 100): each test schedules and cancels
``--calls`` delayed calls, waits for two that fire (``task.deferLater``),
and opens one real TCP connection on 127.0.0.1, closes both ends and the
port and waits for all three; one test in ten is a plain synchronous test
that only schedules and cancels its calls.  Then runs it with stock pytest
(A) and with ``--strictclean`` (B), alternating A/B and which goes first,
each run in a fresh process, and prints per-pair and median B/A ratios of
CPU time (user+sys, ``getrusage(RUSAGE_CHILDREN)`` deltas) and wall time.
The suite is clean: a finding or a failure there is a bug, and the script
exits 1.

``--calls`` is 5 by default: with the connection's own, the two that fire
and pytest-twisted's, a test then makes 10.5 ``reactor.callLater`` calls on
average, as many as Scrapy's tests do (10.4 per test over two slices,
444 tests, counted with ``pytest_count_calls.py``; docs/benchmarks.rst),
and opens 2.7 descriptors where Scrapy's open 1.1.  ``--calls 50`` is the
stress variant: 55 calls per test, the per-call price times five.

Byte code is written and one unmeasured run of each kind goes first, so
that both read compiled modules: pytest compiles the modules of every
plugin package itself (assertion rewriting) and, with
``PYTHONDONTWRITEBYTECODE`` set, recompiles them from source on every run
(about 0.15 s for ours), which is the environment's cost, not the plugin's.

``--instructions`` counts instructions instead (valgrind's cachegrind,
about 20 times slower): the count does not depend on what else the machine
runs, so one pair tells what many timed pairs only approach; the same
count with ``--tests 10`` is the start-up part.

::

    python benchmarks/pytest_compare.py --pairs 6
    python benchmarks/pytest_compare.py --instructions --pairs 1 --tests 200
    python benchmarks/pytest_compare.py --quick     # seconds: a smoke test
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

_HEADER = textwrap.dedent(
    """
    import pytest_twisted
    from twisted.internet import reactor, task
    from twisted.internet.defer import Deferred
    from twisted.internet.protocol import ClientFactory, Factory, Protocol

    CALLS = {calls}


    class Ends(Protocol):
        def __init__(self):
            self.made, self.lost = Deferred(), Deferred()

        def connectionMade(self):
            self.made.callback(None)

        def connectionLost(self, reason):
            self.lost.callback(None)


    def _schedule():
        for _ in range(CALLS):
            reactor.callLater(30, lambda: None).cancel()


    async def _exercise():
        _schedule()
        await task.deferLater(reactor, 0, lambda: None)
        await task.deferLater(reactor, 0, lambda: None)
        server = []
        factory = Factory()
        factory.protocol = lambda: server.append(Ends()) or server[-1]
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        client = Ends()
        reactor.connectTCP("127.0.0.1", port.getHost().port, ClientFactory.forProtocol(lambda: client))
        await client.made
        client.transport.loseConnection()
        await client.lost
        while not server:
            await task.deferLater(reactor, 0, lambda: None)
        await server[0].lost
        await port.stopListening()
    """
)

_ASYNC = textwrap.dedent(
    """

    @pytest_twisted.ensureDeferred
    async def test_{n}():
        await _exercise()
    """
)

_SYNC = textwrap.dedent(
    """

    def test_{n}():
        _schedule()
    """
)


def write_suite(folder: str, tests: int, calls: int, per_file: int = 100) -> None:
    with open(os.path.join(folder, "pyproject.toml"), "w", encoding="utf-8") as file:
        file.write('[tool.pytest.ini_options]\npython_files = ["bench_*.py"]\n')
    for start in range(0, tests, per_file):
        parts = [_HEADER.format(calls=calls)]
        for n in range(start, min(tests, start + per_file)):
            parts.append((_SYNC if n % 10 == 9 else _ASYNC).format(n=n))
        with open(os.path.join(folder, f"bench_{start // per_file:03d}.py"), "w", encoding="utf-8") as file:
            file.write("".join(parts))


_ENV_LEFT_OUT = ("TRIAL_STRICTCLEAN_", "PYTHONDONTWRITEBYTECODE")


def run_once(folder: str, strict: bool, instructions: bool = False) -> tuple[float, float, str]:
    """
    One run: (CPU seconds, wall seconds, pytest's last line); with
    ``instructions``, (instructions counted, wall seconds, last line).
    """
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    command += ["--basetemp", os.path.join(folder, ".tmp")]
    if strict:
        command.append("--strictclean")
    if instructions:
        command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"] + command
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_LEFT_OUT)}
    # Hash randomisation changes set and dict orders, and so the count.
    env["PYTHONHASHSEED"] = "0"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = (done.stdout.strip().splitlines() or ["?"])[-1]
    if done.returncode != 0:
        raise SystemExit(f"{'B' if strict else 'A'} run failed ({done.returncode}): {last}\n{done.stdout[-3000:]}")
    if instructions:
        counted = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        if counted is None:
            raise SystemExit(f"no instruction count from valgrind:\n{done.stderr[-2000:]}")
        return float(counted.group(1).replace(",", "")), wall, last
    return cpu, wall, last


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5, help="delayed calls scheduled and cancelled per test (5: as many as a real suite)")
    parser.add_argument("--quick", action="store_true", help="one pair of 20 tests: a smoke test")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions under valgrind (cachegrind) instead of timing: independent of the machine's load",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.pairs, args.tests = 1, 20
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on PATH")
    unit = "instructions" if args.instructions else "CPU"
    with tempfile.TemporaryDirectory(prefix="strictclean-pytest-bench-") as folder:
        write_suite(folder, args.tests, args.calls)
        # Unmeasured: byte code written for the suite and for both kinds.
        run_once(folder, False)
        run_once(folder, True)
        ratios, wall_ratios = [], []
        for pair in range(args.pairs):
            order = (False, True) if pair % 2 == 0 else (True, False)
            runs = {strict: run_once(folder, strict, args.instructions) for strict in order}
            (a_cost, a_wall, a_last), (b_cost, b_wall, b_last) = runs[False], runs[True]
            ratios.append(b_cost / a_cost)
            wall_ratios.append(b_wall / a_wall)
            shown = (
                f"A {a_cost:,.0f} B {b_cost:,.0f}" if args.instructions else f"A {a_cost:.2f}s B {b_cost:.2f}s"
            )
            print(
                f"pair {pair + 1} ({'AB' if order[0] is False else 'BA'}): "
                f"{unit.lower()} {shown} ratio {ratios[-1]:.3f}; "
                f"wall A {a_wall:.2f}s B {b_wall:.2f}s ratio {wall_ratios[-1]:.3f}   [{b_last}]",
                flush=True,
            )
        print(
            f"{args.tests} tests, {args.pairs} pairs: median {unit} ratio {statistics.median(ratios):.3f} "
            f"(pairs {min(ratios):.3f} to {max(ratios):.3f}), median wall ratio {statistics.median(wall_ratios):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
