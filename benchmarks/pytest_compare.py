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

::

    python benchmarks/pytest_compare.py --pairs 6
    python benchmarks/pytest_compare.py --quick     # seconds: a smoke test
"""

from __future__ import annotations

import argparse
import os
import resource
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


def run_once(folder: str, strict: bool) -> tuple[float, float, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    command += ["--basetemp", os.path.join(folder, ".tmp")]
    if strict:
        command.append("--strictclean")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAL_STRICTCLEAN_")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = (done.stdout.strip().splitlines() or ["?"])[-1]
    if done.returncode != 0:
        raise SystemExit(f"{'B' if strict else 'A'} run failed ({done.returncode}): {last}\n{done.stdout[-3000:]}")
    return cpu, wall, last


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="one pair of 20 tests: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.pairs, args.tests = 1, 20
    with tempfile.TemporaryDirectory(prefix="strictclean-pytest-bench-") as folder:
        write_suite(folder, args.tests, args.calls)
        cpu_ratios, wall_ratios = [], []
        for pair in range(args.pairs):
            order = (False, True) if pair % 2 == 0 else (True, False)
            runs = {strict: run_once(folder, strict) for strict in order}
            (a_cpu, a_wall, a_last), (b_cpu, b_wall, b_last) = runs[False], runs[True]
            cpu_ratios.append(b_cpu / a_cpu)
            wall_ratios.append(b_wall / a_wall)
            print(
                f"pair {pair + 1} ({'AB' if order[0] is False else 'BA'}): "
                f"cpu A {a_cpu:.2f}s B {b_cpu:.2f}s ratio {cpu_ratios[-1]:.3f}; "
                f"wall A {a_wall:.2f}s B {b_wall:.2f}s ratio {wall_ratios[-1]:.3f}   [{b_last}]",
                flush=True,
            )
        print(
            f"{args.tests} tests, {args.pairs} pairs: median CPU ratio {statistics.median(cpu_ratios):.3f}, "
            f"median wall ratio {statistics.median(wall_ratios):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
