"""Redis stopped, restarted empty, or frozen: the gateway refuses to enqueue at once and says it
is not ready; gateway and worker carry on, without a restart, once Redis is back."""

import time
from typing import Any

import pytest

from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.observability.scrape import increase, labels, samples, scrape
from tests.production.redis_server import RedisServer
from tests.production.rides import enqueue, meter_flag, ride
from tests.production.stream import StreamProbe, eventually
from tests.production.workers import Workers

pytestmark = pytest.mark.timeout(60)

FIRST, SECOND, THIRD = ride(1), ride(2), ride(3)
# The bound for refusing an enqueue: about a second, never a hang.
FAIL_FAST_S = 2.0


@pytest.fixture
def broker_url(own_redis: RedisServer) -> str:
    return own_redis.url


async def refused_quickly(gateway: Gateway, order: Any) -> None:
    started = time.monotonic()
    status, body = await enqueue(gateway, order)
    assert (status, body["code"]) == (503, "broker_unavailable")
    assert time.monotonic() - started < FAIL_FAST_S


async def readiness(gateway: Gateway) -> tuple[int, int]:
    """The statuses of ``/ping`` (liveness) and ``/health`` (readiness)."""
    ping = await gateway.client.get("/ping")
    health = await gateway.client.get("/health")
    return ping.status, health.status


async def test_gateway_and_worker_carry_on_after_redis_restarts_empty(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
    own_redis: RedisServer,
) -> None:
    for order in (FIRST, SECOND):
        world.sims.seed_ride(order)
    worker = await workers.start("worker")
    gateway = await make_gateway()
    assert (await enqueue(gateway, FIRST))[0] == 202
    await eventually(probe.is_empty, 5, "the first task runs and is acknowledged")
    assert meter_flag(world.sims, FIRST) == "true"

    before = await scrape(gateway.client)
    own_redis.stop()

    await refused_quickly(gateway, SECOND)
    assert await readiness(gateway) == (200, 503)
    down = await scrape(gateway.client)
    assert increase(before, down, "meters_broker_enqueues_total") == {
        labels(result="unreachable"): 1
    }
    assert samples(down, "meters_broker_up") == {(): 0.0}

    own_redis.start()  # nothing persisted: no stream, no group

    assert (await enqueue(gateway, SECOND))[0] == 202
    await eventually(probe.is_empty, 15, "the second task runs and is acknowledged")
    assert meter_flag(world.sims, SECOND) == "true"
    assert await readiness(gateway) == (200, 200)
    back = await scrape(gateway.client)
    assert samples(back, "meters_broker_up") == {(): 1.0}
    assert increase(down, back, "meters_broker_reconnects_total") == {(): 1}
    assert worker.process.returncode is None
    assert len(worker.events("broker.group_lost")) >= 1
    assert len(worker.events("broker.reconnected")) == 1


async def test_enqueue_into_a_frozen_redis_fails_fast(
    production_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    own_redis: RedisServer,
) -> None:
    gateway = await make_gateway()
    assert (await enqueue(gateway, FIRST))[0] == 202

    # Connections are accepted, nothing is answered. (The XADD given up on sits in Redis's
    # socket buffer and runs on resume: a refused enqueue may still land, so a producer that
    # retries after a 503 can enqueue twice; the task tolerates a second delivery.)
    own_redis.freeze()
    try:
        await refused_quickly(gateway, SECOND)
        assert await readiness(gateway) == (200, 503)
    finally:
        own_redis.resume()

    assert (await enqueue(gateway, THIRD))[0] == 202
    assert await readiness(gateway) == (200, 200)


async def test_gateway_starts_while_redis_is_down(
    production_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    own_redis: RedisServer,
    probe: StreamProbe,
) -> None:
    own_redis.stop()

    gateway = await make_gateway()

    assert await readiness(gateway) == (200, 503)
    await refused_quickly(gateway, FIRST)
    own_redis.start()
    assert await readiness(gateway) == (200, 200)
    assert (await enqueue(gateway, FIRST))[0] == 202
    assert await probe.length() == 1
