"""The simulated world the money-invariant search drives (docs/testing.md "The simulation").

The real start-ride and finish-ride flows run against the shipped simulators on loopback and the
in-process coordination stores, as the embedded default runs them. What a test sees of them is
what the world itself recorded: each Monitex ride with the price limit, driver and vehicle it
was started with, which ride a finish stopped (the stop the simulator received), what
order-core holds and what setcar told each driver's app. The gateway's own records (its
outcome, its metrics) are checked against those, never trusted.

The flows run on an event loop of their own, in a thread, so that Hypothesis's synchronous
rules can drive them: ``Harness.run`` hands a coroutine to that loop and waits for it.
"""

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.bootstrap.registry import discover_vendor_plugins
from gateway.bootstrap.services import open_services
from gateway.broker.start_ride_record import run_start_ride
from gateway.broker.unacknowledged import LeaveUnacknowledged
from gateway.coordination import coordination_for
from gateway.coordination.factory import IN_FLIGHT_MARGIN_MS, Coordination
from gateway.coordination.finish_replay import (
    InProcessPricedOrders,
    PricedOrders,
    PricingFlights,
    RedisPricedOrders,
)
from gateway.plugins.faults import Fault
from gateway.redis_connection import connection_pool
from gateway.rides.finish_ride import FinishDeadline, FinishRideRequest, finish_ride
from gateway.rides.ports import (
    Lease,
    LeaseUnavailable,
    LedgerUnavailable,
    OrderLease,
    Priced,
    ReplayKey,
    RideClaim,
    RideLedger,
    RidePerformer,
    RideRecord,
)
from gateway.rides.start_ride import StartOutcome
from gateway.sandbox.world import RideSeed, settings_for
from gateway.settings import Settings
from tests.calls import MONITEX_START, MONITEX_STOP, SETCAR
from tests.gateway_world import MONITEX_TOKEN, OPTUMPLUS_TOKEN, ShippedWorld
from vendors.optumplus.simulator import Submission

T = TypeVar("T")

# Short timeouts keep a schedule quick; a fault "late" answers after them (the handler still
# runs: its effect lands after the caller gave up, as a real late answer's does).
UPSTREAM_TIMEOUT_MS = 60
VENDOR_TIMEOUT_MS = 80
LATE_MS = 100
MAX_DELIVERIES = 3
SETTLE_POLL_S = 0.005
# Ten times the longest an injected fault holds a handler.
SETTLE_POLLS = int(10 * LATE_MS / 1000 / SETTLE_POLL_S)
RUN_TIMEOUT_S = 30.0
# After a crash: long enough for a request the cancelled run had written to reach its
# simulator (loopback, this loop), so that the ride it makes lands in the crash's step.
CRASH_LANDING_S = 0.02


class FaultyLedger(RideLedger):
    """The in-process ledger, made to fail on the next call when a schedule says: before its
    write (unreachable) or after it (the write landed, its acknowledgement lost, as an
    unreplicated claim)."""

    def __init__(self, inner: RideLedger) -> None:
        self.inner = inner
        self.next_failure: str | None = None
        self.met: Counter[str] = Counter()

    def _fail_before(self) -> None:
        if self.next_failure == "before":
            self.next_failure = None
            self.met["unreachable ride_ledger"] += 1
            raise LedgerUnavailable("the simulation cut the ledger off")

    def _fail_after(self) -> None:
        if self.next_failure == "after":
            self.next_failure = None
            self.met["unacknowledged ride_ledger"] += 1
            raise LedgerUnavailable("the simulation lost the ledger's acknowledgement")

    async def claim(
        self, vendor: str, ride_id: str, order_id: str, performer: RidePerformer
    ) -> RideClaim:
        self._fail_before()
        claim = await self.inner.claim(vendor, ride_id, order_id, performer)
        self._fail_after()
        return claim

    async def record_of(self, vendor: str, ride_id: str) -> RideRecord | None:
        self._fail_before()
        return await self.inner.record_of(vendor, ride_id)

    async def mark_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> bool:
        self._fail_before()
        made = await self.inner.mark_unsettled_start(vendor, performer, order_id)
        self._fail_after()
        return made

    async def lift_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> None:
        self._fail_before()
        await self.inner.lift_unsettled_start(vendor, performer, order_id)


