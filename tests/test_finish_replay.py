"""Finish-ride retried and concurrent (docs/design.md §4 Retries), in the embedded default.

A priced order's repeated finish-ride is answered the same 200 without a vendor call; requests
arriving together share one set of vendor calls; a refusal is never replayed; the replay is
consulted only after the request's own checks passed.
"""

import asyncio
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.sandbox.faults import Fault
from tests.calls import GET_FIELDS, MONITEX_GET, MONITEX_STOP, OPTUMPLUS_SUBMIT, calls_made
from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.test_finish_ride import ISRAELI_RIDE, LATVIAN_RIDE, started_israeli_ride

PRICED = (200, {"price": 40.04})


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
