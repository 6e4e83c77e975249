"""Production broker: one Redis stream, one consumer group, acknowledgement after the task ran.

Built on taskiq-redis's RedisStreamBroker, which as of 1.2.4 falls short in ways that lose or
stall tasks, so this subclass replaces its reading and acknowledging:

- it reclaims a dead worker's entries on its own schedule: upstream runs XAUTOCLAIM only after
  XREADGROUP returned new entries, so on an idle stream they would wait forever;
- it reads one entry each time the worker has a free task slot (taskiq's Receiver asks only
  then), so no entry sits fetched but not started;
- a worker keeps the entries of its running tasks fresh and, stopping, hands back what it did
  not finish (HeldEntries);
- it survives Redis going away (reconnects with backoff) and losing the group (recreates it);
- acknowledging also deletes the entry, so the stream holds only unfinished tasks;
- an enqueue fails within a second when Redis is down or hung;
- a cancelled Redis command ends cancelled (see _SendHonouringCancellation): taskiq's Receiver
  stops a worker by cancelling its pending read, which must not read on.
"""

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncGenerator, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.backoff import EqualJitterBackoff
from redis.exceptions import RedisError, ResponseError
from taskiq import AckableMessage
from taskiq.message import BrokerMessage
from taskiq_redis import RedisStreamBroker

from gateway.broker.held_entries import HeldEntries
from gateway.settings import BrokerSettings

CONSUMER_GROUP = "meters_integration_api"
# Read from the stream's start, not "$": a group created after entries were added (Redis came
# back empty and a gateway enqueued before any worker recreated the group) still delivers them.
# Safe because acknowledged entries are deleted, so the start holds only unfinished tasks.
GROUP_START_ID = "0"
ENQUEUE_TIMEOUT_S = 1.0
CONNECT_TIMEOUT_S = 1.0
READ_BLOCK_MS = 1000
# Longer than a blocking read, so only a Redis that stopped answering trips it.
SOCKET_TIMEOUT_S = 5.0
RECLAIM_INTERVAL_BOUNDS_MS = (50, 5000)
RECONNECT_BACKOFF = EqualJitterBackoff(cap=5.0, base=0.1)

log = structlog.get_logger("gateway.broker")

StreamEntry = tuple[bytes, dict[bytes, bytes]]