class _LosingLease(Lease):
    """A held lease whose renewal fails before the run's check number ``checks`` + 1."""

    def __init__(self, inner: Lease, checks: int) -> None:
        super().__init__()
        self._inner = inner
        self._checks_left = checks

    def ensure_held(self) -> None:
        if self._checks_left == 0:
            self.lose("the simulation failed the lease's renewal")
        self._checks_left -= 1
        self._inner.ensure_held()
        super().ensure_held()


class FaultyLease(OrderLease):
    """The in-process order lease, made to fail on the next run when a schedule says: its store
    out of reach when the run takes it, or its renewal failing after some of the run's checks."""

    def __init__(self, inner: OrderLease) -> None:
        self.inner = inner
        self.next_failure: str | None = None
        self.lost_after_checks = 0
        self.met: Counter[str] = Counter()

    @asynccontextmanager
    async def hold(self, order_id: str) -> AsyncIterator[Lease | None]:
        failure, self.next_failure = self.next_failure, None
        if failure == "unreachable":
            self.met["unreachable order_lease"] += 1
            raise LeaseUnavailable("the simulation cut the lease's store off")
        async with self.inner.hold(order_id) as lease:
            if lease is not None and failure == "lost":
                self.met["lost order_lease"] += 1
                yield _LosingLease(lease, self.lost_after_checks)
            else:
                yield lease


class _UnreachableRedis:
    """A Redis whose every command fails as a connection refused."""

    async def eval(self, *_: Any) -> Any:
        raise RedisConnectionError("the simulation cut the finish replay's Redis off")

    async def get(self, *_: Any) -> Any:
        raise RedisConnectionError("the simulation cut the finish replay's Redis off")

    async def set(self, *_: Any, **__: Any) -> Any:
        raise RedisConnectionError("the simulation cut the finish replay's Redis off")


class FaultyReplay(PricedOrders):
    """The in-process store of priced requests, made to fail when a schedule says: out of reach
    for the next request (every operation), or only its price's write lost. A failing operation
    is played by the Redis store over a Redis that refuses every command, so what runs is the
    shipped code's handling of a Redis error (docs/design.md §4: the shared record skipped,
    the request never failed)."""

    def __init__(self, inner: PricedOrders, ttl_s: int, in_flight_ms: int) -> None:
        self.inner = inner
        self._unreachable = RedisPricedOrders(cast(Redis, _UnreachableRedis()), ttl_s, in_flight_ms)
        self.next_failure: str | None = None
        self.met: Counter[str] = Counter()

    def _store_for(self, operation: str) -> PricedOrders:
        if self.next_failure == "unreachable" or (
            self.next_failure == "store" and operation == "store"
        ):
            self.met[f"{self.next_failure} finish_replay"] += 1
            return self._unreachable
        return self.inner

    async def begin(self, key: ReplayKey) -> Any:
        return await self._store_for("begin").begin(key)

    async def wait(self, key: ReplayKey) -> Any:
        return await self._store_for("wait").wait(key)

    async def store(self, key: ReplayKey, claim: Any, price: Decimal) -> None:
        await self._store_for("store").store(key, claim, price)

    async def abandon(self, key: ReplayKey, claim: Any) -> None:
        await self._store_for("abandon").abandon(key, claim)


@dataclass
class Delivery:
    """One stream entry of the start-ride task, as the broker keeps it."""

    order_id: str
    deliveries: int = 0


@dataclass
class StartRun:
    order_id: str
    outcome: StartOutcome | None
    """None: the run stayed pending (LeaveUnacknowledged) or crashed."""
    pending_reason: str | None
    """Why the run stayed pending (LeaveUnacknowledged's reason); None otherwise."""
    crashed: bool
    starts: int
    """Vendor start calls this run made."""
    setcars: list[str]
    last_delivery: bool


