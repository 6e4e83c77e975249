"""``worker.processes = 2``: one supervisor, two worker processes that share the stream; a
process that dies is replaced, their metrics are served summed, and SIGTERM stops them all."""

import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.gateway_world import GatewayFactory, RunningWorld
from tests.observability.scrape import samples
from tests.processes import free_port
from tests.production.rides import enqueue, meter_flag, ride
from tests.production.stream import StreamProbe, eventually, pid_of
from tests.production.workers import Workers

RIDES = [ride(1), ride(2)]


async def started_lines(metrics_port: int) -> list[str]:
    """The exposition's lines counting rides started, as the supervisor serves them."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{metrics_port}/metrics") as scrape,
    ):
        exposition = await scrape.text()
    return [
        line
        for line in exposition.splitlines()
        if line.startswith("meters_rides_started_total{") and 'result="started"' in line
    ]


async def restarts(metrics_port: int) -> float:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{metrics_port}/metrics") as scrape,
    ):
        exposition = await scrape.text()
    return samples(exposition, "meters_worker_restarts_total")[()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(60)
async def test_a_supervisor_runs_replaces_and_stops_its_worker_processes(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    production_tree["worker"]["processes"] = 2
    metrics_port = free_port()
    production_tree["worker"]["metrics_port"] = metrics_port
    for seed in RIDES:
        world.sims.seed_ride(seed)
    supervisor = await workers.start("supervisor", wait_until_started=False)
    consumers = await workers.wait_until_started(supervisor, processes=2)
    children = {pid_of(consumer) for consumer in consumers}
    assert len(children) == 2
    assert supervisor.pid not in children

    died = min(children)
    os.kill(died, signal.SIGKILL)
    replacement = await workers.wait_until_started(supervisor, processes=3)
    [newcomer] = {pid_of(consumer) for consumer in replacement} - children

    gateway = await make_gateway()
    for seed in RIDES:
        assert (await enqueue(gateway, seed))[0] == 202
    await eventually(
        lambda: all(meter_flag(world.sims, seed) == "true" for seed in RIDES), 10, "both rides run"
    )

    # The supervisor's one endpoint sums what both worker processes counted. A task counts its
    # ride after setting the meter flag, so the count may lag the flags a moment.
    started: list[str] = []

    async def both_counted() -> bool:
        nonlocal started
        started = await started_lines(metrics_port)
        return [float(line.rsplit(" ", 1)[1]) for line in started] == [2.0]

    await eventually(both_counted, 5, "both rides counted")
    assert 'vendor="monitex"' in started[0]
    assert await restarts(metrics_port) == 1.0

    supervisor.terminate()

    assert await supervisor.exit_code(timeout_s=10) == 0
    running = children - {died} | {newcomer}
    assert not any(alive(pid) for pid in running)
    assert len(supervisor.events("worker.stopped")) == 2
    assert not any(pid_of(consumer) in running for consumer in await probe.consumers())
    assert await probe.length() == 0


def ended(pid: int) -> bool:
    """Gone, or a zombie its new parent has not reaped yet: it runs no more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.timeout(60)
async def test_worker_processes_stop_when_their_supervisor_is_killed(
    production_tree: dict[str, Any], workers: Workers, probe: StreamProbe
) -> None:
    production_tree["worker"]["processes"] = 2
    supervisor = await workers.start("supervisor", wait_until_started=False)
    children = {pid_of(consumer) for consumer in await workers.wait_until_started(supervisor, 2)}

    supervisor.kill()  # as the OOM killer would: no chance to stop them

    await eventually(lambda: all(ended(pid) for pid in children), 20, "the orphans stop")
    gone = supervisor.events("worker.supervisor_gone")
    assert sorted((line["pid"], line["supervisor_pid"]) for line in gone) == sorted(
        (pid, supervisor.pid) for pid in children
    )
    # Each stopped as on SIGTERM: gracefully, its consumer handing back what it held.
    assert sorted(line["pid"] for line in supervisor.events("worker.stopped")) == sorted(children)
