"""Finish-ride replay shared through the broker's Redis (docs/design.md §4 Retries): a retry
landing on another gateway is replayed, requests spread over gateways make one set of vendor
calls, a Redis that fails or hangs only skips the replay, orders whose ids hold the key's
separator are priced apart, and a replay answers only a repeat of the request it was priced
for."""

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from gateway.http.app_keys import SERVICES
from gateway.rides.start_ride import StartOutcome, StartResult, start_ride
from gateway.sandbox.world import RideSeed
from tests.calls import MONITEX_STOP, OPTUMPLUS_SUBMIT, READ_ORDER, calls_made, expected, only_call
from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.production.redis_server import RedisServer
from tests.production.rides import ride
from tests.test_finish_replay import replay_answers_only_a_repeat_of_its_request
from tests.test_finish_ride import ISRAELI_RIDE, STOP_AND_READ

LATVIAN_RIDE = RideSeed(
    order_id="order-lv-1", alias_id="alias-lv-1", zone="riga", car_number="LV-1", national_id=None
)
PRICED = (200, {"price": 42.24})


@pytest.fixture
def broker_url(own_redis: RedisServer) -> str:
    return own_redis.url


async def started_monitex_ride(
    world: RunningWorld, gateway: Gateway, seed: RideSeed, meter_agorot: int
) -> str:
    """Seed the order, run its start-ride task on the gateway's own services (the ledger and
    the lease in Redis), and forget the calls that made; answers the meter ride's id."""
    world.sims.seed_ride(seed)
    world.sims.monitex.set_meter_price(seed.permit or "", meter_agorot)
    outcome = await start_ride(
        seed.order_id, gateway.client.app[SERVICES].ports, last_delivery=False
    )
    assert outcome == StartOutcome(StartResult.STARTED, "ok", "monitex", "IL")
    world.sims.forget_calls()
    (ride_id,) = [
        meter.id
        for meter in world.sims.monitex.rides.values()
        if meter.vehicle_license == seed.permit
    ]
    return ride_id


async def test_a_retry_on_another_gateway_is_replayed(
    world: RunningWorld, production_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    world.sims.seed_ride(LATVIAN_RIDE)
    first, second = await make_gateway(), await make_gateway()

    assert await first.finish_ride("alias-lv-1") == PRICED
    assert await second.finish_ride("alias-lv-1") == PRICED

    assert len(world.sims.optumplus.calls.to(OPTUMPLUS_SUBMIT)) == 1


async def test_five_at_once_on_two_gateways_submit_once(
    world: RunningWorld, production_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    world.sims.seed_ride(LATVIAN_RIDE)
    gateways = [await make_gateway(), await make_gateway()]

    answers = await asyncio.gather(*(gateways[n % 2].finish_ride("alias-lv-1") for n in range(5)))

    assert answers == [PRICED] * 5
    assert len(world.sims.optumplus.calls.to(OPTUMPLUS_SUBMIT)) == 1


@pytest.mark.parametrize("fault", ["stopped", "frozen"])
async def test_a_failing_redis_skips_the_replay_and_never_fails_the_request(
    world: RunningWorld,
    production_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    own_redis: RedisServer,
    fault: str,
) -> None:
    world.sims.seed_ride(LATVIAN_RIDE)
    gateway = await make_gateway()
    if fault == "stopped":
        own_redis.stop()
    else:
        own_redis.freeze()

    assert await gateway.finish_ride("alias-lv-1") == PRICED
    assert await gateway.finish_ride("alias-lv-1") == PRICED

    # Without the shared record each request prices on its own.
    assert len(world.sims.optumplus.calls.to(OPTUMPLUS_SUBMIT)) == 2
    own_redis.resume()


async def test_orders_whose_ids_joined_bare_meet_are_priced_apart(
    world: RunningWorld, production_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    # Joined bare with ":", order, park and driver made one key, monitex:col:pk:1:drv, for both.
    order_x = replace(ride(1), alias_id="col", park_id="pk:1", driver_profile_id="drv")
    order_y = replace(ride(2), alias_id="col:pk", park_id="1", driver_profile_id="drv")
    gateway = await make_gateway()
    await started_monitex_ride(world, gateway, order_x, meter_agorot=4000)
    ride_y = await started_monitex_ride(world, gateway, order_y, meter_agorot=4100)

    assert await gateway.finish_ride("col", headers=order_x.driver_headers()) == (
        200,
        {"price": 40.0},
    )
    world.sims.forget_calls()
    answer_y = await gateway.finish_ride("col:pk", headers=order_y.driver_headers())

    # Y's own meter ride is stopped and Y is answered its own price, not X's replay.
    assert answer_y == (200, {"price": 41.0})
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ)
    assert only_call(world.sims, "monitex", MONITEX_STOP).path == f"/rides/{ride_y}"
    assert not world.sims.monitex.rides[ride_y].is_open


async def test_a_replay_on_redis_answers_only_a_repeat_of_its_request(
    world: RunningWorld, production_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    first, second = await make_gateway(), await make_gateway()
    await started_monitex_ride(world, first, ISRAELI_RIDE, meter_agorot=4000)

    await replay_answers_only_a_repeat_of_its_request(world, first, second)
