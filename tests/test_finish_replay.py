"""Finish-ride retried and concurrent (docs/design.md §4 Retries), in the embedded default.

A priced request's repeat is answered the same 200 without a vendor call; requests arriving
together share one set of vendor calls; a refusal is never replayed; the replay is consulted
only after the request's own checks passed, and answers only a repeat of the request it was
priced for: after the order changed its fixed price or car, a retry is decided afresh.
"""

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.plugins.faults import Fault
from tests.calls import (
    GET_FIELDS,
    MONITEX_GET,
    MONITEX_STOP,
    OPTUMPLUS_SUBMIT,
    READ_ORDER,
    calls_made,
    expected,
)
from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.test_finish_ride import ISRAELI_RIDE, LATVIAN_RIDE, STOP_AND_READ, started_israeli_ride
from vendors.optumplus.simulator import Submission

PRICED = (200, {"price": 40.04})
# The meter's 40.00 against the fixed price 42.24, then against 30.00 ([24.00, 36.00]).
FORTY = (200, {"price": 40.0})
FORTY_AGAINST_THIRTY = (
    409,
    {"code": "meter_price_rejected", "message": "meter price 40.00 is outside [0.8, 1.2] x 30.0"},
)
FIXED_PRICE_MISMATCH = (
    400,
    {"code": "fixed_price_mismatch", "message": "price differs from the order's fixed price"},
)


def finished(vendor: str, country: str, result: str, reason: str) -> float:
    labels = {"vendor": vendor, "country": country, "result": result, "reason": reason}
    return REGISTRY.get_sample_value("meters_rides_finished_total", labels) or 0.0


def counts(vendor: str = "monitex", country: str = "IL") -> tuple[float, float]:
    return (
        finished(vendor, country, "priced", "ok"),
        finished(vendor, country, "replayed", "ok"),
    )


async def test_finish_ride_twice_stops_the_meter_once_and_answers_the_same(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_israeli_ride(world, gateway)
    priced, replayed = counts()

    assert await gateway.finish_ride("alias-il-1") == PRICED
    assert await gateway.finish_ride("alias-il-1") == PRICED

    # Both requests read the order and passed its checks; only the first reached the vendor.
    assert calls_made(world.sims) == {
        f"order_core {GET_FIELDS}": 2,
        f"monitex {MONITEX_STOP}": 1,
        f"monitex {MONITEX_GET}": 1,
    }
    assert counts() == (priced + 1, replayed + 1)


async def test_five_finish_rides_at_once_make_one_set_of_vendor_calls(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_israeli_ride(world, gateway)
    # The stop is slow enough for all five to arrive while it runs.
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, delay_ms=200, times=1))
    priced, replayed = counts()

    answers = await asyncio.gather(*(gateway.finish_ride("alias-il-1") for _ in range(5)))

    assert answers == [PRICED] * 5
    assert len(world.sims.monitex.calls.to(MONITEX_STOP)) == 1
    assert len(world.sims.monitex.calls.to(MONITEX_GET)) == 1
    assert counts() == (priced + 1, replayed + 4)


async def test_optumplus_twice_submits_the_price_once(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(LATVIAN_RIDE)

    first = await gateway.finish_ride("alias-lv-1", 42.24)
    second = await gateway.finish_ride("alias-lv-1", 42.24)

    assert first == second == (200, {"price": 42.24})
    assert len(world.sims.optumplus.calls.to(OPTUMPLUS_SUBMIT)) == 1


async def test_a_refused_finish_retried_is_tried_again(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_israeli_ride(world, gateway)
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=500, times=1))

    refused = await gateway.finish_ride("alias-il-1")
    retried = await gateway.finish_ride("alias-il-1")

    assert refused == (502, {"code": "vendor_error", "message": "monitex: vendor_error_status"})
    assert retried == PRICED
    assert len(world.sims.monitex.calls.to(MONITEX_STOP)) == 2


