"""Rides for the production-mode tests: seeded in the simulated world, enqueued via the gateway."""

import json
from typing import Any

from gateway.broker.start_ride_task import START_RIDE_TASK_NAME
from gateway.http.app import START_RIDE_PATH
from gateway.sandbox.world import RideSeed, SimulatedWorld
from tests.gateway_world import Gateway


def ride(n: int) -> RideSeed:
    """Ride ``n`` has a driver and a car of its own, so the meter vendor keeps it apart."""
    return RideSeed(
        order_id=f"order-{n}",
        alias_id=f"alias-{n}",
        driver_profile_id=f"driver{n}",
        car_id=f"car{n}",
        national_id=f"30000000{n}",
        permit=f"PERMIT-{n}",
    )


async def enqueue(gateway: Gateway, seed: RideSeed) -> Any:
    """POST start-ride; returns the status and the JSON answer."""
    response = await gateway.client.post(START_RIDE_PATH, json={"order_id": seed.order_id})
    return response.status, await response.json()


def meter_flag(world: SimulatedWorld, seed: RideSeed) -> str | None:
    """What setcar tells the driver app about the meter: "true", "false" or None (untold)."""
    return world.driver_orders_builder.setcar_value(
        seed.alias_id, seed.park_id, seed.driver_profile_id
    )


def set_fields_applied(world: SimulatedWorld, seed: RideSeed) -> int:
    """How many set-fields order-core applied: each one moves ``order.version`` up by one."""
    return world.order_core.revision(seed.order_id)["order.version"] - 1


def start_ride_message(task_id: str, order_id: str) -> str:
    """A start-ride task as a producer other than the gateway writes it to the stream by hand:
    the taskiq message of the stream entry's ``data`` field."""
    return json.dumps(
        {
            "task_id": task_id,
            "task_name": START_RIDE_TASK_NAME,
            "labels": {},
            "labels_types": {},
            "args": [],
            "kwargs": {"order_id": order_id},
        }
    )
