"""Builds the coordination stores where the broker lives (docs/design.md §3a, §4 Retries).

The embedded default's in-memory broker runs every task in this process, so the stores are
this process's memory. A Redis broker's stores use its Redis through the same connection pool
(the process's one, gateway.bootstrap), which follows a Sentinel failover, so everything here
follows it too.
"""

from dataclasses import dataclass

from redis.asyncio import ConnectionPool, Redis

from gateway.coordination.finish_replay import (
    InProcessPricedOrders,
    PricedOrders,
    PricingFlights,
    RedisPricedOrders,
)
from gateway.coordination.finished_first import InProcessFinishedFirst, RedisFinishedFirst
from gateway.coordination.order_lease import InProcessOrderLease, RedisOrderLease, lease_expiry_ms
from gateway.coordination.ride_ledger import (
    InProcessRideLedger,
    RedisRideLedger,
    StoredRideLedger,
)
from gateway.rides.ports import FinishedFirst, FinishReplay, OrderLease
from gateway.settings import Settings

# An in-flight finish-ride marker outlives its request's deadline by this much, then expires.
IN_FLIGHT_MARGIN_MS = 1000


@dataclass(frozen=True, slots=True)
class Coordination:
    ride_ledger: StoredRideLedger
    order_lease: OrderLease
    finish_replay: FinishReplay
    finished_first: FinishedFirst


def coordination_for(pool: ConnectionPool | None, settings: Settings) -> Coordination:
    """The stores on the broker's Redis ``pool``, or in this process's memory beside the
    in-memory broker (None). A ledger claim must reach as many replicas as an enqueue
    (``broker.min_replicas_acked``, docs/design.md §3a, §8) before it counts."""
    replay_s = settings.server.finish_ride_replay_s
    if pool is None:
        in_process = InProcessPricedOrders(replay_s) if replay_s else None
        return Coordination(
            InProcessRideLedger(),
            InProcessOrderLease(),
            PricingFlights(in_process),
            InProcessFinishedFirst(),
        )
    redis = Redis(connection_pool=pool)
    priced: PricedOrders | None = None
    if replay_s:
        in_flight_ms = settings.server.finish_ride_deadline_ms + IN_FLIGHT_MARGIN_MS
        priced = RedisPricedOrders(redis, replay_s, in_flight_ms)
    return Coordination(
        RedisRideLedger(redis, settings.broker.replicas_to_acknowledge()),
        RedisOrderLease(redis, lease_expiry_ms(settings.broker.redelivery_timeout_ms)),
        PricingFlights(priced),
        RedisFinishedFirst(redis),
    )