async def test_concurrent_requests_share_a_refusal_and_a_later_retry_tries_again(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_israeli_ride(world, gateway)
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=500, delay_ms=200, times=1))

    answers = await asyncio.gather(*(gateway.finish_ride("alias-il-1") for _ in range(3)))

    assert [status for status, _ in answers] == [502] * 3
    assert len(world.sims.monitex.calls.to(MONITEX_STOP)) == 1
    assert await gateway.finish_ride("alias-il-1") == PRICED
    assert len(world.sims.monitex.calls.to(MONITEX_STOP)) == 2


@pytest.mark.parametrize(
    ("price", "headers", "answer"),
    [
        pytest.param(
            50.00,
            None,
            (
                400,
                {
                    "code": "fixed_price_mismatch",
                    "message": "price differs from the order's fixed price",
                },
            ),
            id="wrong-price",
        ),
        pytest.param(
            42.24,
            {**ISRAELI_RIDE.driver_headers(), "X-YaTaxi-Driver-Profile-Id": "someone-else"},
            (404, {"code": "order_not_found", "message": "no such order"}),
            id="another-driver",
        ),
    ],
)
async def test_a_replay_is_answered_only_to_a_request_that_passes_its_own_checks(
    world: RunningWorld,
    gateway: Gateway,
    price: float,
    headers: dict[str, str] | None,
    answer: tuple[int, Any],
) -> None:
    await started_israeli_ride(world, gateway)
    assert await gateway.finish_ride("alias-il-1") == PRICED

    assert await gateway.finish_ride("alias-il-1", price, headers=headers) == answer
    assert len(world.sims.monitex.calls.to(MONITEX_STOP)) == 1


async def test_replay_off_calls_the_vendor_every_time(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    settings_tree["server"] = {"finish_ride_replay_s": 0}
    gateway = await make_gateway()
    await started_israeli_ride(world, gateway)

    assert await gateway.finish_ride("alias-il-1") == PRICED
    assert await gateway.finish_ride("alias-il-1") == PRICED

    assert len(world.sims.monitex.calls.to(MONITEX_STOP)) == 2


async def replay_answers_only_a_repeat_of_its_request(
    world: RunningWorld, pricing: Gateway, retrying: Gateway
) -> None:
    """Order il-1, its meter ride started at 40.00: priced on ``pricing``, retried on
    ``retrying`` (the same gateway, or another on the same Redis) before and after order-core
    re-prices it at 30.00."""
    priced, replayed = counts()
    rejected = finished("monitex", "IL", "refused", "meter_price_rejected")

    assert await pricing.finish_ride("alias-il-1", 42.24) == FORTY
    assert await retrying.finish_ride("alias-il-1", 42.24) == FORTY
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ, READ_ORDER)
    assert counts() == (priced + 1, replayed + 1)
    world.sims.forget_calls()

    world.sims.change_order("order-il-1", "order.fixed_price.price", 30.00)

    # Another request, against the order as it is now: decided afresh, and 40.00 is no
    # plausible price for 30.00. A refusal is not kept: its repeat is decided afresh too.
    assert await retrying.finish_ride("alias-il-1", 30.00) == FORTY_AGAINST_THIRTY
    assert await retrying.finish_ride("alias-il-1", 30.00) == FORTY_AGAINST_THIRTY
    # The first request again no longer matches the order.
    assert await retrying.finish_ride("alias-il-1", 42.24) == FIXED_PRICE_MISMATCH
    assert calls_made(world.sims) == expected(
        READ_ORDER, STOP_AND_READ, READ_ORDER, STOP_AND_READ, READ_ORDER
    )
    assert counts() == (priced + 1, replayed + 1)
    assert finished("monitex", "IL", "refused", "meter_price_rejected") == rejected + 2


