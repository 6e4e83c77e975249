"""Server-side steps on the task stream that must be atomic.

Each checks which consumer owns an entry and acts on it in one step, so that an entry another
worker has claimed in the meantime is never touched.
"""

from collections.abc import Iterable

from redis.asyncio import Redis

# KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3...] entry ids.
_REFRESH = """
local refreshed = 0
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #pending > 0 and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    refreshed = refreshed + 1
  end
end
return refreshed
"""

# KEYS[1] stream; ARGV[1] group, ARGV[2] consumer.
_HAND_BACK = """
local handed_back = 0
while true do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 100, ARGV[2])
  if #pending == 0 then break end
  for _, held in ipairs(pending) do
    local id = held[1]
    local entry = redis.call('XRANGE', KEYS[1], id, id)
    if #entry > 0 then
      redis.call('XADD', KEYS[1], '*', unpack(entry[1][2]))
      handed_back = handed_back + 1
    end
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
  end
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return handed_back
"""


async def refresh_held(
    redis: Redis, stream: str, group: str, consumer: str, entry_ids: Iterable[bytes]
) -> int:
    """Reset the idle time of those entries the consumer still owns; returns how many it owns.

    XCLAIM with a minimum idle time of 0 is what resets it; done blindly it would also take an
    entry back from a worker that has since reclaimed it.
    """
    ids = list(entry_ids)
    if not ids:
        return 0
    refreshed: int = await redis.register_script(_REFRESH)(
        keys=[stream], args=[group, consumer, *ids]
    )
    return refreshed


async def hand_back(redis: Redis, stream: str, group: str, consumer: str) -> int:
    """Re-add every entry the consumer holds as a new, undelivered entry; forget the consumer.

    Redis cannot un-deliver an entry: left pending it would wait for the redelivery timeout,
    while a fresh copy goes to the next worker that reads. Returns how many were handed back.
    """
    handed_back: int = await redis.register_script(_HAND_BACK)(
        keys=[stream], args=[group, consumer]
    )
    return handed_back
