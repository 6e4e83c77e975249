"""Redis under Sentinel (master, two replicas, three sentinels): the master is SIGKILLed while
start-rides arrive, and gateway and worker follow the promoted replica with no restart and no
answered start-ride lost (docs/design.md §2, §8)."""

import asyncio
from typing import Any

import pytest

from gateway.broker.enqueue import MAY_BE_ENQUEUED
from gateway.sandbox.world import RideSeed
from tests.calls import MONITEX_START
from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.observability.scrape import labels, samples
from tests.production.rides import enqueue, meter_flag, ride, set_fields_applied
from tests.production.sentinel_cluster import SentinelCluster
from tests.production.stream import StreamProbe, eventually
from tests.production.workers import Workers

pytestmark = pytest.mark.timeout(120)

RIDES = [ride(n) for n in range(1, 15)]
KILL_AFTER = 4
# The pace: a start-ride every second.
INTERVAL_S = 1.0
# Rides at the end of the stream that must all be accepted: the gateway recovered before them.
ACCEPTED_AT_THE_END = 5
# A failover takes the sentinels a few seconds (tests/production/sentinel_cluster.py).
FAILOVER_S = 20


@pytest.fixture
def broker_url(sentinel_cluster: SentinelCluster) -> str:
    return sentinel_cluster.url()


def vendor_starts(world: RunningWorld, seed: RideSeed) -> int:
    """``POST /ride`` calls Monitex received for this ride's driver."""
    return sum(
        1
        for call in world.sims.monitex.calls.to(MONITEX_START)
        if call.body["driverId"] == seed.national_id
    )


async def ready(gateway: Gateway) -> bool:
    return (await gateway.client.get("/health")).status == 200


async def test_a_killed_master_loses_no_answered_start_ride(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
    sentinel_cluster: SentinelCluster,
) -> None:
    for seed in RIDES:
        world.sims.seed_ride(seed)
    worker = await workers.start("worker")
    gateway = await make_gateway()

    answers: list[tuple[int, Any]] = []
    for n, seed in enumerate(RIDES):
        if n == KILL_AFTER:
            sentinel_cluster.kill_master()
        answers.append(await enqueue(gateway, seed))
        await asyncio.sleep(INTERVAL_S)

    accepted = [seed for seed, (status, _) in zip(RIDES, answers, strict=True) if status == 202]
    refused = [body for status, body in answers if status != 202]
    statuses = [(status, body.get("message", "")) for status, body in answers]
    assert all(status == 202 for status, _ in statuses[-ACCEPTED_AT_THE_END:]), statuses
    assert {body["code"] for body in refused} <= {"broker_unavailable"}
    await eventually(
        lambda: all(meter_flag(world.sims, seed) == "true" for seed in accepted),
        FAILOVER_S,
        "every accepted ride runs",
    )
    await eventually(probe.is_empty, FAILOVER_S, "every task is acknowledged")
    # Exactly once: one vendor start per accepted ride, and a refused one (which may have been
    # enqueued after all) never more than once.
    assert [vendor_starts(world, seed) for seed in accepted] == [1] * len(accepted)
    assert all(vendor_starts(world, seed) <= 1 for seed in RIDES)
    assert await ready(gateway)
    assert worker.process.returncode is None
    assert worker.events("broker.reconnected")


async def test_a_task_answered_just_before_the_next_master_dies_still_runs(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    make_gateway: GatewayFactory,
    sentinel_cluster: SentinelCluster,
) -> None:
    answered, refused = ride(1), ride(2)
    for seed in (answered, refused):
        world.sims.seed_ride(seed)
    # While no replica is left, the answered task is delivered again and again: it must not
    # reach the dead letters within this test.
    production_tree["broker"]["max_deliveries"] = 100
    worker = await workers.start("worker")
    gateway = await make_gateway()
    first = sentinel_cluster.kill_master()
    await sentinel_cluster.wait_for_new_master(first, replicas=1)
    await eventually(lambda: ready(gateway), FAILOVER_S, "the gateway reaches the new master")

    assert (await enqueue(gateway, answered))[0] == 202
    second = sentinel_cluster.kill_master()
    # Until the sentinels agree the master is down (DOWN_AFTER_MS) they still name it.
    assert not await ready(gateway)

    await sentinel_cluster.wait_for_new_master(second, replicas=0)
    # The last node stands alone: nothing can hold a second copy of a task.
    await eventually(lambda: ready(gateway), FAILOVER_S, "the gateway reaches the last master")
    status, body = await enqueue(gateway, refused)
    assert (status, body) == (503, {"code": "broker_unavailable", "message": MAY_BE_ENQUEUED})
    scraped = await (await gateway.client.get("/metrics")).text()
    assert samples(scraped, "meters_broker_enqueues_total")[labels(result="not_replicated")] >= 1

    # Nor can anything hold the claim of the ride the vendor answers (docs/design.md §3a): the
    # answered task stays pending, the driver app not told anything either way, until a
    # replica is back.
    await eventually(
        lambda: any(
            line["order_id"] == answered.order_id and line["reason"] == "ride_ledger_unavailable"
            for line in worker.events("start_ride.finished")
        ),
        FAILOVER_S,
        "the answered task waits for a replica",
    )
    assert meter_flag(world.sims, answered) is None
    sentinel_cluster.add_replica()
    await eventually(
        lambda: meter_flag(world.sims, answered) == "true", FAILOVER_S, "the answered ride runs"
    )
    # However often it was delivered, one meter ride for the driver, stored once.
    rides = [r for r in world.sims.monitex.rides.values() if r.driver_id == answered.national_id]
    assert len(rides) == 1
    assert rides[0].is_open
    assert set_fields_applied(world.sims, answered) == 1
    assert worker.process.returncode is None