async def test_a_replay_answers_only_a_repeat_of_its_request_against_the_order_as_it_is(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_israeli_ride(world, gateway, meter_agorot=4000)

    await replay_answers_only_a_repeat_of_its_request(world, gateway, gateway)


async def test_a_retry_after_the_order_changed_plate_is_priced_afresh(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_israeli_ride(world, gateway, meter_agorot=4000)
    priced, replayed = counts()
    assert await gateway.finish_ride("alias-il-1", 42.24) == FORTY

    world.sims.change_order("order-il-1", "order.performer.car_number", "98-765-43")

    assert await gateway.finish_ride("alias-il-1", 42.24) == FORTY
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ, READ_ORDER, STOP_AND_READ)
    assert counts() == (priced + 2, replayed)


async def test_a_retry_after_the_order_changed_car_is_neither_replayed_nor_stopped(
    world: RunningWorld, gateway: Gateway
) -> None:
    """Another car is another request (no replay), and the ride was started for the first car:
    it is stopped only for that car (docs/design.md §3a "A ride belongs to its driver and car")."""
    await started_israeli_ride(world, gateway, meter_agorot=4000)
    priced, replayed = counts()
    assert await gateway.finish_ride("alias-il-1", 42.24) == FORTY

    world.sims.change_order("order-il-1", "order.performer.car_id", "car2")

    assert await gateway.finish_ride("alias-il-1", 42.24) == (
        409,
        {
            "code": "meter_ride_not_found",
            "message": "no meter ride was started for this driver and car",
        },
    )
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ, READ_ORDER)
    assert counts() == (priced + 1, replayed)


@pytest.mark.parametrize(
    "moved",
    [
        pytest.param({"park_id": "park2"}, id="another-park"),
        pytest.param({"driver_profile_id": "driver2"}, id="another-driver"),
        pytest.param({"car_id": "car2"}, id="another-car"),
    ],
)
async def test_an_order_moved_to_another_driver_or_car_is_priced_afresh_for_them(
    world: RunningWorld, gateway: Gateway, moved: dict[str, str]
) -> None:
    """OptumPlus has no ride to check whose it is: only the replay's key tells the new
    performer's request from the first one's, and OptumPlus receives the price again."""
    world.sims.seed_ride(LATVIAN_RIDE)
    priced, replayed = counts("optumplus", "LV")
    assert await gateway.finish_ride("alias-lv-1", 42.24) == (200, {"price": 42.24})

    performer = replace(LATVIAN_RIDE, **moved)
    world.sims.seed_ride(performer)

    answer = await gateway.finish_ride("alias-lv-1", 42.24, headers=performer.driver_headers())

    assert answer == (200, {"price": 42.24})
    assert world.sims.optumplus.submissions == [Submission("LV-1234", 4224.0)] * 2
    assert counts("optumplus", "LV") == (priced + 2, replayed)


async def test_the_next_order_of_the_same_driver_car_and_price_is_not_answered_a_replay(
    world: RunningWorld, gateway: Gateway
) -> None:
    """Two orders alike in every other part of the replay's key: the second has its own ride
    stopped and its own meter's price."""
    await started_israeli_ride(world, gateway, meter_agorot=4000)
    assert await gateway.finish_ride("alias-il-1", 42.24) == FORTY
    world.sims.seed_ride(replace(ISRAELI_RIDE, order_id="order-il-2", alias_id="alias-il-2"))
    world.sims.monitex.set_meter_price(ISRAELI_RIDE.permit or "", 4100)
    await gateway.start_ride("order-il-2")
    assert len(world.sims.monitex.rides) == 2
    world.sims.forget_calls()
    priced, replayed = counts()

    assert await gateway.finish_ride("alias-il-2", 42.24) == (200, {"price": 41.0})
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ)
    assert counts() == (priced + 1, replayed)


async def test_an_order_routed_to_another_vendor_since_it_was_priced_is_priced_afresh(
    world: RunningWorld, gateway: Gateway
) -> None:
    """The same order, driver, car and prices, its zone now Latvia's: OptumPlus prices it in
    euros; the shekel price Monitex answered is not replayed."""
    await started_israeli_ride(world, gateway, meter_agorot=4000)
    assert await gateway.finish_ride("alias-il-1", 42.24) == FORTY
    world.sims.change_order("order-il-1", "order.nz", "riga")
    world.sims.forget_calls()

    assert await gateway.finish_ride("alias-il-1", 42.24) == (200, {"price": 42.24})
    assert world.sims.optumplus.submissions == [Submission(ISRAELI_RIDE.car_number, 4224.0)]
