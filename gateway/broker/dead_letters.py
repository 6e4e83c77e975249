"""Tasks set aside after ``broker.max_deliveries`` deliveries, and how a person brings them back.

A task that kills its worker every time (a poison task) would otherwise be redelivered
forever. Once delivered more than ``broker.max_deliveries`` times, its entry moves, in one
atomic step, to the stream ``<broker.queue_name>:dead_letters``, with its delivery count, its
original entry id and the last consumer that held it; an ERROR line names the order. People
look at it and requeue with ``meters-integration-api dead-letters list|requeue ID|requeue
--all`` (docs/production.md, "Dead letters").
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.asyncio import ConnectionPool, Redis
from taskiq import TaskiqMessage
from taskiq.abc.formatter import TaskiqFormatter

from gateway.broker.delivery import DELIVERIES_FIELD, Delivery
from gateway.broker.metrics import DEAD_LETTER_STREAM_LENGTH, DEAD_LETTERS
from gateway.broker.replication import REPLICATION_WAIT_MS, NotReplicated

DEAD_LETTER_SUFFIX = ":dead_letters"
_ENTRY_ID = re.compile(r"[0-9]+-[0-9]+")
ENTRY_ID_FIELD = b"entry_id"
LAST_CONSUMER_FIELD = b"last_consumer"

log = structlog.get_logger("gateway.broker")

# KEYS[1] stream, KEYS[2] dead letters; ARGV[1] group, ARGV[2] consumer, ARGV[3] entry id,
# ARGV[4] deliveries, ARGV[5] the consumer that held it before. Only while this consumer holds
# the entry: one another worker took meanwhile is left alone.
_BURY = """
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return false end
local entry = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
local dead_id = false
if #entry > 0 then
  local fields = entry[1][2]
  local copy = {}
  for i = 1, #fields, 2 do
    if fields[i] ~= 'deliveries' then
      table.insert(copy, fields[i])
      table.insert(copy, fields[i + 1])
    end
  end
  for _, extra in ipairs({'deliveries', ARGV[4], 'entry_id', ARGV[3], 'last_consumer', ARGV[5]}) do
    table.insert(copy, extra)
  end
  dead_id = redis.call('XADD', KEYS[2], '*', unpack(copy))
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
return dead_id
"""

# KEYS[1] dead letters, KEYS[2] stream; ARGV[1] dead-letter id. The task goes back as a new
# entry with its delivery count starting again, and leaves the dead letters in the same step.
_REQUEUE = """
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entry == 0 then return false end
local fields = entry[1][2]
local data = nil
for i = 1, #fields, 2 do
  if fields[i] == 'data' then data = fields[i + 1] end
end
if data == nil then return false end
local id = redis.call('XADD', KEYS[2], '*', 'data', data)
redis.call('XDEL', KEYS[1], ARGV[1])
return id
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    dead_letter_id: str
    set_aside_at: datetime
    task_id: str | None
    order_id: str | None
    deliveries: int
    original_entry_id: str
    last_consumer: str


class DeadLetters:
    def __init__(
        self,
        pool: ConnectionPool,
        stream: str,
        dead_letter_stream: str,
        formatter: TaskiqFormatter,
        *,
        replicas: int,
    ) -> None:
        """``replicas``: how many replicas must hold a requeued task before it is reported
        requeued (``broker.replicas_to_acknowledge()``), as for an enqueue."""
        self._pool = pool
        self._stream = stream
        self.stream = dead_letter_stream
        self._formatter = formatter
        self._replicas = replicas

    async def bury(
        self, redis: Redis, delivery: Delivery, group: str, consumer: str, *, reason: str
    ) -> None:
        """Move a task that must not run again to the dead letters (on the reading connection);
        ``reason`` says why: delivered too often, or arguments it could only fail on."""
        dead_id = await redis.register_script(_BURY)(
            keys=[self._stream, self.stream],
            args=[
                group,
                consumer,
                delivery.entry_id,
                delivery.deliveries,
                delivery.previous_consumer or "",
            ],
        )
        if not dead_id:
            return  # another worker took it first
        DEAD_LETTERS.inc()
        message = self._message(delivery.fields.get(b"data", b""))
        log.error(
            "broker.dead_lettered",
            reason=reason,
            task_id=message.task_id if message else None,
            order_id=_order_id(message),
            deliveries=delivery.deliveries,
            entry_id=delivery.entry_id.decode(),
            dead_letter_id=dead_id.decode(),
            previous_consumer=delivery.previous_consumer,
            consequence="the task will not run again until requeued",
            requeue=f"meters-integration-api dead-letters requeue {dead_id.decode()}",
        )
        await self.report_length(redis)

    async def report_length(self, redis: Redis) -> None:
        DEAD_LETTER_STREAM_LENGTH.set(await redis.xlen(self.stream))

    async def listed(self) -> list[DeadLetter]:
        async with Redis(connection_pool=self._pool) as redis:
            entries: Any = await redis.xrange(self.stream)
        return [self._dead_letter(entry_id, fields) for entry_id, fields in entries]

    async def requeue(self, dead_letter_id: str) -> str | None:
        """Put one back in the task stream; its new entry id, or None if there is no such one.

        With replicas required, the requeue and WAIT go on one connection, as an enqueue's do:
        NotReplicated when too few replicas confirmed it. Were the master lost then, the dead
        letter may still be listed on the promoted replica (if no replica got the write), to be
        requeued again.
        """
        if not _ENTRY_ID.fullmatch(dead_letter_id):
            # Not an id Redis could hold (it would refuse it as an invalid stream ID); listed
            # ids are always full ones, milliseconds-sequence.
            return None
        async with Redis(connection_pool=self._pool) as redis:
            async with redis.pipeline(transaction=False) as pipe:
                await redis.register_script(_REQUEUE)(
                    keys=[self.stream, self._stream], args=[dead_letter_id], client=pipe
                )
                if self._replicas:
                    pipe.wait(self._replicas, REPLICATION_WAIT_MS)
                replies = await pipe.execute()
            await self.report_length(redis)
        new_id = replies[0]
        if not new_id:
            return None
        entry_id = str(new_id.decode())
        if self._replicas and replies[1] < self._replicas:
            log.warning(
                "broker.dead_letter_requeue_not_replicated",
                dead_letter_id=dead_letter_id,
                entry_id=entry_id,
                acknowledged=replies[1],
                required=self._replicas,
            )
            raise NotReplicated(replies[1], self._replicas)
        log.info("broker.dead_letter_requeued", dead_letter_id=dead_letter_id, entry_id=entry_id)
        return entry_id

    def _dead_letter(self, entry_id: bytes, fields: dict[bytes, bytes]) -> DeadLetter:
        message = self._message(fields.get(b"data", b""))
        added_ms = int(entry_id.split(b"-")[0])
        return DeadLetter(
            dead_letter_id=entry_id.decode(),
            set_aside_at=datetime.fromtimestamp(added_ms / 1000, UTC),
            task_id=message.task_id if message else None,
            order_id=_order_id(message),
            deliveries=int(fields.get(DELIVERIES_FIELD, b"0")),
            original_entry_id=fields.get(ENTRY_ID_FIELD, b"").decode(),
            last_consumer=fields.get(LAST_CONSUMER_FIELD, b"").decode(),
        )

    def _message(self, data: bytes) -> TaskiqMessage | None:
        try:
            return self._formatter.loads(data)
        except Exception:  # another producer's entry; it is listed without task and order
            return None


def _order_id(message: TaskiqMessage | None) -> str | None:
    if message is None:
        return None
    order_id = message.kwargs.get("order_id")
    return str(order_id) if order_id is not None else None
