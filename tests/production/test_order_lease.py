"""The order lease when its Redis stops answering mid-run (docs/design.md §3a): the run holds it
no longer than its expiry, whatever the renewals are doing."""

import asyncio
import time

import pytest
from redis.asyncio import Redis

from gateway.coordination.order_lease import KEY_NAMESPACE, RedisOrderLease
from gateway.coordination.redis_keys import redis_key
from gateway.rides.ports import Lease, LeaseLost
from tests.production.redis_server import RedisServer

EXPIRY_MS = 300
SOCKET_TIMEOUT_S = 5


@pytest.mark.timeout(30)
async def test_a_lease_whose_redis_hangs_is_lost_by_its_expiry(own_redis: RedisServer) -> None:
    async with Redis(port=own_redis.port, socket_timeout=SOCKET_TIMEOUT_S) as redis:
        lease_store = RedisOrderLease(redis, EXPIRY_MS)
        async with lease_store.hold("order-1") as lease:
            assert lease is not None
            taken_at = time.monotonic()
            lease.ensure_held()
            own_redis.freeze()  # renewals hang: none is ever confirmed
            try:
                with pytest.raises(LeaseLost):
                    await _held_until_lost(lease)
                # By its expiry, not when the hung renewal finally fails at the client's 5 s
                # socket timeout (long after another run could have taken the order).
                assert time.monotonic() - taken_at < SOCKET_TIMEOUT_S / 2
            finally:
                own_redis.resume()


async def _held_until_lost(lease: Lease) -> None:
    while True:
        lease.ensure_held()
        await asyncio.sleep(0.01)


@pytest.mark.timeout(30)
async def test_a_run_held_up_past_the_expiry_no_longer_holds_its_lease(
    own_redis: RedisServer,
) -> None:
    async with Redis(port=own_redis.port) as redis:
        lease_store = RedisOrderLease(redis, EXPIRY_MS)
        async with lease_store.hold("order-1") as lease:
            assert lease is not None
            # The event loop held up (a long GC pause, a blocking library call): no renewal
            # could run meanwhile, and the key has expired in Redis.
            time.sleep(EXPIRY_MS / 1000 * 1.5)  # noqa: ASYNC251
            with pytest.raises(LeaseLost):
                lease.ensure_held()
            # Another run may take the order now.
            assert await redis.set(redis_key(KEY_NAMESPACE, "order-1"), "other", nx=True, px=1000)


async def test_orders_whose_ids_differ_only_in_an_encoded_separator_hold_leases_apart(
    own_redis: RedisServer,
) -> None:
    async with Redis(port=own_redis.port) as redis:
        lease_store = RedisOrderLease(redis, EXPIRY_MS)
        async with lease_store.hold("col:pk") as one, lease_store.hold("col%3Apk") as other:
            assert one is not None
            assert other is not None
