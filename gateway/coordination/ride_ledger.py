"""The ride ledger (docs/design.md §3a): which order each vendor ride id belongs to.

A vendor whose start is idempotent per driver/vehicle answers the ride still open for that
driver, which after a failed finish is the *previous* order's ride. The start-ride run claims
every ride id the moment the vendor answers it, before the order is written: the first order to
claim a ride keeps it for ``LEDGER_RETENTION_S``, and a claim is never overwritten, so a stale
ride is recognised as another order's and never settled with this order's passenger.

The ledger lives where the broker lives: in the process for the embedded default, in the
broker's Redis in production. It records when it was created; ``meters_ride_ledger_age_seconds``
says how long ago, so an alert can warn while it is younger than its retention (Redis came back
empty or lost writes in a failover) and stale rides are not fully guarded.
"""

import asyncio
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.coordination.redis_keys import redis_key
from gateway.metrics import RIDE_LEDGER_AGE

LEDGER_RETENTION_S = 7 * 24 * 3600
# WAIT's own bound, as for an enqueue (docs/design.md §8).
REPLICATION_TIMEOUT_MS = 1000
REPORT_BUDGET_S = 0.1
KEY_NAMESPACE = "meters:ride_ledger"
CREATED_KEY = "meters:ride_ledger_created"


class LedgerUnavailable(Exception):
    """The ledger could not be read or written (or the claim was not replicated): nothing is
    known about the ride, so the run must stop where it is and leave the decision to its
    redelivery."""


@dataclass(frozen=True, slots=True)
class RideClaim:
    holder: str
    """The exact order id the ride belongs to."""
    new: bool
    """This claim made the entry (False: it was there already, whoever made it)."""

    def belongs_to(self, order_id: str) -> bool:
        return self.holder == order_id


class RideLedger(ABC):
    @abstractmethod
    async def claim(self, vendor: str, ride_id: str, order_id: str) -> RideClaim:
        """Claim the ride for the order unless some order holds it; answer who holds it."""

    @abstractmethod
    async def report_age(self) -> None:
        """Set ``meters_ride_ledger_age_seconds`` from the ledger's creation record."""


class InProcessRideLedger(RideLedger):
    """The embedded default's ledger: this process's memory, created when the process started."""

    def __init__(self) -> None:
        self._created_at = time.time()
        self._holders: dict[tuple[str, str], str] = {}
        # Claims in the order they were made, so the expired ones are dropped from the front.
        self._claimed: deque[tuple[float, tuple[str, str]]] = deque()

    async def claim(self, vendor: str, ride_id: str, order_id: str) -> RideClaim:
        now = time.monotonic()
        while self._claimed and self._claimed[0][0] <= now:
            _, expired = self._claimed.popleft()
            del self._holders[expired]
        key = (vendor, ride_id)
        holder = self._holders.get(key)
        if holder is None:
            self._holders[key] = order_id
            self._claimed.append((now + LEDGER_RETENTION_S, key))
        await self.report_age()
        return RideClaim(holder=holder or order_id, new=holder is None)

    async def report_age(self) -> None:
        RIDE_LEDGER_AGE.set(time.time() - self._created_at)


# One round trip, atomic: the creation record (kept forever), the claim (SET NX, never
# overwritten), the holder and the creation time.
_CLAIM_SCRIPT = """
redis.call('SET', KEYS[2], ARGV[3], 'NX')
local made = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
return {redis.call('GET', KEYS[1]), made and 1 or 0, redis.call('GET', KEYS[2])}
"""


class RedisRideLedger(RideLedger):
    """The production ledger, in the broker's Redis.

    A claim is followed by ``WAIT replicas 1000`` on the same connection (one pipeline), like
    an enqueue: a claim the replicas do not hold could vanish in a failover, so it counts as
    not made and the run stops unacknowledged.
    """

    def __init__(self, redis: Redis, replicas_to_acknowledge: int) -> None:
        self._redis = redis
        self._replicas = replicas_to_acknowledge

    async def claim(self, vendor: str, ride_id: str, order_id: str) -> RideClaim:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.eval(
                    _CLAIM_SCRIPT,
                    2,
                    redis_key(KEY_NAMESPACE, vendor, ride_id),
                    CREATED_KEY,
                    order_id,
                    LEDGER_RETENTION_S,
                    repr(time.time()),
                )
                if self._replicas > 0:
                    pipe.execute_command("WAIT", self._replicas, REPLICATION_TIMEOUT_MS)
                answers = await pipe.execute()
        except RedisError as error:
            raise LedgerUnavailable(f"{type(error).__name__}: {error}") from error
        holder, made, created = answers[0]
        _report(created)
        if self._replicas > 0 and answers[1] < self._replicas:
            raise LedgerUnavailable(
                f"the claim reached {answers[1]} of {self._replicas} replicas within "
                f"{REPLICATION_TIMEOUT_MS} ms"
            )
        return RideClaim(holder=holder.decode(), new=made == 1)

    async def report_age(self) -> None:
        try:
            # Bounded: a process starting while Redis hangs must not wait on a gauge.
            async with asyncio.timeout(REPORT_BUDGET_S):
                created = await self._redis.eval(_CREATED_SCRIPT, 1, CREATED_KEY, repr(time.time()))
        except (RedisError, TimeoutError):
            return  # the next claim reports it
        _report(created)


# The ledger is created when a process first finds this Redis without its creation record.
_CREATED_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
"""


def _report(created: bytes) -> None:
    RIDE_LEDGER_AGE.set(time.time() - float(created))
