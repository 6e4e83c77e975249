"""Finishes that came before their start (docs/design.md §3a "A finish before the start").

A vendor's start can take longer than the ride: the driver's finish-ride arrives, finds no ride
id on the order, is answered ``409 meter_ride_not_found`` and the driver keys the price in.
When the start then lands, storing the ride and telling the app the meter runs would leave a
ride nobody closes, and the driver's next order would meet it as a stale ride. So such a finish
leaves a mark where the lease lives, and a start run that sees it neither stores nor announces.

Best effort on both sides: a Redis error skips the mark or the check (logged), as before this
guard existed; it never fails a finish-ride or a start.
"""

import asyncio
import time

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.coordination.redis_keys import redis_key
from gateway.rides.ports import FinishedFirst

# Beside the order lease (the same concern: who may act on the order now).
KEY_NAMESPACE = "meters:order_lease_finished_first"
# Longer than any start-ride task waits in a backlog; by then order-core has finished the order
# and the start skips it as no longer active anyway.
RETENTION_S = 24 * 3600
REDIS_BUDGET_S = 0.1

log = structlog.get_logger("gateway.coordination")


class InProcessFinishedFirst(FinishedFirst):
    def __init__(self) -> None:
        self._marks: dict[tuple[str, str], float] = {}

    async def record(self, vendor: str, alias_id: str) -> None:
        now = time.monotonic()
        for stale in [key for key, until in self._marks.items() if until <= now]:
            del self._marks[stale]
        self._marks[(vendor, alias_id)] = now + RETENTION_S

    async def came_first(self, vendor: str, alias_id: str) -> bool:
        return self._marks.get((vendor, alias_id), 0.0) > time.monotonic()


class RedisFinishedFirst(FinishedFirst):
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def record(self, vendor: str, alias_id: str) -> None:
        try:
            async with asyncio.timeout(REDIS_BUDGET_S):
                await self._redis.set(_key(vendor, alias_id), 1, ex=RETENTION_S)
        except (RedisError, TimeoutError) as error:
            log.warning("finished_first.redis_skipped", error=type(error).__name__)

    async def came_first(self, vendor: str, alias_id: str) -> bool:
        try:
            async with asyncio.timeout(REDIS_BUDGET_S):
                return bool(await self._redis.exists(_key(vendor, alias_id)))
        except (RedisError, TimeoutError) as error:
            log.warning("finished_first.redis_skipped", error=type(error).__name__)
            return False


def _key(vendor: str, alias_id: str) -> str:
    return redis_key(KEY_NAMESPACE, vendor, alias_id)
