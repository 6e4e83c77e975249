"""Rides whose id the gateway never learnt, and rides stored for another driver (docs/design.md
§3a "A start whose answer was lost", "A ride belongs to its driver and car"), in the embedded
default.

Monitex's start is idempotent per driver and vehicle: while a ride is open for the driver, any
start answers it. A start whose answer is lost after Monitex made the ride leaves that ride
open and, unless the gateway learns its id, the driver's next order adopts it and is answered
the first order's meter.
"""

from typing import Any

import pytest
from prometheus_client import REGISTRY

import gateway.broker.start_ride_record as start_ride_record
import gateway.rides.finish_ride as finish_ride_module
import gateway.rides.start_ride as start_ride_module
from gateway.http.app_keys import SERVICES
from gateway.plugins.faults import Fault
from gateway.rides.ports import Services
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GATHER,
    MONITEX_START,
    MONITEX_STOP,
    READ_ORDER,
    STORE,
    TELL_APP,
    VENDOR_START,
    calls_made,
    expected,
)
from tests.coordination_doubles import UnavailableRideLedger
from tests.gateway_world import Gateway, RunningWorld
from tests.log_capture import capture_log_of
from vendors.monitex.simulator import RideState

ORDER_A = RideSeed(order_id="order-a", alias_id="alias-a", fixed_price=42.24)
# The same driver and car, their next order, at another price.
ORDER_B = RideSeed(order_id="order-b", alias_id="alias-b", fixed_price=40.00)
LABELS = {"vendor": "monitex", "country": "IL"}


def counted(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, {**LABELS, **labels}) or 0.0


def setcar_of(world: RunningWorld, seed: RideSeed) -> Any:
    return world.sims.driver_orders_builder.setcar_value(
        seed.alias_id, seed.park_id, seed.driver_profile_id
    )


def stored_ride(world: RunningWorld, order_id: str) -> Any:
    return world.sims.order_core.order(order_id)["order"].get("external_meter_ride_id")


@pytest.mark.parametrize(
    "lost",
    [
        pytest.param(Fault(MONITEX_START, body="truncated", times=1), id="truncated"),
        pytest.param(Fault(MONITEX_START, body="malformed", times=1), id="proxy-page"),
        pytest.param(Fault(MONITEX_START, delay_ms=1500, times=1), id="late"),
    ],
)
async def test_a_start_whose_answer_was_lost_asks_again_and_keeps_the_ride_it_made(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch, lost: Fault
) -> None:
    sims = world.sims
    sims.seed_ride(ORDER_A)
    sims.monitex.set_meter_price("PERMIT-7", 4224)
    sims.monitex.faults.add(lost)
    log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)
    started_before = counted("meters_rides_started_total", result="started", reason="ok")

    await gateway.start_ride("order-a")

    # Monitex made the ride at the first start; the second answered that same ride.
    (ride_a,) = sims.monitex.rides
    assert calls_made(sims) == expected(
        READ_ORDER, GATHER, VENDOR_START, VENDOR_START, STORE, TELL_APP
    )
    assert stored_ride(world, "order-a") == ride_a
    assert setcar_of(world, ORDER_A) == "true"
    assert counted("meters_rides_started_total", result="started", reason="ok") == (
        started_before + 1
    )
    (line,) = log.events("start_ride.finished")
    assert (line["result"], line["reason"], line["ride_id"]) == ("started", "ok", ride_a)
    assert line["start_asked_again"] in {"vendor_malformed_response", "vendor_timeout"}
    (asked_again,) = log.events("start_ride.vendor_asked_again")
    assert (asked_again["log_level"], asked_again["cause"]) == ("debug", line["start_asked_again"])
    assert "unsettled_start_marked" not in line
    # A's finish settles A's own ride at A's meter.
    assert await gateway.finish_ride("alias-a", 42.24) == (200, {"price": 42.24})


