"""Finish-ride replay (docs/design.md §4 Retries): a priced request repeated is answered again.

The driver app retries finish-ride after a timeout, and several requests for one order can
arrive together, on one gateway or several. Once a request is priced, its repeats (``ReplayKey``:
the same order, driver, car and prices) are answered the same 200 body for
``server.finish_ride_replay_s`` without calling the vendor; concurrent ones make one set of
vendor calls. Only a price is stored: a refusal is never replayed, so a retry after it tries
again. The caller consults the replay only after the order read and every check passed for the
request at hand.

How requests for one order meet:

- within a process, one flight per key: the first request prices, the others await the same
  flight and share its outcome, price or refusal; when the pricing request gives up (its
  deadline abandons the vendor calls in flight), a waiting request takes the flight over;
- across gateways, the broker's Redis holds one record per key, read and, when absent, marked
  in a single round trip: ``priced:<price>`` (kept ``finish_ride_replay_s``) answers at once;
  ``pricing:<token>``, an in-flight marker that expires on its own after the finish-ride
  deadline, means another gateway is calling the vendor, and this one polls the record until
  it holds a price (answered as a replay) or is gone (that flight was refused or its gateway
  died: this request then prices itself, as a retry would);
- a Redis error or a Redis slower than ``REDIS_BUDGET_S`` skips the shared record (the
  in-process flight still holds) and never fails the request.
"""

import asyncio
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.coordination.redis_keys import redis_key
from gateway.rides.ports import FinishReplay, Priced, ReplayKey

REDIS_BUDGET_S = 0.1
POLL_INTERVAL_S = 0.05
KEY_NAMESPACE = "meters:finish_replay"
PRICED = "priced:"
PRICING = "pricing:"

log = structlog.get_logger("gateway.coordination")


def replay_redis_key(key: ReplayKey) -> str:
    """The key of the shared record that answers ``key``'s repeats."""
    return redis_key(
        KEY_NAMESPACE,
        key.vendor,
        key.order_id,
        key.park_id,
        key.driver_profile_id,
        key.car_id,
        key.car_number,
        _amount(key.price),
    )


def _amount(price: Decimal) -> str:
    # One spelling per amount (42.2 and 42.20 are one price), as the in-process key compares.
    return f"{price.normalize():f}"


@dataclass(frozen=True, slots=True)
class _Claimed:
    """This gateway prices the order; ``token`` marks its in-flight record (None: no record)."""

    token: str | None


@dataclass(frozen=True, slots=True)
class _Busy:
    """Another gateway is pricing the order."""


class PricedOrders(ABC):
    """Where prices are kept between requests."""

    @abstractmethod
    async def begin(self, key: ReplayKey) -> Decimal | _Claimed | _Busy:
        """The stored price, or the right to price the order, or word that another prices it."""

    @abstractmethod
    async def wait(self, key: ReplayKey) -> Decimal | None:
        """After ``_Busy``: the price once stored, None once the other flight left no price."""

    @abstractmethod
    async def store(self, key: ReplayKey, claim: _Claimed, price: Decimal) -> None:
        """Keep the price for the replay window (best effort)."""

    @abstractmethod
    async def abandon(self, key: ReplayKey, claim: _Claimed) -> None:
        """The flight ended without a price: lift its in-flight marker (best effort)."""


class InProcessPricedOrders(PricedOrders):
    """The embedded default: prices in this process's memory; the flight map covers the rest."""

    def __init__(self, ttl_s: int) -> None:
        self._ttl_s = ttl_s
        self._prices: dict[ReplayKey, tuple[float, Decimal]] = {}

    async def begin(self, key: ReplayKey) -> Decimal | _Claimed | _Busy:
        now = time.monotonic()
        for stale in [known for known, (until, _) in self._prices.items() if until <= now]:
            del self._prices[stale]
        stored = self._prices.get(key)
        return stored[1] if stored is not None else _Claimed(token=None)

    async def wait(self, key: ReplayKey) -> Decimal | None:
        raise AssertionError("a process never reports another process pricing")

    async def store(self, key: ReplayKey, claim: _Claimed, price: Decimal) -> None:
        self._prices[key] = (time.monotonic() + self._ttl_s, price)

    async def abandon(self, key: ReplayKey, claim: _Claimed) -> None:
        """Nothing was marked."""


