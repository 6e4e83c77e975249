"""A worker process's hold on the stream entries it was handed and has not acknowledged.

While the worker lives it keeps their idle time fresh, so the redelivery timeout measures how
long a worker has been silent rather than how long its task takes, and no other worker
reclaims a task that is still running. When the worker stops, whatever it still holds goes
back to the stream as new entries, so nothing waits out the redelivery timeout.

Both steps run as Lua scripts: each checks which consumer owns an entry and acts on it in one
atomic step, so an entry another worker has claimed in the meantime is never touched.

Each refresh is also the worker's heartbeat: the sorted set ``<stream>:heartbeats`` scores
every live consumer with the Redis time it last refreshed. Redis itself cannot tell a live
idle consumer from a dead one (before 7.2, XINFO CONSUMERS's idle time only moves when an
entry is delivered), so this is how gone consumers are told apart (ReliableStreamBroker).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import structlog
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

log = structlog.get_logger("gateway.broker")

HEARTBEATS_SUFFIX = ":heartbeats"

# KEYS[1] stream, KEYS[2] heartbeats; ARGV[1] group, ARGV[2] consumer, ARGV[3...] entry ids.
# XCLAIM with a minimum idle time of 0 is what resets the idle time; done blindly it would also
# take an entry back from a worker that has since reclaimed it.
_REFRESH = """
local now = redis.call('TIME')
redis.call('ZADD', KEYS[2], now[1] * 1000 + math.floor(now[2] / 1000), ARGV[2])
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #pending > 0 and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  end
end
"""

# KEYS[1] stream; ARGV[1] group, ARGV[2] consumer. Redis cannot un-deliver an entry: a fresh
# copy goes to the next worker that reads, carrying the deliveries so far (held[4] is this
# entry's count) so that a task that never finishes still reaches the dead letters. The
# consumer is forgotten with it.
_HAND_BACK = """
local handed_back = 0
while true do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 100, ARGV[2])
  if #pending == 0 then break end
  for _, held in ipairs(pending) do
    local id = held[1]
    local entry = redis.call('XRANGE', KEYS[1], id, id)
    if #entry > 0 then
      local fields = entry[1][2]
      local copy = {}
      local deliveries = held[4]
      for i = 1, #fields, 2 do
        if fields[i] == 'deliveries' then
          deliveries = deliveries + tonumber(fields[i + 1])
        else
          table.insert(copy, fields[i])
          table.insert(copy, fields[i + 1])
        end
      end
      table.insert(copy, 'deliveries')
      table.insert(copy, tostring(deliveries))
      redis.call('XADD', KEYS[1], '*', unpack(copy))
      handed_back = handed_back + 1
    end
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
  end
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
return handed_back
"""


class HeldEntries:
    def __init__(
        self,
        pool: ConnectionPool,
        *,
        stream: str,
        group: str,
        consumer: str,
        refresh_interval_s: float,
    ) -> None:
        self._pool = pool
        self._keys = [stream, stream + HEARTBEATS_SUFFIX]
        self._args = [group, consumer]
        self._refresh_interval_s = refresh_interval_s
        self._ids: set[bytes] = set()

    def add(self, entry_id: bytes) -> None:
        self._ids.add(entry_id)

    def discard(self, entry_id: bytes) -> None:
        self._ids.discard(entry_id)

    def __contains__(self, entry_id: bytes) -> bool:
        return entry_id in self._ids

    @asynccontextmanager
    async def kept(self) -> AsyncIterator[None]:
        """Keep the entries fresh during the block, hand back what is left at its end.

        Leave the block only once none of this worker's tasks is running any more.
        """
        refreshing = asyncio.create_task(self._keep_fresh())
        try:
            yield
        finally:
            refreshing.cancel()
            with suppress(asyncio.CancelledError):
                await refreshing
            await self._hand_back()

    async def _keep_fresh(self) -> None:
        while True:
            try:
                async with Redis(connection_pool=self._pool) as redis:
                    await redis.register_script(_REFRESH)(
                        keys=self._keys, args=[*self._args, *self._ids]
                    )
            except RedisError as error:
                log.warning("broker.refresh_failed", error=f"{type(error).__name__}: {error}")
            await asyncio.sleep(self._refresh_interval_s)

    async def _hand_back(self) -> None:
        try:
            async with Redis(connection_pool=self._pool) as redis:
                handed_back = await redis.register_script(_HAND_BACK)(
                    keys=self._keys, args=self._args
                )
        except RedisError as error:
            log.warning(
                "broker.hand_back_failed",
                error=f"{type(error).__name__}: {error}",
                consequence="unfinished tasks go to another worker after the redelivery timeout",
            )
            return
        self._ids.clear()
        if handed_back:
            log.info("broker.handed_back", entries=handed_back)
