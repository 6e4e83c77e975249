"""The caller's request id crosses the queue: the worker's upstream calls carry it."""

from typing import Any

import pytest

from gateway.http.app import START_RIDE_PATH
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.production.rides import meter_flag, ride
from tests.production.stream import eventually
from tests.production.workers import Workers

SEED = ride(1)


@pytest.mark.timeout(60)
async def test_upstream_calls_of_a_queued_task_carry_the_enqueuers_request_id(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    make_gateway: GatewayFactory,
) -> None:
    world.sims.seed_ride(SEED)
    worker = await workers.start("worker")
    gateway = await make_gateway()

    response = await gateway.client.post(
        START_RIDE_PATH,
        json={"order_id": SEED.order_id, "task_id": "task-77"},
        headers={"X-Request-Id": "req-from-producer-42"},
    )
    assert response.status == 202
    await eventually(lambda: meter_flag(world.sims, SEED) == "true", 10, "the ride runs")
    await eventually(lambda: len(worker.events("start_ride.finished")) == 1, 10, "the task ends")

    calls = [call for sim in world.sims.simulators().values() for call in sim.calls.all()]
    assert len(calls) == 9
    assert {call.headers.get("x-request-id") for call in calls} == {"req-from-producer-42"}
    finished = worker.events("start_ride.finished")
    assert [(event["request_id"], event["task_id"]) for event in finished] == [
        ("req-from-producer-42", "task-77")
    ]