async def test_a_start_lost_twice_marks_the_driver_and_the_next_order_never_gets_its_ride(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adversarial pass's path: A's ride made, its answer lost; B (40.00) was answered
    A's ride and its finish answered 42.24, A's meter and A's price limit."""
    sims = world.sims
    sims.seed_ride(ORDER_A)
    sims.seed_ride(ORDER_B)
    sims.monitex.set_meter_price("PERMIT-7", 4224)
    sims.monitex.faults.add(Fault(MONITEX_START, body="truncated", times=2))
    log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)
    unsettled_before = counted("meters_unsettled_starts_total")
    stale_before = counted("meters_stale_meter_rides_total")

    await gateway.start_ride("order-a")

    # §3's vendor-failure row still holds for A: setcar false and the push, A not written.
    (ride_a,) = sims.monitex.rides
    assert calls_made(sims) == expected(READ_ORDER, GATHER, VENDOR_START, VENDOR_START, TELL_APP)
    assert stored_ride(world, "order-a") is None
    assert setcar_of(world, ORDER_A) == "false"
    assert counted("meters_unsettled_starts_total") == unsettled_before + 1
    (line,) = log.events("start_ride.finished")
    assert (line["log_level"], line["order_id"], line["result"], line["reason"]) == (
        "warning",
        "order-a",
        "fallback",
        "vendor_start_failed",
    )
    assert line["start_asked_again"] == "vendor_malformed_response"
    assert line["unsettled_start_marked"] is True
    sims.forget_calls()

    await gateway.start_ride("order-b")

    # Monitex answered B the ride A's start made: it is A's, B falls back and is not written.
    assert list(sims.monitex.rides) == [ride_a]
    assert calls_made(sims) == expected(READ_ORDER, GATHER, VENDOR_START, TELL_APP)
    assert stored_ride(world, "order-b") is None
    assert setcar_of(world, ORDER_B) == "false"
    assert counted("meters_stale_meter_rides_total") == stale_before + 1
    (stale,) = log.events("start_ride.stale_meter_ride")
    assert (stale["order_id"], stale["holding_order_id"], stale["ride_id"]) == (
        "order-b",
        "order-a",
        ride_a,
    )
    assert "123456782" not in repr(log.capture.entries)
    # B's finish reaches no ride: never A's meter.
    assert await gateway.finish_ride("alias-b", 40.00) == (
        409,
        {"code": "meter_ride_not_found", "message": "no meter ride was started for this order"},
    )
    assert sims.monitex.calls.to(MONITEX_STOP) == []
    assert sims.monitex.rides[ride_a].is_open


async def test_the_mark_ends_with_the_next_answer_so_later_orders_start_again(
    world: RunningWorld, gateway: Gateway
) -> None:
    """One lost answer does not make every later order of the driver fall back: once a person
    closed the ride the mark pointed at, the next order starts its own."""
    sims = world.sims
    order_c = RideSeed(order_id="order-c", alias_id="alias-c", fixed_price=30.00)
    for seed in (ORDER_A, ORDER_B, order_c):
        sims.seed_ride(seed)
    sims.monitex.faults.add(Fault(MONITEX_START, body="truncated", times=2))
    await gateway.start_ride("order-a")
    await gateway.start_ride("order-b")  # answered A's ride: stale, and the mark is gone
    (ride_a,) = sims.monitex.rides
    sims.monitex.rides[ride_a].state = RideState.COMPLETED  # settled by a person

    await gateway.start_ride("order-c")

    (ride_c,) = [ride for ride in sims.monitex.rides if ride != ride_a]
    assert stored_ride(world, "order-c") == ride_c
    assert setcar_of(world, order_c) == "true"


async def test_a_start_refused_with_a_4xx_is_not_asked_again_and_marks_nobody(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    sims = world.sims
    sims.seed_ride(ORDER_A)
    sims.seed_ride(ORDER_B)
    sims.monitex.faults.add(Fault(MONITEX_START, status=401, times=1))
    log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)

    await gateway.start_ride("order-a")
    await gateway.start_ride("order-b")

    # A 401 says nothing was started: A falls back after one call; B starts its own ride.
    assert len(sims.monitex.calls.to(MONITEX_START)) == 2
    assert [line.get("unsettled_start_marked") for line in log.events("start_ride.finished")] == [
        None,
        None,
    ]
    (ride_b,) = sims.monitex.rides
    assert stored_ride(world, "order-a") is None
    assert stored_ride(world, "order-b") == ride_b


