"""The ride ledger in a real Redis (docs/design.md §3a): set only if absent, kept 7 days,
replica-acknowledged, and a creation record whose age the gauge reports."""

import time
import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from gateway import services
from gateway.coordination import LedgerUnavailable, RideClaim
from gateway.coordination.ride_ledger import CREATED_KEY, LEDGER_RETENTION_S, RedisRideLedger
from tests.gateway_world import GatewayFactory
from tests.processes import free_port
from tests.production.stream import StreamProbe, eventually


def ledger_age() -> float | None:
    return REGISTRY.get_sample_value("meters_ride_ledger_age_seconds")


@pytest.fixture
def vendor() -> str:
    return f"vendor-{uuid.uuid4().hex[:8]}"


async def test_the_first_order_keeps_the_ride_for_seven_days(
    probe: StreamProbe, vendor: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)

    first = await ledger.claim(vendor, "ride-1", "order-a")
    again = await ledger.claim(vendor, "ride-1", "order-a")
    other = await ledger.claim(vendor, "ride-1", "order-b")

    assert first == RideClaim(holder="order-a", new=True)
    assert again == RideClaim(holder="order-a", new=False)
    assert other == RideClaim(holder="order-a", new=False)
    assert not other.belongs_to("order-b")
    ttl = await probe.redis.ttl(f"meters:ride_ledger:{vendor}:ride-1")
    assert LEDGER_RETENTION_S - 60 < ttl <= LEDGER_RETENTION_S


async def test_a_claim_the_replicas_do_not_hold_is_unavailable_yet_never_overwritten(
    probe: StreamProbe, vendor: str
) -> None:
    # More replicas than either test setup has (none, or two under Sentinel): WAIT answers
    # fewer after its one-second bound.
    unreplicated = RedisRideLedger(probe.redis, replicas_to_acknowledge=3)

    with pytest.raises(LedgerUnavailable, match="of 3 replicas within 1000 ms"):
        await unreplicated.claim(vendor, "ride-1", "order-a")

    later = await RedisRideLedger(probe.redis, 0).claim(vendor, "ride-1", "order-b")
    assert later == RideClaim(holder="order-a", new=False)


async def test_the_gauge_reports_the_age_of_the_ledger_where_it_lives(
    probe: StreamProbe, vendor: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)
    eight_days_ago = time.time() - 8 * 24 * 3600
    await probe.redis.set(CREATED_KEY, repr(eight_days_ago))
    try:
        await ledger.claim(vendor, "ride-1", "order-a")
        assert (ledger_age() or 0.0) > LEDGER_RETENTION_S

        # Redis came back empty: the next process to look creates the ledger anew.
        await probe.redis.delete(CREATED_KEY)
        await ledger.report_age()
        age = ledger_age()
        assert age is not None
        assert age < LEDGER_RETENTION_S
    finally:
        await probe.redis.delete(CREATED_KEY)


async def test_an_unreachable_ledger_is_unavailable(vendor: str) -> None:
    async with Redis(port=free_port(), socket_connect_timeout=0.2) as nowhere:
        with pytest.raises(LedgerUnavailable):
            await RedisRideLedger(nowhere, 0).claim(vendor, "ride-1", "order-a")


async def test_a_gateway_keeps_the_gauge_current_without_claiming_a_ride(
    production_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    probe: StreamProbe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A gateway claims no rides: only its own reports move its gauge.
    monkeypatch.setattr(services, "LEDGER_AGE_REPORT_INTERVAL_S", 0.05)
    await probe.redis.set(CREATED_KEY, repr(time.time() - 8 * 24 * 3600))
    try:
        await make_gateway()
        assert (ledger_age() or 0.0) > LEDGER_RETENTION_S

        # Redis came back empty: the gateway's next report shows the ledger created anew.
        await probe.redis.delete(CREATED_KEY)
        await eventually(
            lambda: (ledger_age() or LEDGER_RETENTION_S) < LEDGER_RETENTION_S,
            5,
            "the gateway reports the young ledger",
        )
    finally:
        await probe.redis.delete(CREATED_KEY)
