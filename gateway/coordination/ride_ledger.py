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

Each claim records who the ride was started for (``RidePerformer``: the driver and the car), so
a ride stored on an order that moved to another driver is never reused or stopped for them.

Before a vendor whose start is idempotent is asked, the run marks its driver as awaiting its
order's ride; the claim of the ride answered takes the mark away, and a start that surely made
nothing lifts it. A mark left behind (the answer lost, the run crashed, the ledger out of reach
at the claim) makes the next ride id the vendor answers that driver, if no order holds it yet,
claimed for the order that left the mark; the mark is gone with that answer, whatever it was
(docs/design.md §3a "A start whose answer was lost").
"""

import asyncio
import json
import time
from abc import abstractmethod
from collections import deque
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.coordination.redis_keys import redis_key
from gateway.metrics import RIDE_LEDGER_AGE
from gateway.rides.ports import (
    LedgerUnavailable,
    RideClaim,
    RideLedger,
    RidePerformer,
    RideRecord,
)

LEDGER_RETENTION_S = 7 * 24 * 3600
# WAIT's own bound, as for an enqueue (docs/design.md §8).
REPLICATION_TIMEOUT_MS = 1000
REPORT_BUDGET_S = 0.1
KEY_NAMESPACE = "meters:ride_ledger"
CREATED_KEY = "meters:ride_ledger_created"
# Under the ledger's own prefix: the ledger is one concern, whatever Redis permissions name it by.
UNSETTLED_NAMESPACE = "meters:ride_ledger_unsettled_start"


class StoredRideLedger(RideLedger):
    """The ledger as a store: the core's port, and the age it reports (§9)."""

    @abstractmethod
    async def report_age(self) -> None:
        """Set ``meters_ride_ledger_age_seconds`` from the ledger's creation record."""


def _record_from_json(stored: bytes | str) -> RideRecord:
    entry = json.loads(stored)
    return RideRecord(
        holder=entry["order"],
        performer=RidePerformer(entry["park"], entry["driver"], entry["car"]),
    )


class InProcessRideLedger(StoredRideLedger):
    """The embedded default's ledger: this process's memory, created when the process started."""

    def __init__(self) -> None:
        self._created_at = time.time()
        self._records: dict[tuple[str, str], RideRecord] = {}
        # Claims in the order they were made, so the expired ones are dropped from the front.
        self._claimed: deque[tuple[float, tuple[str, str]]] = deque()
        self._unsettled: dict[tuple[str, str, str], tuple[float, str]] = {}

    async def claim(
        self, vendor: str, ride_id: str, order_id: str, performer: RidePerformer
    ) -> RideClaim:
        now = self._expire()
        marked = self._unsettled.pop(_driver_key(vendor, performer), None)
        key = (vendor, ride_id)
        record = self._records.get(key)
        new = record is None
        if record is None:
            record = RideRecord(marked[1] if marked is not None else order_id, performer)
            self._records[key] = record
            self._claimed.append((now + LEDGER_RETENTION_S, key))
        await self.report_age()
        return RideClaim(holder=record.holder, new=new)

    async def record_of(self, vendor: str, ride_id: str) -> RideRecord | None:
        self._expire()
        return self._records.get((vendor, ride_id))

    async def mark_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> bool:
        now = self._expire()
        key = _driver_key(vendor, performer)
        if key in self._unsettled:
            return False
        self._unsettled[key] = (now + LEDGER_RETENTION_S, order_id)
        return True

    async def lift_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> None:
        key = _driver_key(vendor, performer)
        marked = self._unsettled.get(key)
        if marked is not None and marked[1] == order_id:
            del self._unsettled[key]

    def _expire(self) -> float:
        now = time.monotonic()
        while self._claimed and self._claimed[0][0] <= now:
            _, expired = self._claimed.popleft()
            del self._records[expired]
        for stale in [key for key, (until, _) in self._unsettled.items() if until <= now]:
            del self._unsettled[stale]
        return now

    async def report_age(self) -> None:
        RIDE_LEDGER_AGE.set(time.time() - self._created_at)


