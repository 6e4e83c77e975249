"""What the task stream and its consumer group hold, read straight from Redis."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from gateway.broker.redis_streams import CONSUMER_GROUP

POLL_INTERVAL_S = 0.02


@dataclass(frozen=True, slots=True)
class PendingEntry:
    entry_id: bytes
    consumer: str
    idle_ms: int
    deliveries: int


def pid_of(consumer: str) -> int:
    """Worker consumers are named ``host:pid:random``."""
    return int(consumer.split(":")[1])


class StreamProbe:
    def __init__(self, redis: Redis, stream: str) -> None:
        self.redis = redis
        self.stream = stream

    async def length(self) -> int:
        return await self.redis.xlen(self.stream)

    async def is_empty(self) -> bool:
        """Every task enqueued so far has run and been acknowledged."""
        return await self.length() == 0

    async def entry_ids(self) -> list[bytes]:
        entries: Any = await self.redis.xrange(self.stream)
        return [entry_id for entry_id, _fields in entries]

    async def pending(self) -> list[PendingEntry]:
        """The group's pending entries list; empty when there is no group (yet)."""
        try:
            # redis-py types every field as bytes | str | int; their shapes are fixed.
            found: list[dict[str, Any]] = await self.redis.xpending_range(
                self.stream, CONSUMER_GROUP, "-", "+", 1000
            )
        except ResponseError:
            return []
        return [
            PendingEntry(
                entry_id=entry["message_id"],
                consumer=entry["consumer"].decode(),
                idle_ms=entry["time_since_delivered"],
                deliveries=entry["times_delivered"],
            )
            for entry in found
        ]

    async def consumers(self) -> list[str]:
        try:
            found = await self.redis.xinfo_consumers(self.stream, CONSUMER_GROUP)
        except ResponseError:
            return []
        return sorted(consumer["name"].decode() for consumer in found)

    async def consumer_of_pid(self, pid: int) -> str | None:
        return next((name for name in await self.consumers() if pid_of(name) == pid), None)

    async def groups(self) -> list[dict[str, object]]:
        try:
            groups: list[dict[str, object]] = await self.redis.xinfo_groups(self.stream)
        except ResponseError:
            return []
        return groups


async def eventually(
    condition: Callable[[], Awaitable[bool] | bool], timeout_s: float, what: str
) -> float:
    """Poll until the condition holds; returns the seconds it took, fails after ``timeout_s``."""
    started = time.monotonic()
    while True:
        outcome = condition()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(POLL_INTERVAL_S)
