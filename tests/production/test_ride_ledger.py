"""The ride ledger in a real Redis (docs/design.md §3a): set only if absent, kept 7 days,
replica-acknowledged, and a creation record whose age the gauge reports."""

import time
import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from gateway.bootstrap import services
from gateway.coordination.ride_ledger import CREATED_KEY, LEDGER_RETENTION_S, RedisRideLedger
from gateway.rides.ports import LedgerUnavailable, RideClaim, RidePerformer, RideRecord
from tests.gateway_world import GatewayFactory
from tests.processes import free_port
from tests.production.stream import StreamProbe, eventually

PERFORMER = RidePerformer(park_id="park-1", driver_profile_id="driver-1", car_id="car-1")


def ledger_age() -> float | None:
    return REGISTRY.get_sample_value("meters_ride_ledger_age_seconds")


@pytest.fixture
def vendor() -> str:
    return f"vendor-{uuid.uuid4().hex[:8]}"


async def test_the_first_order_keeps_the_ride_for_seven_days(
    probe: StreamProbe, vendor: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)

    first = await ledger.claim(vendor, "ride-1", "order-a", PERFORMER)
    again = await ledger.claim(vendor, "ride-1", "order-a", PERFORMER)
    other = await ledger.claim(vendor, "ride-1", "order-b", PERFORMER)

    assert first == RideClaim(holder="order-a", new=True)
    assert again == RideClaim(holder="order-a", new=False)
    assert other == RideClaim(holder="order-a", new=False)
    assert not other.belongs_to("order-b")
    ttl = await probe.redis.ttl(f"meters:ride_ledger:{vendor}:ride-1")
    assert LEDGER_RETENTION_S - 60 < ttl <= LEDGER_RETENTION_S


async def test_a_claim_records_whom_the_ride_was_started_for(
    probe: StreamProbe, vendor: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)
    other_driver = RidePerformer(park_id="park-1", driver_profile_id="driver-2", car_id="car-2")

    await ledger.claim(vendor, "ride-1", "order-a", PERFORMER)
    await ledger.claim(vendor, "ride-1", "order-b", other_driver)

    # The first claim's performer stays, as its holder does.
    assert await ledger.record_of(vendor, "ride-1") == RideRecord("order-a", PERFORMER)
    assert await ledger.record_of(vendor, "ride-2") is None


async def test_an_unsettled_start_takes_the_drivers_next_unclaimed_ride_once(
    probe: StreamProbe, vendor: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)
    same_driver_other_car = RidePerformer(PERFORMER.park_id, PERFORMER.driver_profile_id, "car-9")

    await ledger.mark_unsettled_start(vendor, PERFORMER, "order-a")
    ttl = await probe.redis.ttl(f"meters:ride_ledger_unsettled_start:{vendor}:park-1:driver-1")
    assert LEDGER_RETENTION_S - 60 < ttl <= LEDGER_RETENTION_S
    # The driver's next order is answered an unclaimed ride: it is held for the marked order.
    first = await ledger.claim(vendor, "ride-1", "order-b", same_driver_other_car)
    # The mark went with that answer: the next unclaimed ride is the claimant's own.
    second = await ledger.claim(vendor, "ride-2", "order-c", PERFORMER)

    assert first == RideClaim(holder="order-a", new=True)
    assert second == RideClaim(holder="order-c", new=True)
    assert (
        await probe.redis.exists(f"meters:ride_ledger_unsettled_start:{vendor}:park-1:driver-1")
        == 0
    )


async def test_a_mark_is_gone_with_an_answer_another_order_already_holds(
    probe: StreamProbe, vendor: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)
    await ledger.claim(vendor, "ride-1", "order-a", PERFORMER)
    await ledger.mark_unsettled_start(vendor, PERFORMER, "order-b")

    held = await ledger.claim(vendor, "ride-1", "order-c", PERFORMER)
    later = await ledger.claim(vendor, "ride-2", "order-d", PERFORMER)

    assert held == RideClaim(holder="order-a", new=False)
    assert later == RideClaim(holder="order-d", new=True)


