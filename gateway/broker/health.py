"""Whether the broker can take tasks right now."""

import asyncio

from redis.asyncio import Redis
from taskiq import AsyncBroker
from taskiq_redis import RedisStreamBroker

PING_TIMEOUT_S = 1.0


async def broker_reachable(broker: AsyncBroker) -> bool:
    if not isinstance(broker, RedisStreamBroker):
        return True  # the in-memory broker lives in this process
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            async with Redis(connection_pool=broker.connection_pool) as redis:
                await redis.ping()
    except Exception:  # any failure to ping means "not ready"; the reason is in the broker's logs
        return False
    return True