# One round trip, atomic: the creation record (kept forever); the driver's unsettled-start
# mark, taken and removed (it names the claimant when present); the claim (SET NX, never
# overwritten), recording the claimant and the performer; then the record and the creation time.
_CLAIM_SCRIPT = """
redis.call('SET', KEYS[2], ARGV[3], 'NX')
local claimant = redis.call('GET', KEYS[3]) or ARGV[1]
redis.call('DEL', KEYS[3])
local record = cjson.encode({order = claimant, park = ARGV[4], driver = ARGV[5], car = ARGV[6]})
local made = redis.call('SET', KEYS[1], record, 'NX', 'EX', ARGV[2])
return {redis.call('GET', KEYS[1]), made and 1 or 0, redis.call('GET', KEYS[2])}
"""


class RedisRideLedger(StoredRideLedger):
    """The production ledger, in the broker's Redis.

    A claim is followed by ``WAIT replicas 1000`` on the same connection (one pipeline), like
    an enqueue: a claim the replicas do not hold could vanish in a failover, so it counts as
    not made and the run stops unacknowledged.
    """

    def __init__(self, redis: Redis, replicas_to_acknowledge: int) -> None:
        self._redis = redis
        self._replicas = replicas_to_acknowledge

    async def claim(
        self, vendor: str, ride_id: str, order_id: str, performer: RidePerformer
    ) -> RideClaim:
        (record, made, created), acknowledged = await self._run(
            _CLAIM_SCRIPT,
            [_ride_key(vendor, ride_id), CREATED_KEY, _unsettled_key(vendor, performer)],
            [
                order_id,
                LEDGER_RETENTION_S,
                repr(time.time()),
                performer.park_id,
                performer.driver_profile_id,
                performer.car_id,
            ],
        )
        _report(created)
        self._require_replicas("claim", acknowledged)
        return RideClaim(holder=_record_from_json(record).holder, new=made == 1)

    async def record_of(self, vendor: str, ride_id: str) -> RideRecord | None:
        try:
            # Bounded as the finish-ride replay's reads are: a hung Redis must not hold a driver.
            async with asyncio.timeout(REPORT_BUDGET_S):
                stored = await self._redis.get(_ride_key(vendor, ride_id))
        except (RedisError, TimeoutError) as error:
            raise LedgerUnavailable(f"{type(error).__name__}: {error}") from error
        return None if stored is None else _record_from_json(stored)

    async def mark_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> bool:
        made, acknowledged = await self._run(
            _MARK_SCRIPT, [_unsettled_key(vendor, performer)], [order_id, LEDGER_RETENTION_S]
        )
        self._require_replicas("mark", acknowledged)
        # SET NX answers OK when it wrote, nil (None from a script) when a mark was there.
        return made is not None

    async def lift_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> None:
        await self._run(_LIFT_SCRIPT, [_unsettled_key(vendor, performer)], [order_id])

    async def _run(self, script: str, keys: list[str], args: list[str | int]) -> tuple[Any, int]:
        """The script's answer, and how many replicas acknowledged its writes (WAIT, on the same
        connection; not asked when none need to)."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.eval(script, len(keys), *keys, *args)
                if self._replicas > 0:
                    pipe.execute_command("WAIT", self._replicas, REPLICATION_TIMEOUT_MS)
                answers = await pipe.execute()
        except RedisError as error:
            raise LedgerUnavailable(f"{type(error).__name__}: {error}") from error
        return answers[0], answers[1] if self._replicas > 0 else 0

    def _require_replicas(self, what: str, acknowledged: int) -> None:
        """A write the replicas do not hold could vanish in a failover: it counts as not made."""
        if acknowledged < self._replicas:
            raise LedgerUnavailable(
                f"the {what} reached {acknowledged} of {self._replicas} replicas within "
                f"{REPLICATION_TIMEOUT_MS} ms"
            )

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


# Never over another order's mark: that order's ride may be the one still unclaimed.
_MARK_SCRIPT = """
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
"""
# Only the order's own mark.
_LIFT_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _ride_key(vendor: str, ride_id: str) -> str:
    return redis_key(KEY_NAMESPACE, vendor, ride_id)


def _unsettled_key(vendor: str, performer: RidePerformer) -> str:
    return redis_key(UNSETTLED_NAMESPACE, vendor, performer.park_id, performer.driver_profile_id)


def _driver_key(vendor: str, performer: RidePerformer) -> tuple[str, str, str]:
    return (vendor, performer.park_id, performer.driver_profile_id)


def _report(created: bytes) -> None:
    RIDE_LEDGER_AGE.set(time.time() - float(created))
