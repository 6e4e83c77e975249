"""The per-order run lease (docs/design.md §3a): one start-ride run per order at a time.

Several deliveries of the task for one order may arrive together on different workers. The
first takes the order's lease; the others see it taken and end at once, calling nothing. The
lease lives where the broker lives and only as long as its run:

- its expiry is at most a third of ``broker.redelivery_timeout_ms``, and the run renews it
  every third of that expiry, so a crashed run's lease is gone long before its delivery is
  handed to another worker;
- it is released by its holder only (compare-and-delete on a random token), when the run ends
  or is cancelled, which is before a stopping worker hands its entries back;
- a renewal that fails (Redis unreachable, or the lease no longer ours) marks the lease lost,
  and the run checks it before each side effect, so it stops before the next one.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.coordination.redis_keys import redis_key
from gateway.rides.ports import Lease, LeaseUnavailable, OrderLease

KEY_NAMESPACE = "meters:order_lease"
RENEWALS_PER_EXPIRY = 3

log = structlog.get_logger("gateway.coordination")


def lease_expiry_ms(redelivery_timeout_ms: int) -> int:
    return max(1, redelivery_timeout_ms // 3)


class InProcessOrderLease(OrderLease):
    """The embedded default's lease: every run is in this process, so a set of orders does."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    @asynccontextmanager
    async def hold(self, order_id: str) -> AsyncIterator[Lease | None]:
        if order_id in self._held:
            yield None
            return
        self._held.add(order_id)
        try:
            yield Lease()
        finally:
            self._held.discard(order_id)


_RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisOrderLease(OrderLease):
    """The production lease: ``SET key token NX PX expiry`` in the broker's Redis."""

    def __init__(self, redis: Redis, expiry_ms: int) -> None:
        self._redis = redis
        self._expiry_ms = expiry_ms
        self._expiry_s = expiry_ms / 1000

    @asynccontextmanager
    async def hold(self, order_id: str) -> AsyncIterator[Lease | None]:
        key = redis_key(KEY_NAMESPACE, order_id)
        token = uuid.uuid4().hex
        sent = time.monotonic()
        try:
            taken = await self._redis.set(key, token, nx=True, px=self._expiry_ms)
        except RedisError as error:
            raise LeaseUnavailable(f"{type(error).__name__}: {error}") from error
        if not taken:
            yield None
            return
        lease = Lease(valid_until=sent + self._expiry_s)
        renewing = asyncio.create_task(self._keep_renewed(lease, key, token))
        try:
            yield lease
        finally:
            renewing.cancel()
            with suppress(asyncio.CancelledError):
                await renewing
            await self._release(key, token)

    async def _keep_renewed(self, lease: Lease, key: str, token: str) -> None:
        interval_s = self._expiry_s / RENEWALS_PER_EXPIRY
        while True:
            await asyncio.sleep(interval_s)
            sent = time.monotonic()
            try:
                # A renewal slower than its interval is no renewal: the next one is due.
                async with asyncio.timeout(interval_s):
                    renewed = await self._redis.eval(_RENEW_SCRIPT, 1, key, token, self._expiry_ms)
            except (RedisError, TimeoutError) as error:
                why = f"renewal failed: {type(error).__name__}: {error}"
            else:
                if renewed:
                    lease.renewed(sent + self._expiry_s)
                    continue
                why = "the lease expired before it was renewed"
            log.warning("order_lease.lost", cause=why)
            lease.lose(why)
            return

    async def _release(self, key: str, token: str) -> None:
        try:
            await self._redis.eval(_RELEASE_SCRIPT, 1, key, token)
        except RedisError as error:
            # It expires on its own within a third of the redelivery timeout.
            log.warning("order_lease.release_failed", error=f"{type(error).__name__}: {error}")
