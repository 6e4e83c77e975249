"""SIGTERM: running tasks finish within the grace; what overruns it, and anything else the
worker holds, goes straight back to the stream; a busy worker does not hoard new tasks."""

import asyncio
from datetime import datetime
from typing import Any

import pytest

from gateway.plugins.faults import Fault
from tests.calls import MONITEX_START, setcar_values
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.production.rides import enqueue, meter_flag, ride, set_fields_applied
from tests.production.stream import StreamProbe, eventually, pid_of
from tests.production.workers import Workers

pytestmark = pytest.mark.timeout(60)

FIRST, SECOND = ride(1), ride(2)
EXIT_MARGIN_S = 5.0
# From SIGTERM to stopped, for a worker with nothing running: a few milliseconds, unloaded.
IDLE_STOP_S = 2.0


def stall_vendor_start(world: RunningWorld, tree: dict[str, Any], stall_ms: int) -> None:
    """The next Monitex start answers only after ``stall_ms``, which the gateway waits for."""
    tree["vendors"]["monitex"]["timeout_ms"] = 2 * stall_ms
    world.sims.monitex.faults.add(Fault(endpoint=MONITEX_START, delay_ms=stall_ms, times=1))


async def vendor_start_reached(world: RunningWorld) -> None:
    await eventually(
        lambda: len(world.sims.monitex.calls.to(MONITEX_START)) >= 1, 10, "a task starts a ride"
    )


async def test_sigterm_lets_the_running_task_finish(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    stall_ms = 1500
    stall_vendor_start(world, production_tree, stall_ms)
    world.sims.seed_ride(FIRST)
    worker = await workers.start("worker")
    gateway = await make_gateway()
    assert (await enqueue(gateway, FIRST))[0] == 202
    await vendor_start_reached(world)

    worker.terminate()

    assert await worker.exit_code(timeout_s=stall_ms / 1000 + EXIT_MARGIN_S) == 0
    assert meter_flag(world.sims, FIRST) == "true"
    assert len(world.sims.monitex.rides) == 1
    assert set_fields_applied(world.sims, FIRST) == 1
    assert await probe.length() == 0
    assert await probe.pending() == []
    assert await probe.consumers() == []
    assert worker.events("worker.grace_expired") == []


async def test_a_task_overrunning_the_grace_goes_to_another_worker_at_once(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    # Far beyond the test's deadline: any takeover seen is the hand-back, not a redelivery.
    production_tree["broker"]["redelivery_timeout_ms"] = 60_000
    production_tree["worker"]["shutdown_grace_ms"] = 300
    stall_vendor_start(world, production_tree, stall_ms=30_000)
    world.sims.seed_ride(FIRST)
    first, second = await asyncio.gather(workers.start("worker-a"), workers.start("worker-b"))
    gateway = await make_gateway()
    assert (await enqueue(gateway, FIRST))[0] == 202
    await vendor_start_reached(world)
    [held] = await probe.pending()
    stopping, successor = (first, second) if pid_of(held.consumer) == first.pid else (second, first)

    stopping.terminate()

    assert await stopping.exit_code(timeout_s=0.3 + EXIT_MARGIN_S) == 0

    await eventually(probe.is_empty, 5, "the successor runs and acknowledges the task")
    assert [record["unfinished_tasks"] for record in stopping.events("worker.grace_expired")] == [1]
    assert [record["entries"] for record in stopping.events("broker.handed_back")] == [1]
    # The cut-short run neither fell back nor stored anything; the successor did it all once.
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 2
    assert len(world.sims.monitex.rides) == 1
    assert set_fields_applied(world.sims, FIRST) == 1
    assert setcar_values(world.sims) == ["true"]
    assert await probe.pending() == []
    assert await probe.consumers() == [successor.consumers()[0]]


async def test_a_busy_worker_leaves_the_next_task_to_a_free_one(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    production_tree["worker"]["max_concurrent_tasks"] = 1
    stall_vendor_start(world, production_tree, stall_ms=30_000)
    world.sims.seed_ride(FIRST)
    world.sims.seed_ride(SECOND)
    busy = await workers.start("busy")
    gateway = await make_gateway()
    assert (await enqueue(gateway, FIRST))[0] == 202
    await vendor_start_reached(world)
    assert (await enqueue(gateway, SECOND))[0] == 202

    # The free worker starts only now; it can get the second task only if nobody fetched it.
    await workers.start("free")

    async def second_done() -> bool:
        return await probe.length() == 1

    await eventually(second_done, 5, "the second task runs and is acknowledged")
    assert meter_flag(world.sims, SECOND) == "true"
    assert meter_flag(world.sims, FIRST) is None
    [held] = await probe.pending()
    assert pid_of(held.consumer) == busy.pid


async def test_idle_workers_that_just_ran_tasks_stop_at_once(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    # Stopping cancels each worker's pending read of the idle stream. A cancellation lost inside
    # redis-py once left a worker reading on until its supervisor killed it; test_stream_broker
    # sweeps the moments a cancellation can meet a read, this checks whole worker processes.
    # The grace is far beyond what the test waits: only a stop that hangs can overrun it.
    production_tree["worker"]["shutdown_grace_ms"] = 30_000
    seeds = [ride(n) for n in range(1, 5)]
    for seed in seeds:
        world.sims.seed_ride(seed)
    started = await asyncio.gather(*(workers.start(f"worker-{n}") for n in range(3)))
    gateway = await make_gateway()
    for seed in seeds:
        assert (await enqueue(gateway, seed))[0] == 202
    await eventually(
        lambda: all(meter_flag(world.sims, seed) == "true" for seed in seeds), 10, "the rides run"
    )
    await eventually(probe.is_empty, 5, "every task is acknowledged")

    for worker in started:
        worker.terminate()

    # Exiting takes the interpreter a moment more, and a loaded CI host several.
    exit_codes = await asyncio.gather(*(worker.exit_code(timeout_s=10) for worker in started))
    assert exit_codes == [0, 0, 0]
    for worker in started:
        [stopping] = worker.events("worker.stopping")
        [stopped] = worker.events("worker.stopped")
        assert seconds_between(stopping, stopped) < IDLE_STOP_S
    assert await probe.consumers() == []


def seconds_between(earlier: dict[str, Any], later: dict[str, Any]) -> float:
    """Between two of a worker's log events, by the worker's own clock."""
    stamps = [datetime.fromisoformat(event["timestamp"]) for event in (earlier, later)]
    return (stamps[1] - stamps[0]).total_seconds()