# Read the record and, when there is none, mark the order as being priced: one round trip.
_BEGIN_SCRIPT = """
local found = redis.call('GET', KEYS[1])
if found then return found end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""
_ABANDON_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisPricedOrders(PricedOrders):
    """Prices in the broker's Redis, shared by every gateway on it."""

    def __init__(self, redis: Redis, ttl_s: int, in_flight_ms: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._in_flight_ms = in_flight_ms

    async def begin(self, key: ReplayKey) -> Decimal | _Claimed | _Busy:
        marker = f"{PRICING}{uuid.uuid4().hex}"
        try:
            async with asyncio.timeout(REDIS_BUDGET_S):
                found = await self._redis.eval(
                    _BEGIN_SCRIPT, 1, replay_redis_key(key), marker, self._in_flight_ms
                )
        except (RedisError, TimeoutError) as error:
            _skipped("begin", error)
            return _Claimed(token=None)
        if found is None:
            return _Claimed(token=marker)
        return _read_record(found.decode()) or _Busy()

    async def wait(self, key: ReplayKey) -> Decimal | None:
        # Bounded by the in-flight marker's expiry, and the request's own deadline above it.
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            try:
                async with asyncio.timeout(REDIS_BUDGET_S):
                    found = await self._redis.get(replay_redis_key(key))
            except (RedisError, TimeoutError) as error:
                _skipped("wait", error)
                return None
            if found is None:
                return None
            price = _read_record(found.decode() if isinstance(found, bytes) else found)
            if price is not None:
                return price

    async def store(self, key: ReplayKey, claim: _Claimed, price: Decimal) -> None:
        try:
            async with asyncio.timeout(REDIS_BUDGET_S):
                await self._redis.set(replay_redis_key(key), f"{PRICED}{price}", ex=self._ttl_s)
        except (RedisError, TimeoutError) as error:
            _skipped("store", error)

    async def abandon(self, key: ReplayKey, claim: _Claimed) -> None:
        if claim.token is None:
            return
        try:
            async with asyncio.timeout(REDIS_BUDGET_S):
                await self._redis.eval(_ABANDON_SCRIPT, 1, replay_redis_key(key), claim.token)
        except (RedisError, TimeoutError) as error:
            _skipped("abandon", error)  # the marker expires on its own


def _read_record(record: str) -> Decimal | None:
    return Decimal(record.removeprefix(PRICED)) if record.startswith(PRICED) else None


def _skipped(operation: str, error: BaseException) -> None:
    log.warning("finish_replay.redis_skipped", operation=operation, error=type(error).__name__)


class _Abandoned(Exception):
    """The request that was pricing gave up (its deadline) before the flight had an outcome."""


class PricingFlights(FinishReplay):
    """Prices each order once per replay window, whoever asks and however often."""

    def __init__(self, priced_orders: PricedOrders | None) -> None:
        """``priced_orders`` None turns replay off (``server.finish_ride_replay_s = 0``)."""
        self._priced_orders = priced_orders
        self._flights: dict[ReplayKey, asyncio.Future[Priced]] = {}

    async def price_once(self, key: ReplayKey, price: Callable[[], Awaitable[Decimal]]) -> Priced:
        """Answer the order's price, calling ``price`` (the vendor calls) only if nobody has.

        A refusal ``price`` raises reaches every request of its flight and is not kept. The
        request that prices runs the vendor calls itself, so its deadline abandons them; the
        requests waiting on it then take over, one of them pricing in turn.
        """
        if self._priced_orders is None:
            return Priced(await price(), replayed=False)
        while (flight := self._flights.get(key)) is not None:
            try:
                joined = await asyncio.shield(flight)
            except _Abandoned:
                continue
            return Priced(joined.price, replayed=True)
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            priced = await self._fly(self._priced_orders, key, price)
        except BaseException as error:
            cut_short = isinstance(error, asyncio.CancelledError)
            flight.set_exception(_Abandoned() if cut_short else error)
            flight.exception()  # answered to whoever waits; nobody waiting is no error
            raise
        else:
            flight.set_result(priced)
        finally:
            del self._flights[key]
        return priced

    @staticmethod
    async def _fly(
        priced_orders: PricedOrders, key: ReplayKey, price: Callable[[], Awaitable[Decimal]]
    ) -> Priced:
        begun = await priced_orders.begin(key)
        if isinstance(begun, _Busy):
            stored = await priced_orders.wait(key)
            if stored is not None:
                return Priced(stored, replayed=True)
            begun = await priced_orders.begin(key)
            if isinstance(begun, _Busy):
                begun = _Claimed(token=None)  # busy again: price without the shared record
        if isinstance(begun, Decimal):
            return Priced(begun, replayed=True)
        try:
            answer = await price()
        except BaseException:
            await priced_orders.abandon(key, begun)
            raise
        await priced_orders.store(key, begun, answer)
        return Priced(answer, replayed=False)