async def test_a_later_run_whose_start_surely_failed_leaves_the_mark_an_earlier_run_left(
    world: RunningWorld, gateway: Gateway
) -> None:
    """Found by the simulation: A's first run lost its answer twice (A's ride made, the driver
    marked); A's task ran again and Monitex refused it with a 401. That refusal says nothing
    about the first run's ride, so the mark stays and B is not answered A's ride as its own."""
    sims = world.sims
    sims.seed_ride(ORDER_A)
    sims.seed_ride(ORDER_B)
    sims.monitex.faults.add(Fault(MONITEX_START, body="truncated", times=2))
    await gateway.start_ride("order-a")
    (ride_a,) = sims.monitex.rides
    sims.monitex.faults.add(Fault(MONITEX_START, status=401, times=1))
    unsettled_before = counted("meters_unsettled_starts_total")
    await gateway.start_ride("order-a")
    # The driver stays marked, and the run says so.
    assert counted("meters_unsettled_starts_total") == unsettled_before + 1
    stale_before = counted("meters_stale_meter_rides_total")

    await gateway.start_ride("order-b")

    # Monitex answered B the ride A's first run made: held for A, B falls back.
    assert list(sims.monitex.rides) == [ride_a]
    assert stored_ride(world, "order-a") is None
    assert stored_ride(world, "order-b") is None
    assert setcar_of(world, ORDER_B) == "false"
    assert counted("meters_stale_meter_rides_total") == stale_before + 1


def reassigned(seed: RideSeed, ride_id: str) -> RideSeed:
    """The order, now performed by another driver in another car; order-core kept the ride id."""
    return RideSeed(
        order_id=seed.order_id,
        alias_id=seed.alias_id,
        fixed_price=seed.fixed_price,
        park_id="park1",
        driver_profile_id="driver2",
        car_id="car2",
        national_id="987654321",
        permit="PERMIT-9",
        external_meter_ride_id=ride_id,
    )


async def test_a_ride_stored_for_another_driver_is_never_reused_or_stopped_for_this_one(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    sims = world.sims
    sims.seed_ride(ORDER_A)
    sims.monitex.set_meter_price("PERMIT-7", 4224)
    await gateway.start_ride("order-a")
    (ride_1,) = sims.monitex.rides
    moved = reassigned(ORDER_A, ride_1)
    sims.seed_ride(moved)
    sims.forget_calls()
    start_log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)
    finish_log = capture_log_of(monkeypatch, finish_ride_module)
    fallbacks_before = counted(
        "meters_rides_started_total", result="fallback", reason="meter_ride_of_another_performer"
    )

    await gateway.start_ride("order-a")

    # Driver 2's app is told to key the price in; driver 1's ride is left alone.
    assert calls_made(sims) == expected(READ_ORDER, TELL_APP)
    assert setcar_of(world, moved) == "false"
    assert sims.monitex.rides[ride_1].is_open
    assert counted(
        "meters_rides_started_total", result="fallback", reason="meter_ride_of_another_performer"
    ) == (fallbacks_before + 1)
    (warning,) = start_log.events("start_ride.meter_ride_of_another_performer")
    assert (warning["log_level"], warning["ride_id"], warning["detail"]) == (
        "warning",
        ride_1,
        "the order holds a ride started for another driver or car; it is left alone",
    )
    (line,) = start_log.events("start_ride.finished")
    assert line["failed_steps"] == [
        {
            "step": "meter_ride_of_another_performer",
            "cause": "started_for_another_performer",
            "reaction": "FALLBACK",
        }
    ]

    # Driver 2's finish never stops driver 1's meter.
    assert await gateway.finish_ride("alias-a", 42.24, headers=moved.driver_headers()) == (
        409,
        {
            "code": "meter_ride_not_found",
            "message": "no meter ride was started for this driver and car",
        },
    )
    assert sims.monitex.calls.to(MONITEX_STOP) == []
    (refused,) = finish_log.events("finish_ride.meter_ride_of_another_performer")
    assert (refused["log_level"], refused["ride_id"], refused["detail"]) == (
        "warning",
        ride_1,
        "the order holds a ride started for another driver or car",
    )


async def test_a_finish_whose_ride_ledger_cannot_be_read_stops_nothing(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    sims = world.sims
    sims.seed_ride(ORDER_A)
    await gateway.start_ride("order-a")
    # The broker's Redis, where the ledger lives, is out of reach.
    services: Services = gateway.client.app[SERVICES]
    monkeypatch.setattr(services.ports.ride_ledger, "record_of", UnavailableRideLedger().record_of)

    answer = await gateway.finish_ride("alias-a", 42.24)

    assert answer == (
        503,
        {"code": "ride_ledger_unavailable", "message": "whom the meter ride belongs to is unknown"},
    )
    assert sims.monitex.calls.to(MONITEX_STOP) == []
