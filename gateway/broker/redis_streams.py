"""Production broker: one Redis stream, one consumer group, acknowledgement after the task ran.

taskiq-redis 1.2.4's brokers fall short in ways that lose or stall tasks, so this one is a
taskiq ``AsyncBroker`` of its own, on redis-py. It takes nothing from taskiq-redis's
``RedisStreamBroker``: subclassing it would mean skipping its constructor (a redis:// URL only)
and overriding every method but a two-line startup and shutdown.

- its pool reaches one Redis or, under Sentinel, always the current master (redis_connection),
  so a failover is followed without a restart; taskiq-redis's ``RedisStreamSentinelBroker``
  opens a new Sentinel pool per command and has none of what follows;
- an enqueue is answered only once ``broker.replicas_to_acknowledge()`` replicas hold it (XADD
  and WAIT on one connection), so a 202 survives the master's death (docs/design.md §8);
- it reclaims a dead worker's entries on its own schedule, also on an idle stream, and names
  the task, the order, the previous consumer, its idle time and delivery count;
- it reads one entry each time the worker has a free task slot (taskiq's Receiver asks only
  then), so no entry sits fetched but not started;
- a worker keeps the entries of its running tasks fresh and, stopping, hands back what it did
  not finish (HeldEntries);
- an entry delivered more than ``broker.max_deliveries`` times goes to the dead letters
  (DeadLetters) instead of running again;
- consumers that are gone (nothing pending, idle for long) are removed from the group;
- it survives Redis going away (reconnects with backoff) and losing the group (recreates it);
- acknowledging also deletes the entry, so the stream holds only unfinished tasks;
- an enqueue fails within a bound when Redis is down or hung.
"""

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import structlog
from redis.asyncio import ConnectionPool, Redis
from redis.backoff import EqualJitterBackoff
from redis.exceptions import RedisError, ResponseError
from taskiq import AckableMessage, AsyncBroker, TaskiqMessage
from taskiq.message import BrokerMessage

from gateway.broker.dead_letters import DEAD_LETTER_SUFFIX, DeadLetters
from gateway.broker.delivery import DELIVERIES_FIELD, DELIVERIES_LABEL, ENTRY_LABEL, Delivery
from gateway.broker.held_entries import HEARTBEATS_SUFFIX, HeldEntries
from gateway.broker.link import BrokerLink
from gateway.broker.metrics import (
    CONSUMERS,
    OLDEST_PENDING_AGE,
    READ_FAILURES,
    RECLAIMED,
    STREAM_LENGTH,
    stream_state_read,
    stream_state_unknown,
)
from gateway.broker.replication import REPLICATION_WAIT_MS, NotReplicated
from gateway.rides.start_arguments import malformed_ids
from gateway.settings import BrokerSettings

CONSUMER_GROUP = "meters_integration_api"
# Read from the stream's start, not "$": a group created after entries were added (Redis came
# back empty and a gateway enqueued before any worker recreated the group) still delivers them.
# Safe because acknowledged entries are deleted, so the start holds only unfinished tasks.
GROUP_START_ID = "0"
ENQUEUE_TIMEOUT_S = 1.0
READ_BLOCK_MS = 1000
RECLAIM_INTERVAL_BOUNDS_MS = (50, 5000)
# Idle entries looked at per reclaim step; those still running here are skipped.
RECLAIM_SCAN = 10
# A consumer with nothing pending is removed once silent this many redelivery timeouts (and read
# blocks): a live one sends a heartbeat every third of a timeout (HeldEntries), so only one
# stalled for long is removed. Whether it counts as live (meters_broker_consumers) is decided on
# one timeout instead (_look_after_the_group).
GONE_CONSUMER_IDLE_FACTOR = 3
RECONNECT_BACKOFF = EqualJitterBackoff(cap=5.0, base=0.1)

log = structlog.get_logger("gateway.broker")


# KEYS[1] stream, KEYS[2] heartbeats (HeldEntries); ARGV[1] group, ARGV[2] this consumer,
# ARGV[3] the bound in ms, ARGV[4] the live bound in ms. A consumer is gone when it has nothing
# pending, had nothing delivered and sent no heartbeat within the bound. Checks and removes in one
# step, so a consumer handed an entry meanwhile is never removed with it. Returns the workers that
# sent a heartbeat within the live bound, and the removed consumers.
_REMOVE_GONE_CONSUMERS = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local cutoff = now_ms - tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
local removed = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['name'] ~= ARGV[2] and info['pending'] == 0 and info['idle'] > tonumber(ARGV[3])
      and not redis.call('ZSCORE', KEYS[2], info['name']) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    table.insert(removed, info['name'])
    table.insert(removed, info['idle'])
  end
