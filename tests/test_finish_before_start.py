"""A finish-ride that arrives before its start has stored the ride (docs/design.md §3a "A finish
before the start"), in the embedded default.

The adversarial pass: Monitex's start took 1.5 s; the driver's finish at 0.5 s was answered
409 meter_ride_not_found (the driver keyed the price in); at 1.5 s the start stored the ride
and told the app the meter runs. The ride stayed open with nobody to close it.
"""

import pytest

import gateway.broker.start_ride_record as start_ride_record
import gateway.rides.start_ride as start_ride_module
from gateway.http.app import START_RIDE_PATH
from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GATHER,
    MONITEX_START,
    MONITEX_STOP,
    READ_ORDER,
    REREAD_ORDER,
    SET_FIELDS,
    VENDOR_START,
    calls_made,
    expected,
    setcar_values,
)
from tests.gateway_world import Gateway, RunningWorld
from tests.log_capture import capture_log_of
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.production.stream import eventually

ORDER = RideSeed(order_id="order-a", alias_id="alias-a", fixed_price=42.24)
# Below the vendor's 1000 ms timeout in the test settings: the start succeeds, late.
SLOW_START_MS = 600
SLOW_STORE_MS = 300
# The finish-ride's own order read (by alias id).
FINISH_READ = READ_ORDER


async def finish_while_the_start_waits_on_the_vendor(world: RunningWorld, gateway: Gateway) -> None:
    """Enqueue the start; once its vendor call is in flight, the driver finishes the ride."""
    response = await gateway.client.post(START_RIDE_PATH, json={"order_id": ORDER.order_id})
    assert response.status == 202
    await eventually(
        lambda: bool(world.sims.monitex.calls.to(MONITEX_START)), 5.0, "the vendor is asked"
    )
    assert await gateway.finish_ride("alias-a", 42.24) == (
        409,
        {"code": "meter_ride_not_found", "message": "no meter ride was started for this order"},
    )
    await gateway.wait_for_tasks()


async def test_a_start_landing_after_the_finish_was_refused_neither_stores_nor_announces(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(ORDER)
    world.sims.monitex.faults.add(Fault(MONITEX_START, delay_ms=SLOW_START_MS, times=1))
    log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)

    await finish_while_the_start_waits_on_the_vendor(world, gateway)

    # The orphan rule reads the order again: holding no ride id, the ride is this run's to end.
    assert calls_made(world.sims) == expected(
        READ_ORDER, GATHER, VENDOR_START, FINISH_READ, REREAD_ORDER
    )
    assert world.sims.order_core.calls.to(SET_FIELDS) == []
    assert setcar_values(world.sims) == []
    (finished,) = log.events("start_ride.finished")
    assert (finished["result"], finished["reason"]) == ("ended", "finish_came_first")
    assert finished["failed_steps"] == [
        {
            "step": "finish_came_first",
            "cause": "finish_found_no_ride",
            "reaction": "END_AND_CANCEL_RIDE",
        }
    ]
    # Monitex cannot cancel, and its start is idempotent, so the orphan is left for a person.
    (ride_id,) = world.sims.monitex.rides
    assert world.sims.monitex.rides[ride_id].is_open
    (left,) = log.events("start_ride.orphaned_ride_left_running")
    assert left["ride_id"] == ride_id


async def test_a_vendor_that_can_cancel_ends_the_ride_the_late_start_made(
    world: RunningWorld, cancellable_gateway: Gateway
) -> None:
    world.sims.seed_ride(ORDER)
    world.sims.monitex.faults.add(Fault(MONITEX_START, delay_ms=SLOW_START_MS, times=1))

    await finish_while_the_start_waits_on_the_vendor(world, cancellable_gateway)

    (ride_id,) = world.sims.monitex.rides
    assert CancellableMonitex.cancelled == [ride_id]
    assert setcar_values(world.sims) == []
    assert world.sims.monitex.calls.to(MONITEX_STOP) == []


async def test_a_start_after_the_finish_was_refused_asks_no_vendor(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ORDER)
    assert (await gateway.finish_ride("alias-a", 42.24))[0] == 409
    world.sims.forget_calls()

    await gateway.start_ride(ORDER.order_id)

    assert calls_made(world.sims) == expected(READ_ORDER)
    assert world.sims.monitex.rides == {}


async def test_a_finish_refused_while_the_ride_id_was_being_stored_leaves_the_app_untold(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finish lands between the start's last check and its write: the order holds the ride
    now, so it is no orphan and nothing ends it; no meter is announced to a driver who keyed
    the price in, and a retried finish stops the ride."""
    world.sims.seed_ride(ORDER)
    world.sims.monitex.set_meter_price(ORDER.permit or "", 4224)
    # Below the upstream calls' 500 ms timeout: the write lands, late.
    world.sims.order_core.faults.add(Fault(SET_FIELDS, delay_ms=SLOW_STORE_MS, times=1))
    log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)

    response = await gateway.client.post(START_RIDE_PATH, json={"order_id": ORDER.order_id})
    assert response.status == 202
    await eventually(
        lambda: bool(world.sims.order_core.calls.to(SET_FIELDS)), 5.0, "the ride id is written"
    )
    assert await gateway.finish_ride("alias-a", 42.24) == (
        409,
        {"code": "meter_ride_not_found", "message": "no meter ride was started for this order"},
    )
    await gateway.wait_for_tasks()

    (finished,) = log.events("start_ride.finished")
    assert (finished["result"], finished["reason"]) == ("ended", "finish_came_first")
    assert finished["failed_steps"] == [
        {
            "step": "finish_came_first",
            "cause": "finish_found_no_ride",
            "reaction": "END_AND_CANCEL_RIDE",
        }
    ]
    assert setcar_values(world.sims) == []
    (ride_id,) = world.sims.monitex.rides
    assert world.sims.order_core.order("order-a")["order"]["external_meter_ride_id"] == ride_id
    assert log.events("start_ride.orphaned_ride_left_running") == []
    assert await gateway.finish_ride("alias-a", 42.24) == (200, {"price": 42.24})
    assert not world.sims.monitex.rides[ride_id].is_open