async def test_a_mark_never_covers_another_orders_and_is_lifted_only_by_its_own(
    probe: StreamProbe, vendor: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)
    key = f"meters:ride_ledger_unsettled_start:{vendor}:park-1:driver-1"

    # Each answers whether it made the mark: only its maker may lift it (an earlier run of
    # order-a marking again is told no, since that run's ride may exist).
    assert await ledger.mark_unsettled_start(vendor, PERFORMER, "order-a") is True
    assert await ledger.mark_unsettled_start(vendor, PERFORMER, "order-b") is False
    assert await ledger.mark_unsettled_start(vendor, PERFORMER, "order-a") is False
    await ledger.lift_unsettled_start(vendor, PERFORMER, "order-b")

    # order-a's start may have made the ride still unclaimed: its mark stays.
    assert await probe.redis.get(key) == b"order-a"
    await ledger.lift_unsettled_start(vendor, PERFORMER, "order-a")
    assert await probe.redis.exists(key) == 0


async def test_a_mark_the_replicas_do_not_hold_is_unavailable(
    probe: StreamProbe, vendor: str
) -> None:
    unreplicated = RedisRideLedger(probe.redis, replicas_to_acknowledge=3)

    with pytest.raises(
        LedgerUnavailable, match=r"the mark reached \d of 3 replicas within 1000 ms"
    ):
        await unreplicated.mark_unsettled_start(vendor, PERFORMER, "order-a")


async def test_a_claim_the_replicas_do_not_hold_is_unavailable_yet_never_overwritten(
    probe: StreamProbe, vendor: str
) -> None:
    # More replicas than either test setup has (none, or two under Sentinel): WAIT answers
    # fewer after its one-second bound.
    unreplicated = RedisRideLedger(probe.redis, replicas_to_acknowledge=3)

    with pytest.raises(LedgerUnavailable, match="of 3 replicas within 1000 ms"):
        await unreplicated.claim(vendor, "ride-1", "order-a", PERFORMER)

    later = await RedisRideLedger(probe.redis, 0).claim(vendor, "ride-1", "order-b", PERFORMER)
    assert later == RideClaim(holder="order-a", new=False)


async def test_the_gauge_reports_the_age_of_the_ledger_where_it_lives(
    probe: StreamProbe, vendor: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)
    eight_days_ago = time.time() - 8 * 24 * 3600
    await probe.redis.set(CREATED_KEY, repr(eight_days_ago))
    try:
        await ledger.claim(vendor, "ride-1", "order-a", PERFORMER)
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
            await RedisRideLedger(nowhere, 0).claim(vendor, "ride-1", "order-a", PERFORMER)
        with pytest.raises(LedgerUnavailable):
            await RedisRideLedger(nowhere, 0).record_of(vendor, "ride-1")


@pytest.mark.parametrize(
    ("other_vendor", "other_ride"),
    [
        # Joined bare, both were meters:ride_ledger:<vendor>:r:1, one claim for two rides.
        pytest.param("{vendor}:r", "1", id="separator-moves-between-parts"),
        # What an encoded ":" looks like, sent as an id of its own, is another ride.
        pytest.param("{vendor}", "r%3A1", id="escape-spelled-out"),
    ],
)
async def test_rides_whose_ids_hold_the_separator_are_claimed_apart(
    probe: StreamProbe, vendor: str, other_vendor: str, other_ride: str
) -> None:
    ledger = RedisRideLedger(probe.redis, replicas_to_acknowledge=0)

    first = await ledger.claim(vendor, "r:1", "order-a", PERFORMER)
    second = await ledger.claim(
        other_vendor.format(vendor=vendor), other_ride, "order-b", PERFORMER
    )

    assert first == RideClaim(holder="order-a", new=True)
    assert second == RideClaim(holder="order-b", new=True)


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