end
return {redis.call('ZCOUNT', KEYS[2], now_ms - tonumber(ARGV[4]), '+inf'), removed}
"""


def _unique_consumer_name() -> str:
    """Unique per worker process, and says where it runs: XINFO CONSUMERS names the culprit."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ReliableStreamBroker(AsyncBroker):
    def __init__(self, settings: BrokerSettings, pool: ConnectionPool) -> None:
        # The pool is the process's (gateway.bootstrap), shared with the coordination stores;
        # under Sentinel it follows the master.
        super().__init__()
        self.connection_pool = pool
        self.queue_name = settings.queue_name
        self.consumer_group_name = CONSUMER_GROUP
        self.consumer_name = _unique_consumer_name()
        self.idle_timeout = settings.redelivery_timeout_ms
        self.link = BrokerLink()
        self._replicas = settings.replicas_to_acknowledge()
        self._max_deliveries = settings.max_deliveries
        low, high = RECLAIM_INTERVAL_BOUNDS_MS
        self._reclaim_interval_s = min(max(self.idle_timeout // 4, low), high) / 1000
        self._next_reclaim_at = 0.0
        self._gone_after_ms = GONE_CONSUMER_IDLE_FACTOR * max(self.idle_timeout, READ_BLOCK_MS)
        self._held = HeldEntries(
            self.connection_pool,
            stream=self.queue_name,
            group=CONSUMER_GROUP,
            consumer=self.consumer_name,
            refresh_interval_s=self.idle_timeout / 3 / 1000,
        )
        # Task id -> entry id of the deliveries running here, for leave_pending.
        self.dead_letters = DeadLetters(
            self.connection_pool,
            self.queue_name,
            self.queue_name + DEAD_LETTER_SUFFIX,
            self.formatter,
            replicas=self._replicas,
        )

    async def startup(self) -> None:
        await super().startup()
        await self._declare_consumer_group()

    async def shutdown(self) -> None:
        await super().shutdown()
        # As taskiq-redis's did: the process is ending, and the stores on the pool with it.
        await self.connection_pool.disconnect()

    async def _declare_consumer_group(self) -> None:
        # A gateway or worker starting while Redis is down still starts:
        # the gateway reports not ready until it is back, a worker creates the group on its
        # first read.
        try:
            async with Redis(connection_pool=self.connection_pool) as redis:
                await self._create_group(redis)
        except RedisError as error:
            self.link.mark_down()
            log.warning("broker.unreachable_at_startup", error=describe(error))
        else:
            self.link.mark_up()

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
        """Add the task; with replicas required, return only once they hold it.

        XADD and WAIT go in one pipeline, on one connection: WAIT counts the replicas that
        acknowledged that connection's writes. Raises NotReplicated when too few did; the
        task is then in the master's stream and may well run.
        """
        bound_s = ENQUEUE_TIMEOUT_S + (REPLICATION_WAIT_MS / 1000 if self._replicas else 0)
        try:
            async with (
                asyncio.timeout(bound_s),
                Redis(connection_pool=self.connection_pool) as redis,
                redis.pipeline(transaction=False) as pipe,
            ):
                pipe.xadd(self.queue_name, {b"data": message.message})
                if self._replicas:
                    pipe.wait(self._replicas, REPLICATION_WAIT_MS)
                replies = await pipe.execute()
        except (RedisError, TimeoutError):
            self.link.mark_down()
            raise
        self.link.mark_up()
        if self._replicas and replies[1] < self._replicas:
            raise NotReplicated(replies[1], self._replicas)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        failures = 0
        while True:
            try:
                # One connection for the reads, so that WAIT covers this worker's claims.
                async with Redis(
                    connection_pool=self.connection_pool, single_connection_client=True
                ) as redis:
                    while True:
                        delivery = await self._next_delivery(redis)
                        failures = 0
                        self.link.mark_up()
                        if delivery is not None:
                            yield self._deliver(delivery)
            except RedisError as error:
                failures += 1
                READ_FAILURES.inc()
                self.link.mark_down()
                stream_state_unknown()
                delay_s = RECONNECT_BACKOFF.compute(failures)
                log.warning(
                    "broker.read_failed",
                    error=describe(error),
                    failures=failures,
                    retry_in_s=round(delay_s, 2),
                )
                await asyncio.sleep(delay_s)

    async def _next_delivery(self, redis: Redis) -> Delivery | None:
        """One entry for a free task slot: an abandoned one if due, else a new one, else None."""
        try:
            delivery = None
            if time.monotonic() >= self._next_reclaim_at:
                delivery = await self._reclaim_one(redis)
            if delivery is None:
                delivery = await self._read_one(redis)
            if delivery is None:
                return None
            if self._replicas:
                # Give this worker's claim of the entry (bounded) time to reach the replicas, so
                # that a failover is unlikely to hand it to a second worker while it runs here.
                # Should they not confirm, the task runs anyway: the order lease and the ride
                # ledger, which are replica-acknowledged, keep a second delivery from starting a
                # second meter ride (docs/design.md §3a).
                await redis.wait(self._replicas, REPLICATION_WAIT_MS)
        except ResponseError as error:
            if not str(error).startswith("NOGROUP"):
                raise
            # Redis restarted empty or the group was deleted; GROUP_START_ID keeps what is
            # already in the stream deliverable.
            log.warning("broker.group_lost", stream=self.queue_name)
            await self._create_group(redis)
            return None
        reason = self._dead_letter_reason(delivery)
        if reason is not None:
            await self.dead_letters.bury(
                redis, delivery, self.consumer_group_name, self.consumer_name, reason=reason
            )
            return None
        return delivery

    def _dead_letter_reason(self, delivery: Delivery) -> str | None:
        """Why the entry must not run again: delivered too often, or arguments it can only fail
        on; None for one to run (or one that is no taskiq message, which the Receiver drops)."""
        if delivery.deliveries > self._max_deliveries:
            return f"delivered more than broker.max_deliveries ({self._max_deliveries}) times"
        try:
            message = self.formatter.loads(delivery.fields.get(b"data", b""))
        except Exception:  # not a taskiq message: _deliver hands it on to be dropped
            return None
        return malformed_ids(message.kwargs.get("order_id"), message.task_id)

    async def _reclaim_one(self, redis: Redis) -> Delivery | None:
        # XPENDING lists who held an idle entry and for how long; XCLAIM with the same minimum
        # idle time then takes it only if no other worker took it meanwhile.
        idle: list[dict[str, Any]] = await redis.xpending_range(
            self.queue_name,
            self.consumer_group_name,
            min="-",
            max="+",
            count=RECLAIM_SCAN,
            idle=self.idle_timeout,
        )
        for pending in idle:
            entry_id: bytes = pending["message_id"]
            if entry_id in self._held:
                continue  # still running here; the next refresh makes it fresh again
            claimed: Any = await redis.xclaim(
                self.queue_name,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=self.idle_timeout,
                message_ids=[entry_id],
            )
            if not claimed or claimed[0][1] is None:
                continue  # taken by another worker, or deleted meanwhile
            _claimed_id, fields = claimed[0]
            return Delivery(
                entry_id=entry_id,
                fields=fields,
                deliveries=_earlier_deliveries(fields) + int(pending["times_delivered"]) + 1,
                previous_consumer=pending["consumer"].decode(),
                idle_ms=int(pending["time_since_delivered"]),
            )
        self._next_reclaim_at = time.monotonic() + self._reclaim_interval_s
        return None

    async def _read_one(self, redis: Redis) -> Delivery | None:
        until_reclaim_ms = int((self._next_reclaim_at - time.monotonic()) * 1000)
        # Typed as the union of the RESP2 and RESP3 shapes; this pool speaks RESP2.
        fetched: Any = await redis.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">"},
            count=1,
            # BLOCK 0 would wait forever and starve the reclaim schedule.
            block=max(1, min(READ_BLOCK_MS, until_reclaim_ms)),
        )
        # [[stream, [(id, fields)]]], or empty when the block ran out.
        for _stream, entries in fetched or []:
            for entry_id, fields in entries:
                return Delivery(entry_id, fields, deliveries=_earlier_deliveries(fields) + 1)
        return None

    async def _look_after_the_group_while_running(self) -> None:
        """Every reclaim interval for as long as the worker runs, on a task of its own: listen()
        is advanced only when a task slot is free, so a reading taken there would stand still
        while every slot is busy — the backlog of workers too slow for their load included."""
        while True:
            try:
                async with Redis(connection_pool=self.connection_pool) as redis:
                    await self._look_after_the_group(redis)
            except RedisError as error:
                stream_state_unknown()
                log.debug("broker.stream_state_unread", error=describe(error))
            await asyncio.sleep(self._reclaim_interval_s)

    async def _look_after_the_group(self, redis: Redis) -> None:
        """Remove gone consumers, and report the stream's state."""
        live, removed = await redis.register_script(_REMOVE_GONE_CONSUMERS)(
            keys=[self.queue_name, self.queue_name + HEARTBEATS_SUFFIX],
            # Live: a heartbeat within one redelivery timeout, the silence after which this
            # group already takes a consumer's entries from it (_reclaim_one); a live worker
            # sends three in that time whether it reads, blocks or runs tasks (HeldEntries). The
            # longer removal bound would count a SIGKILLed worker live for three timeouts.
            args=[
                self.consumer_group_name,
                self.consumer_name,
                self._gone_after_ms,
                self.idle_timeout,
            ],
        )
        for name, idle_ms in zip(removed[::2], removed[1::2], strict=True):
            log.info("broker.consumer_removed", removed_consumer=name.decode(), idle_ms=idle_ms)
        CONSUMERS.set(int(live))
        STREAM_LENGTH.set(await redis.xlen(self.queue_name))
        oldest: Any = await redis.xrange(self.queue_name, count=1)
        if oldest:
            now_s, now_us = await redis.time()
            added_ms = int(oldest[0][0].split(b"-")[0])
            OLDEST_PENDING_AGE.set(max(0.0, (now_s * 1000 + now_us / 1000 - added_ms) / 1000))
        else:
            OLDEST_PENDING_AGE.set(0)
        await self.dead_letters.report_length(redis)
        stream_state_read()

    def _deliver(self, delivery: Delivery) -> AckableMessage:
        self._held.add(delivery.entry_id)
        # An entry some other producer added without a data field: taskiq's Receiver
        # acknowledges what it cannot parse, which drops it.
        data = delivery.fields.get(b"data", b"")
        try:
            message = self.formatter.loads(data)
        except Exception:  # not a taskiq message; the Receiver logs and drops it
            return AckableMessage(data=data, ack=self._acknowledger(delivery.entry_id))
        message.labels[DELIVERIES_LABEL] = str(delivery.deliveries)
        message.labels[ENTRY_LABEL] = delivery.entry_id.decode()
        if delivery.previous_consumer is not None:
            RECLAIMED.inc()
            log.warning(
                "broker.reclaimed",
                entry_id=delivery.entry_id.decode(),
                task_id=message.task_id,
                order_id=message.kwargs.get("order_id"),
                previous_consumer=delivery.previous_consumer,
                idle_ms=delivery.idle_ms,
                deliveries=delivery.deliveries,
            )
        return AckableMessage(
            data=self.formatter.dumps(message).message,
            ack=self._acknowledger(delivery.entry_id),
        )

    def _acknowledger(self, entry_id: bytes) -> Callable[[], Awaitable[None]]:
        async def acknowledge() -> None:
            self._held.discard(entry_id)
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
                log.warning("broker.ack_failed", entry_id=entry_id.decode(), error=describe(error))

        return acknowledge

    def leave_pending(self, message: TaskiqMessage) -> None:
        """A run of this message ended without being acknowledged: stop keeping its entry
        fresh, so that it is delivered again (to any worker) after the redelivery timeout."""
        entry_id = message.labels.get(ENTRY_LABEL)
        if isinstance(entry_id, str):
            self._held.discard(entry_id.encode())

    @asynccontextmanager
    async def holding_deliveries(self) -> AsyncIterator[None]:
        """A worker's run: its entries kept fresh (HeldEntries.kept), and the group looked
        after and the stream's state reported throughout."""
        looking_after = asyncio.create_task(self._look_after_the_group_while_running())
        try:
            async with self._held.kept():
                yield
        finally:
            looking_after.cancel()
            with suppress(asyncio.CancelledError):
                await looking_after


def _earlier_deliveries(fields: dict[bytes, bytes]) -> int:
    """Deliveries of the copies this entry was handed back from (HeldEntries)."""
    recorded = fields.get(DELIVERIES_FIELD, b"0")
    return int(recorded) if recorded.isdigit() else 0


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