def _unique_consumer_name() -> str:
    """Unique per worker process, and says where it runs: XINFO CONSUMERS names the culprit."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ReliableStreamBroker(RedisStreamBroker):
    def __init__(self, url: str, queue_name: str, redelivery_timeout_ms: int) -> None:
        super().__init__(
            url,
            queue_name=queue_name,
            consumer_group_name=CONSUMER_GROUP,
            consumer_name=_unique_consumer_name(),
            consumer_id=GROUP_START_ID,
            idle_timeout=redelivery_timeout_ms,
            xread_block=READ_BLOCK_MS,
            xread_count=1,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
            # RESP2: the replies come in the shapes read here. It also keeps redis-py 8.1's
            # RESP3 maintenance notifications off, whose default ("auto") skips the check for
            # pooled connections the server has closed: after a Redis restart, the first
            # command on each of them would fail.
            protocol=2,
        )
        pool = self.connection_pool
        # Whatever class the URL chose (TCP, TLS or Unix socket); no connection exists yet.
        pool.connection_class = _honouring_cancellation(pool.connection_class)
        low, high = RECLAIM_INTERVAL_BOUNDS_MS
        self._reclaim_interval_s = min(max(redelivery_timeout_ms // 4, low), high) / 1000
        self._next_reclaim_at = 0.0
        self._reclaim_cursor: bytes | str = "0-0"
        self._held = HeldEntries(
            self.connection_pool,
            stream=queue_name,
            group=CONSUMER_GROUP,
            consumer=self.consumer_name,
            refresh_interval_s=redelivery_timeout_ms / 3 / 1000,
        )
        self._acknowledging = True

    async def _declare_consumer_group(self) -> None:
        # Called by startup(). A gateway or worker starting while Redis is down still starts:
        # the gateway reports not ready until it is back, a worker creates the group on its
        # first read (see _next_entry).
        try:
            async with Redis(connection_pool=self.connection_pool) as redis:
                await self._create_group(redis)
        except RedisError as error:
            log.warning("broker.unreachable_at_startup", error=_describe(error))

    async def _create_group(self, redis: Redis) -> None:
        try:
            await redis.xgroup_create(
                self.queue_name, self.consumer_group_name, id=GROUP_START_ID, mkstream=True
            )
        except ResponseError as error:
            if not str(error).startswith("BUSYGROUP"):
                raise
            return
        log.info("broker.group_created", stream=self.queue_name, group=self.consumer_group_name)

    async def kick(self, message: BrokerMessage) -> None:
        async with asyncio.timeout(ENQUEUE_TIMEOUT_S):
            await super().kick(message)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        failures = 0
        while True:
            try:
                async with Redis(connection_pool=self.connection_pool) as redis:
                    while True:
                        entry = await self._next_entry(redis)
                        failures = 0
                        if entry is not None:
                            yield self._deliver(entry)
            except RedisError as error:
                failures += 1
                delay_s = RECONNECT_BACKOFF.compute(failures)
                log.warning(
                    "broker.read_failed",
                    error=_describe(error),
                    failures=failures,
                    retry_in_s=round(delay_s, 2),
                )
                await asyncio.sleep(delay_s)

    async def _next_entry(self, redis: Redis) -> StreamEntry | None:
        """One entry for a free task slot: an abandoned one if due, else a new one, else None."""
        try:
            if time.monotonic() >= self._next_reclaim_at:
                entry = await self._reclaim_one(redis)
                if entry is not None:
                    return entry
            return await self._read_one(redis)
        except ResponseError as error:
            if not str(error).startswith("NOGROUP"):
                raise
            # Redis restarted empty or the group was deleted; GROUP_START_ID keeps what is
            # already in the stream deliverable.
            log.warning("broker.group_lost", stream=self.queue_name)
            await self._create_group(redis)
            return None

    async def _reclaim_one(self, redis: Redis) -> StreamEntry | None:
        # XAUTOCLAIM looks at a bounded slice of the pending list per call; the cursor carries
        # the scan over, and its return to 0-0 ends a full pass.
        while True:
            cursor, claimed, _deleted = await redis.xautoclaim(
                self.queue_name,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=self.idle_timeout,
                start_id=self._reclaim_cursor,
                count=1,
            )
            self._reclaim_cursor = cursor
            for entry_id, fields in claimed:
                if entry_id in self._held:
                    continue  # still running here; the claim only refreshed it
                log.warning("broker.reclaimed", entry_id=entry_id.decode())
                return entry_id, fields
            if cursor in (b"0-0", "0-0"):
                self._next_reclaim_at = time.monotonic() + self._reclaim_interval_s
                return None

    async def _read_one(self, redis: Redis) -> StreamEntry | None:
        until_reclaim_ms = int((self._next_reclaim_at - time.monotonic()) * 1000)
        # Typed as the union of the RESP2 and RESP3 shapes; this pool speaks RESP2.
        fetched: Any = await redis.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">"},
            count=1,
            # BLOCK 0 would wait forever and starve the reclaim schedule.
            block=max(1, min(self.block, until_reclaim_ms)),
        )
        # [[stream, [(id, fields)]]], or empty when the block ran out.
        for _stream, entries in fetched or []:
            for entry_id, fields in entries:
                return entry_id, fields
        return None

    def _deliver(self, entry: StreamEntry) -> AckableMessage:
        entry_id, fields = entry
        self._held.add(entry_id)
        # An entry some other producer added without a data field: taskiq's Receiver
        # acknowledges what it cannot parse, which drops it.
        data = fields.get(b"data", b"")
        return AckableMessage(data=data, ack=self._acknowledger(entry_id))

    def _acknowledger(self, entry_id: bytes) -> "_EntryAcknowledgement":
        return _EntryAcknowledgement(self, entry_id)

    async def _acknowledge(self, entry_id: bytes) -> None:
        self._held.discard(entry_id)
        if not self._acknowledging:
            return
        try:
            async with (
                Redis(connection_pool=self.connection_pool) as redis,
                redis.pipeline(transaction=True) as pipe,
            ):
                pipe.xack(self.queue_name, self.consumer_group_name, entry_id)
                pipe.xdel(self.queue_name, entry_id)
                await pipe.execute()
        except RedisError as error:
            # The task ran; the entry stays pending and runs again after the redelivery
            # timeout, which the task's idempotency makes harmless.
            log.warning("broker.ack_failed", entry_id=entry_id.decode(), error=_describe(error))

    def _leave_pending(self, entry_id: bytes) -> None:
        # No longer kept fresh nor skipped by the reclaim: it is redelivered after the timeout.
        self._held.discard(entry_id)

    def stop_acknowledging(self) -> None:
        """From now on, task runs that end leave their entries pending: they were cut short."""
        self._acknowledging = False

    def holding_deliveries(self) -> AbstractAsyncContextManager[None]:
        """A worker's run (see HeldEntries.kept)."""
        return self._held.kept()


class _EntryAcknowledgement:
    """A delivered entry's acknowledgement, or its release unacknowledged (LeavesPending)."""

    def __init__(self, broker: ReliableStreamBroker, entry_id: bytes) -> None:
        self._broker = broker
        self._entry_id = entry_id

    async def __call__(self) -> None:
        await self._broker._acknowledge(self._entry_id)

    def leave_pending(self) -> None:
        self._broker._leave_pending(self._entry_id)


class _SendHonouringCancellation(AbstractConnection):
    """A Redis connection on which a command whose task is cancelled while it is sent ends.

    With a socket timeout, redis-py sends each command under ``asyncio.wait_for``, which before
    Python 3.12 returns the send's result instead of raising CancelledError when the task is
    cancelled as the send finishes (CPython gh-86296). The reply is then read as if nothing
    happened and the cancellation is lost: a worker's read, cancelled by the Receiver on
    SIGTERM, would go on reading an idle stream forever. Here the cancellation is raised
    again, and the connection, whose reply will now never be read, is dropped.
    """

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        task = asyncio.current_task()
        requested = task.cancelling() if task is not None else 0
        await super().send_packed_command(command, check_health)
        if task is not None and task.cancelling() > requested:
            await self.disconnect(nowait=True)
            raise asyncio.CancelledError


def _honouring_cancellation(
    connection_class: type[AbstractConnection],
) -> type[AbstractConnection]:
    if issubclass(connection_class, _SendHonouringCancellation):
        return connection_class
    return type(
        f"{connection_class.__name__}HonouringCancellation",
        (_SendHonouringCancellation, connection_class),
        {},
    )


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def build_redis_stream_broker(settings: BrokerSettings) -> ReliableStreamBroker:
    return ReliableStreamBroker(
        settings.url,
        queue_name=settings.queue_name,
        redelivery_timeout_ms=settings.redelivery_timeout_ms,
    )
