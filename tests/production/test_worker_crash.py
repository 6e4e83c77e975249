"""A worker SIGKILLed in the middle of a task: another worker takes the task over on its own,
on an idle stream, and the ride is started once, stored once and told to the driver app."""

import asyncio

import pytest

from gateway.plugins.faults import Fault
from tests.calls import MONITEX_START, SET_FIELDS, SETCAR, setcar_values
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.production.rides import enqueue, meter_flag, ride, set_fields_applied
from tests.production.stream import StreamProbe, eventually, pid_of
from tests.production.workers import REDELIVERY_TIMEOUT_MS, Workers

RIDE = ride(1)
# Long enough that the victim is surely still inside the call when it is killed.
STALL_MS = 30_000
# The victim's entry goes idle one redelivery timeout after its last heartbeat, a reclaim pass
# finds it within a quarter timeout more; the margin covers running the task.
TAKEOVER_DEADLINE_S = REDELIVERY_TIMEOUT_MS / 1000 * 1.25 + 3.0

# Where the victim dies: (settings section of the upstream, its endpoint, and how many starts
# Monitex then sees in all: a second start of the same driver returns the running ride).
KILL_POINTS = {
    "during the vendor start": ("monitex", MONITEX_START, 2),
    "while storing the ride id": ("order_core", SET_FIELDS, 2),
    "while telling the driver app": ("driver_orders_builder", SETCAR, 1),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
async def test_another_worker_takes_over_a_killed_workers_task(
    world: RunningWorld,
    production_tree: dict[str, object],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
    kill_point: str,
) -> None:
    section, endpoint, expected_starts = KILL_POINTS[kill_point]
    tree_section = production_tree["vendors" if section == "monitex" else "upstreams"]
    assert isinstance(tree_section, dict)
    tree_section[section]["timeout_ms"] = 2 * STALL_MS
    world.sims.seed_ride(RIDE)
    stalled = world.sims.simulators()[section]
    stalled.faults.add(Fault(endpoint=endpoint, delay_ms=STALL_MS, times=1))
    first, second = await asyncio.gather(workers.start("worker-a"), workers.start("worker-b"))
    gateway = await make_gateway()

    assert (await enqueue(gateway, RIDE))[0] == 202
    await eventually(lambda: len(stalled.calls.to(endpoint)) == 1, 10, f"a task reaches {endpoint}")
    [held] = await probe.pending()
    victim, survivor = (first, second) if pid_of(held.consumer) == first.pid else (second, first)
    victim.kill()
    assert await victim.exit_code(timeout_s=5) == -9

    await eventually(
        probe.is_empty, TAKEOVER_DEADLINE_S, "the survivor runs and acknowledges the task"
    )

    [meter_ride] = world.sims.monitex.rides.values()
    assert meter_ride.state == "IN_PROGRESS"
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == expected_starts
    assert world.sims.order_core.order(RIDE.order_id)["order"]["external_meter_ride_id"] == (
        meter_ride.id
    )
    assert set_fields_applied(world.sims, RIDE) == 1
    assert meter_flag(world.sims, RIDE) == "true"
    assert set(setcar_values(world.sims)) == {"true"}
    assert await probe.pending() == []
    assert survivor.process.returncode is None
