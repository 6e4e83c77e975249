"""Finish-ride replay shared through the broker's Redis (docs/design.md §4 Retries): a retry
landing on another gateway is replayed, requests spread over gateways make one set of vendor
calls, and a Redis that fails or hangs only skips the replay."""

import asyncio
from typing import Any

import pytest

from gateway.sandbox.world import RideSeed
from tests.calls import OPTUMPLUS_SUBMIT
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.production.redis_server import RedisServer

LATVIAN_RIDE = RideSeed(
    order_id="order-lv-1", alias_id="alias-lv-1", zone="riga", car_number="LV-1", national_id=None
)
PRICED = (200, {"price": 42.24})


@pytest.fixture
def broker_url(own_redis: RedisServer) -> str:
    return own_redis.url


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