@dataclass
class FinishAnswer:
    price: Decimal | None
    code: str | None
    replayed: bool
    stopped: list[str]
    """The rides whose stop the vendor received during this request."""
    submitted: list[Submission] | None = None
    """The prices OptumPlus received during this request (filled in by ``Harness.finish``)."""


class Harness:
    """The world, the gateway's services on it, and an event loop to run the flows on."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._stack = AsyncExitStack()
        self.sims = ShippedWorld()
        self.run(self._open())

    def run(self, work: Coroutine[Any, Any, T], timeout_s: float = RUN_TIMEOUT_S) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout_s)

    async def _open(self) -> None:
        urls = await self._stack.enter_async_context(self.sims.running())
        tree = settings_for(urls, monitex_token=MONITEX_TOKEN, optumplus_token=OPTUMPLUS_TOKEN)
        for upstream in tree["upstreams"].values():
            upstream["timeout_ms"] = UPSTREAM_TIMEOUT_MS
        tree["vendors"]["monitex"].update(
            timeout_ms=VENDOR_TIMEOUT_MS, pending_polls=2, pending_poll_interval_ms=1
        )
        tree["broker"] = {"max_deliveries": MAX_DELIVERIES}
        self.settings = Settings(**tree)
        self._base = await self._stack.enter_async_context(
            open_services(self.settings, discover_vendor_plugins(), None)
        )
        self.services = self._base

    def close(self) -> None:
        self.run(self._stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    def new_schedule(self) -> tuple[FaultyLedger, FaultyLease, FaultyReplay]:
        """Fresh coordination stores and no faults left over; every schedule uses ids of its
        own, so the simulators' earlier orders and rides never meet it."""
        for simulator in self.sims.simulators().values():
            simulator.faults.clear()
        fresh, priced = self._stores()
        ledger = FaultyLedger(fresh.ride_ledger)
        lease = FaultyLease(fresh.order_lease)
        replay_s = self.settings.server.finish_ride_replay_s
        replay = FaultyReplay(priced, replay_s, self.settings.server.finish_ride_deadline_ms)
        ports = replace(
            self._base.ports,
            ride_ledger=ledger,
            order_lease=lease,
            finish_replay=PricingFlights(replay),
            finished_first=fresh.finished_first,
        )
        self.services = replace(self._base, ports=ports)
        return ledger, lease, replay

    def _stores(self) -> tuple[Coordination, PricedOrders]:
        """The embedded default's coordination stores, and its store of priced requests."""
        fresh = coordination_for(None, self.settings)
        return fresh, InProcessPricedOrders(self.settings.server.finish_ride_replay_s)

    def seed(self, ride: RideSeed) -> None:
        self.sims.seed_ride(ride)

    def arm(self, section: str, fault: Fault) -> None:
        self.sims.simulators()[section].faults.add(fault)

    def faults_met(self) -> Counter[str]:
        """The injected faults that shaped an answer since the step began, by simulator."""
        return Counter(
            f"{call.fault} {name}"
            for name, simulator in self.sims.simulators().items()
            for call in simulator.calls.all()
            if call.fault is not None
        )

    async def _settled(self) -> None:
        """Every call the simulators received has been answered or given up on by its handler:
        a late answer's effect has landed before anything else is looked at."""
        for _ in range(SETTLE_POLLS):
            if all(
                call.duration_ms is not None
                for simulator in self.sims.simulators().values()
                for call in simulator.calls.all()
            ):
                return
            await asyncio.sleep(SETTLE_POLL_S)
        raise AssertionError("a simulator's handler is still running after the longest fault")

    async def _start(self, order_id: str, last_delivery: bool) -> StartOutcome | str:
        """The run's outcome, or the reason it stayed pending."""
        try:
            return await run_start_ride(order_id, self.services.ports, last_delivery=last_delivery)
        except LeaveUnacknowledged as pending:
            return str(pending)

    def deliver(self, entries: list[Delivery], crash_after_ms: float | None) -> list[StartRun]:
        """Run one delivery of each entry at once (the same order: duplicate deliveries)."""
        return self.run(self._deliver(entries, crash_after_ms))

    async def _deliver(
        self, entries: list[Delivery], crash_after_ms: float | None
    ) -> list[StartRun]:
        monitex = self.sims.monitex
        self.sims.forget_calls()
        for entry in entries:
            entry.deliveries += 1
        runs = [
            asyncio.ensure_future(self._start(entry.order_id, entry.deliveries >= MAX_DELIVERIES))
            for entry in entries
        ]
        crashed = False
        if crash_after_ms is not None:
            _, pending = await asyncio.wait(runs, timeout=crash_after_ms / 1000)
            for run in pending:
                run.cancel()
                crashed = True
        if crashed:
            await asyncio.sleep(CRASH_LANDING_S)
        outcomes: list[StartOutcome | str | None] = []
        for run in runs:
            try:
                outcomes.append(await run)
            except asyncio.CancelledError:
                outcomes.append(None)
        await self._settled()
        setcars = [
            call.body["changes"][-1]["value"]
            for call in self.sims.driver_orders_builder.calls.to(SETCAR)
            if call.status == 200
        ]
        starts = len(monitex.calls.to(MONITEX_START))
        return [
            StartRun(
                entry.order_id,
                outcome if isinstance(outcome, StartOutcome) else None,
                outcome if isinstance(outcome, str) else None,
                crashed and outcome is None,
                starts,
                setcars,
                entry.deliveries >= MAX_DELIVERIES,
            )
            for entry, outcome in zip(entries, outcomes, strict=True)
        ]

    def finish(self, *requests: FinishRideRequest) -> list[FinishAnswer]:
        """The requests at once (one: a plain finish-ride; several: the app's retries and
        another driver's request arriving together). Each answer's ``stopped`` and
        ``submitted`` are what the vendors received while any of them ran."""
        return self.run(self._finish_together(requests))

    async def _finish_together(self, requests: tuple[FinishRideRequest, ...]) -> list[FinishAnswer]:
        optumplus = self.sims.optumplus.submissions
        before = len(optumplus)
        answers = await asyncio.gather(*(self._finish(request) for request in requests))
        submitted = optumplus[before:]
        return [replace(answer, submitted=submitted) for answer in answers]

    async def _finish(self, request: FinishRideRequest) -> FinishAnswer:
        self.sims.forget_calls()
        # The deadline serve's handler gives every request.
        deadline = FinishDeadline.after(self.settings.server.finish_ride_deadline_ms)
        answer = (await finish_ride(request, self.services.ports, deadline)).answer
        await self._settled()
        stopped = [
            call.path.rsplit("/", 1)[-1] for call in self.sims.monitex.calls.to(MONITEX_STOP)
        ]
        if isinstance(answer, Priced):
            return FinishAnswer(answer.price, None, answer.replayed, stopped)
        return FinishAnswer(None, answer.refusal.value, False, stopped)

    def order(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self.sims.order_core.order(order_id)["order"]
        return order

    def setcar_of(self, ride: RideSeed, park_id: str, driver_profile_id: str) -> str | None:
        return self.sims.driver_orders_builder.setcar_value(
            ride.alias_id, park_id, driver_profile_id
        )


class RedisHarness(Harness):
    """The same world with the Redis broker's coordination stores on a real redis-server
    (docs/testing.md "The simulation": the keys of path 3 meet only there)."""

    def __init__(self, redis_url: str) -> None:
        self._redis_url = redis_url
        super().__init__()

    def _stores(self) -> tuple[Coordination, PricedOrders]:
        # One pool for every schedule (its connections are made on the harness's loop).
        if not hasattr(self, "_pool"):
            self._pool = connection_pool(self._redis_url)
        pool = self._pool
        fresh = coordination_for(pool, self.settings)
        server = self.settings.server
        priced = RedisPricedOrders(
            Redis(connection_pool=pool),
            server.finish_ride_replay_s,
            server.finish_ride_deadline_ms + IN_FLIGHT_MARGIN_MS,
        )
        return fresh, priced
