"""Whether the broker can take tasks right now, and since when that has been so."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AsyncBroker

from gateway.broker.redis_streams import ReliableStreamBroker

PING_TIMEOUT_S = 1.0
_STARTED_AT = datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BrokerHealth:
    reachable: bool
    # When this process last saw the broker change between reachable and unreachable.
    since: datetime


async def broker_health(broker: AsyncBroker) -> BrokerHealth:
    if not isinstance(broker, ReliableStreamBroker):
        return BrokerHealth(True, _STARTED_AT)  # the in-memory broker lives in this process
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            async with Redis(connection_pool=broker.connection_pool) as redis:
                await redis.ping()
    except (RedisError, TimeoutError, OSError):
        broker.link.mark_down()
    else:
        broker.link.mark_up()
    return BrokerHealth(broker.link.up is True, broker.link.since)
