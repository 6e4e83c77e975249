"""Rides for the production-mode tests: seeded in the simulated world, enqueued via the gateway."""

from typing import Any

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
