"""A stale meter ride is never adopted (docs/design.md §3a), in the embedded default.

Order A's meter ride is started; A's finish-ride fails before the vendor is called, so the
ride stays open. The same driver's next order B starts: Monitex's start is idempotent per
driver and vehicle, so it answers A's ride. B must fall back (``stale_meter_ride``), never be
written, never be settled with A's ride or A's price, and A's ride must be left alone.
"""

from typing import Any

import pytest
from prometheus_client import REGISTRY

import gateway.rides.start_ride as start_ride_module
from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GET_FIELDS,
    IDENTIFICATION,
    IDENTITY_DOCS,
    MONITEX_START,
    MONITEX_STOP,
    PUSH,
    SET_FIELDS,
    SETCAR,
    VEHICLES,
    calls_made,
)
from tests.gateway_world import Gateway, RunningWorld
from tests.log_capture import capture_log_of

ORDER_A = RideSeed(order_id="order-a", alias_id="alias-a", fixed_price=42.24)
# The same driver and car, a later order with another price.
ORDER_B = RideSeed(order_id="order-b", alias_id="alias-b", fixed_price=50.00)


def stale_rides() -> float:
    labels = {"vendor": "monitex", "country": "IL"}
    return REGISTRY.get_sample_value("meters_stale_meter_rides_total", labels) or 0.0


def rides_started(result: str, reason: str) -> float:
    labels = {"vendor": "monitex", "country": "IL", "result": result, "reason": reason}
    return REGISTRY.get_sample_value("meters_rides_started_total", labels) or 0.0


def setcar_of(world: RunningWorld, seed: RideSeed) -> Any:
    return world.sims.driver_orders_builder.setcar_value(
        seed.alias_id, seed.park_id, seed.driver_profile_id
    )


async def test_a_ride_another_order_holds_is_a_fallback_and_is_left_alone(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    sims = world.sims
    sims.seed_ride(ORDER_A)
    sims.seed_ride(ORDER_B)
    await gateway.start_ride("order-a")
    (ride_a,) = sims.monitex.rides
    sims.order_core.faults.add(Fault(GET_FIELDS, status=500, times=1))
    assert (await gateway.finish_ride("alias-a", 42.24))[0] == 502
    sims.forget_calls()
    log = capture_log_of(monkeypatch, start_ride_module)
    stale_before = stale_rides()
    fallbacks_before = rides_started("fallback", "stale_meter_ride")

    await gateway.start_ride("order-b")

    # The vendor answered A's ride; nothing was written, the app was told to fall back.
    assert calls_made(sims) == {
        f"order_core {GET_FIELDS}": 1,
        f"driver_profiles {IDENTITY_DOCS}": 1,
        f"personal {IDENTIFICATION}": 1,
        f"fleet_vehicles {VEHICLES}": 1,
        f"monitex {MONITEX_START}": 1,
        f"driver_orders_builder {SETCAR}": 1,
        f"client_notify {PUSH}": 1,
    }
    assert list(sims.monitex.rides) == [ride_a]
    assert sims.monitex.rides[ride_a].is_open
    assert "external_meter_ride_id" not in sims.order_core.order("order-b")["order"]
    assert setcar_of(world, ORDER_B) == "false"
    assert stale_rides() == stale_before + 1
    assert rides_started("fallback", "stale_meter_ride") == fallbacks_before + 1
    [warning] = log.events("start_ride.stale_meter_ride")
    assert warning["log_level"] == "warning"
    assert (warning["order_id"], warning["holding_order_id"]) == ("order-b", "order-a")
    assert warning["ride_id"] == ride_a
    assert warning["detail"] == "the vendor answered a ride another order holds; it is left alone"
    (failed,) = log.events("start_ride.step_failed")
    assert (failed["step"], failed["cause"], failed["reaction"]) == (
        "stale_meter_ride",
        "claimed_by_another_order",
        "FALLBACK",
    )
    assert "123456782" not in repr(log.capture.entries)

    # B's finish-ride cannot reach A's ride: B holds none.
    assert await gateway.finish_ride("alias-b", 50.00) == (
        409,
        {"code": "meter_ride_not_found", "message": "no meter ride was started for this order"},
    )
    assert sims.monitex.calls.to(MONITEX_STOP) == []
    # A's own retry still settles A's ride at A's price.
    assert await gateway.finish_ride("alias-a", 42.24) == (200, {"price": 42.24})
    assert len(sims.monitex.calls.to(MONITEX_STOP)) == 1
    assert not sims.monitex.rides[ride_a].is_open


async def test_a_redelivery_of_the_order_that_holds_the_ride_carries_on(
    world: RunningWorld, gateway: Gateway
) -> None:
    """A's own second run (its first stored nothing) gets A's ride back and stores it."""
    sims = world.sims
    sims.seed_ride(ORDER_A)
    sims.order_core.faults.add(Fault(SET_FIELDS, status=500, times=1))
    await gateway.start_ride("order-a")
    assert setcar_of(world, ORDER_A) == "false"
    (ride_a,) = sims.monitex.rides
    started_before = rides_started("started", "ok")

    await gateway.start_ride("order-a")

    assert list(sims.monitex.rides) == [ride_a]
    assert sims.order_core.order("order-a")["order"]["external_meter_ride_id"] == ride_a
    assert setcar_of(world, ORDER_A) == "true"
    assert rides_started("started", "ok") == started_before + 1
