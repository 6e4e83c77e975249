"""A start-ride run meeting its coordination's failures (docs/design.md §3a), in process: the
order lease whose store is unreachable, taken by another run or lost at each side effect, the
ride ledger that cannot record a claim, and a concurrent delivery's ride found after a revision
conflict. The fallback policy's rows decide; each test checks the run followed its row: the
outcome, the metrics and the canonical line it left, and exactly which upstream calls it made.
``tests/production/`` drives the same failures against real Redis processes.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from gateway.http.app_keys import SERVICES
from gateway.plugins.faults import Fault
from gateway.rides.fallback_policy import START_RIDE_FALLBACK_POLICY, Reaction, StartStep
from gateway.rides.ports import Lease, Services
from gateway.rides.start_ride import StartResult
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GATHER,
    GET_FIELDS,
    MONITEX_START,
    READ_ORDER,
    REREAD_ORDER,
    SET_FIELDS,
    SETCAR,
    STORE,
    TELL_APP,
    VENDOR_START,
    calls_made,
    expected,
    setcar_values,
)
from tests.coordination_doubles import (
    CheckedLease,
    CutOffRideLedger,
    GivenOrderLease,
    UnavailableRideLedger,
    lost_once,
    with_coordination,
)
from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_closing_monitex
from tests.start_runs import (
    Run,
    assert_left_pending,
    assert_recorded,
    events,
    failed_steps,
    run_start,
    step_failures,
)

RIDE = RideSeed("order-il-1", "alias-il-1")
REVISION_READ = {f"order_core {GET_FIELDS}": 1}
LEASE_LOST = ("order_lease_lost", "lease_not_renewed", "LEAVE_UNACKNOWLEDGED")


def services_of(gateway: Gateway) -> Services:
    return gateway.client.app[SERVICES]


async def run_holding(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, lease: Lease) -> Run:
    """Run the task for RIDE's order with ``lease`` as its order lease."""
    services = with_coordination(services_of(gateway), order_lease=GivenOrderLease(lease))
    return await run_start(gateway, monkeypatch, RIDE.order_id, services)


def called(world: RunningWorld, section: str, endpoint: str) -> Callable[[], bool]:
    """Whether that upstream endpoint has been called yet, asked when the run checks its lease."""
    return lambda: bool(world.sims.simulators()[section].calls.to(endpoint))


@pytest.mark.parametrize(
    ("reaction", "left_pending"),
    [
        pytest.param(Reaction.LEAVE_UNACKNOWLEDGED, True, id="policy-row"),
        pytest.param(Reaction.FALLBACK, False, id="row-set-to-fallback"),
    ],
)
async def test_a_lease_store_out_of_reach_calls_nothing_and_follows_its_row(
    world: RunningWorld,
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    reaction: Reaction,
    left_pending: bool,
) -> None:
    assert START_RIDE_FALLBACK_POLICY[StartStep.TAKE_LEASE] is Reaction.LEAVE_UNACKNOWLEDGED
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.TAKE_LEASE, reaction)
    world.sims.seed_ride(RIDE)
    services = with_coordination(services_of(gateway), order_lease=GivenOrderLease(None))

    run = await run_start(gateway, monkeypatch, "order-il-1", services)

    # Nobody knows who runs the order: not even the order is read, so there is no app to tell.
    if left_pending:
        assert_left_pending(run, "", "order_lease_unavailable", country="")
    else:
        assert_recorded(
            run, "", StartResult.ENDED, "order_lease_unavailable", level="warning", country=""
        )
    assert failed_steps(run) == [("order_lease_unavailable", "redis_unavailable", reaction.name)]
    assert run.failures == step_failures("", "", ("order_lease_unavailable", "redis_unavailable"))
    assert calls_made(world.sims) == {}


async def test_a_delivery_whose_order_another_run_holds_is_skipped_calling_nothing(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)

    async with services_of(gateway).ports.order_lease.hold("order-il-1") as lease:
        assert lease is not None
        run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "", StartResult.SKIPPED, "already_running", country="")
    assert events(run, "start_ride.already_running") == [{"log_level": "debug"}]
    assert calls_made(world.sims) == {}


@pytest.mark.parametrize(
    ("lost_after", "calls", "setcar"),
    [
        pytest.param(None, [READ_ORDER, GATHER], [], id="before-the-vendor-start"),
        pytest.param(
            ("monitex", MONITEX_START),
            [READ_ORDER, GATHER, VENDOR_START, REVISION_READ],
            [],
            id="before-the-ride-id-is-stored",
        ),
        pytest.param(
            ("order_core", SET_FIELDS),
            [READ_ORDER, GATHER, VENDOR_START, STORE],
            [],
            id="before-setcar",
        ),
        pytest.param(
            ("driver_orders_builder", SETCAR),
            [READ_ORDER, GATHER, VENDOR_START, STORE, {f"driver_orders_builder {SETCAR}": 1}],
            ["true"],
            id="before-the-push",
        ),
    ],
)
async def test_a_run_that_loses_its_lease_stops_before_its_next_side_effect(
    world: RunningWorld,
    cancellable_gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    lost_after: tuple[str, str] | None,
    calls: list[dict[str, int]],
    setcar: list[str],
) -> None:
    world.sims.seed_ride(RIDE)
    lease = lost_once(called(world, *lost_after) if lost_after else lambda: True)

    run = await run_holding(cancellable_gateway, monkeypatch, lease)

    # Another run may hold the order now: it decides, so this one neither falls back nor
    # cancels the ride it started.
    assert_left_pending(run, "cancellable_monitex", "order_lease_lost")
    assert failed_steps(run) == [LEASE_LOST]
    assert run.failures == step_failures(
        "cancellable_monitex", "IL", ("order_lease_lost", "lease_not_renewed")
    )
    assert calls_made(world.sims) == expected(*calls)
    assert setcar_values(world.sims) == setcar
    assert CancellableMonitex.cancelled == []
    assert all(ride.is_open for ride in world.sims.monitex.rides.values())


async def test_a_fallback_whose_lease_is_lost_tells_the_app_nothing(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    # A 401 says nothing was started, so the vendor-start row applies at once (a 500 would be
    # asked again first: the next test).
    world.sims.monitex.faults.add(Fault(MONITEX_START, status=401))
    lease = lost_once(called(world, "monitex", MONITEX_START))

    run = await run_holding(gateway, monkeypatch, lease)

    assert_left_pending(run, "monitex", "order_lease_lost")
    assert failed_steps(run) == [
        ("vendor_start_failed", "vendor_error_status", "FALLBACK"),
        LEASE_LOST,
    ]
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START)


async def test_a_start_to_ask_again_whose_lease_is_lost_asks_nothing_and_marks_nobody(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(Fault(MONITEX_START, status=500))
    lease = lost_once(called(world, "monitex", MONITEX_START))

    run = await run_holding(gateway, monkeypatch, lease)

    # The redelivery asks the vendor again; no fallback is sent that it could contradict.
    assert_left_pending(run, "monitex", "order_lease_lost")
    assert failed_steps(run) == [LEASE_LOST]
    assert "unsettled_start_marked" not in run.finished
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START)


async def test_an_orphan_whose_lease_is_lost_is_neither_cancelled_nor_fallen_back_from(
    world: RunningWorld, cancellable_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500))
    lease = lost_once(called(world, "order_core", SET_FIELDS))

    run = await run_holding(cancellable_gateway, monkeypatch, lease)

    assert_left_pending(run, "cancellable_monitex", "order_lease_lost")
    assert failed_steps(run) == [
        ("ride_id_not_stored", "order_core_error_status", "FALLBACK_AND_CANCEL_RIDE"),
        LEASE_LOST,
    ]
    (ride_id,) = world.sims.monitex.rides
    assert events(run, "start_ride.orphaned_ride_cancel_failed") == [
        {"log_level": "warning", "ride_id": ride_id, "cause": "lease_not_renewed"}
    ]
    assert CancellableMonitex.cancelled == []
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, STORE, REREAD_ORDER)


async def test_a_redelivery_whose_lease_is_lost_does_not_tell_the_app(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(replace(RIDE, external_meter_ride_id="ride-of-the-first-delivery"))

    run = await run_holding(gateway, monkeypatch, lost_once(lambda: True))

    assert_left_pending(run, "monitex", "order_lease_lost")
    assert events(run, "start_ride.already_started") == [{"log_level": "debug"}]
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize(
    ("reaction", "outcome"),
    [
        pytest.param(Reaction.LEAVE_UNACKNOWLEDGED, None, id="policy-row"),
        pytest.param(Reaction.FALLBACK, StartResult.FALLBACK, id="row-set-to-fallback"),
        # The ledger never recorded the ride as this order's: it is not this run's to end.
        pytest.param(
            Reaction.FALLBACK_AND_CANCEL_RIDE, StartResult.FALLBACK, id="row-set-to-cancel"
        ),
        pytest.param(Reaction.END, StartResult.ENDED, id="row-set-to-end"),
    ],
)
async def test_a_ride_the_ledger_cannot_record_is_left_to_the_row_and_never_cancelled(
    world: RunningWorld,
    cancellable_gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    reaction: Reaction,
    outcome: StartResult | None,
) -> None:
    assert START_RIDE_FALLBACK_POLICY[StartStep.CLAIM_RIDE] is Reaction.LEAVE_UNACKNOWLEDGED
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.CLAIM_RIDE, reaction)
    world.sims.seed_ride(RIDE)
    ledger = UnavailableRideLedger()
    services = with_coordination(services_of(cancellable_gateway), ride_ledger=ledger)

    run = await run_start(cancellable_gateway, monkeypatch, "order-il-1", services)

    vendor = "cancellable_monitex"
    if outcome is None:
        assert_left_pending(run, vendor, "ride_ledger_unavailable")
    else:
        assert_recorded(run, vendor, outcome, "ride_ledger_unavailable", level="warning")
    (ride_id,) = world.sims.monitex.rides
    assert ledger.claims == [(vendor, ride_id, "order-il-1")]
    assert failed_steps(run) == [("ride_ledger_unavailable", "redis_unavailable", reaction.name)]
    assert run.failures == step_failures(
        vendor, "IL", ("ride_ledger_unavailable", "redis_unavailable")
    )
    assert run.finished["ride_id"] == ride_id
    # Once the order is routed, every event of the run names its vendor.
    (started,) = run.log.events("start_ride.vendor_started")
    assert dict(started) == {
        "event": "start_ride.vendor_started",
        "log_level": "debug",
        "ride_id": ride_id,
        "vendor": vendor,
    }
    told = TELL_APP if outcome is StartResult.FALLBACK else {}
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, told)
    assert setcar_values(world.sims) == (["false"] if told else [])
    assert CancellableMonitex.cancelled == []
    assert world.sims.monitex.rides[ride_id].is_open


@pytest.mark.parametrize("same_ride", [True, False], ids=["same-ride", "another-ride"])
async def test_a_ride_another_delivery_stored_meanwhile_is_adopted_after_a_revision_conflict(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch, same_ride: bool
) -> None:
    world.sims.seed_ride(RIDE)
    stored: list[str] = []

    def another_delivery_stores_its_ride(_: CheckedLease) -> None:
        # The check just before this run's write: the other delivery's write lands first and
        # moves the order's revision on.
        if world.sims.monitex.rides and not stored:
            (ride_id,) = world.sims.monitex.rides
            stored.append(ride_id if same_ride else "ride-of-another-delivery")
            seed = replace(RIDE, external_meter_ride_id=stored[0])
            world.sims.order_core.add_order(RIDE.order_id, seed.order_document(), order_version=2)

    lease = CheckedLease(another_delivery_stores_its_ride)

    run = await run_holding(gateway, monkeypatch, lease)

    # The write answered 409 (an upstream failure on the line): the order is read again and
    # holds the other delivery's ride, which this run carries on with.
    assert_recorded(run, "monitex", StartResult.ALREADY_STARTED, "ok", level="warning")
    assert failed_steps(run) == []
    assert run.finished["ride_id"] == stored[0]
    assert events(run, "start_ride.ride_id_stored_meanwhile") == [
        {"log_level": "debug", "ride_id": stored[0]}
    ]
    (ride,) = world.sims.monitex.rides.values()
    left_running = [] if same_ride else [{"log_level": "warning", "ride_id": ride.id}]
    assert events(run, "start_ride.orphaned_ride_left_running") == left_running
    assert ride.is_open
    assert world.sims.order_core.order("order-il-1")["order"]["external_meter_ride_id"] == stored[0]
    assert calls_made(world.sims) == expected(
        READ_ORDER, GATHER, VENDOR_START, STORE, REREAD_ORDER, TELL_APP
    )
    assert setcar_values(world.sims) == ["true"]


async def test_the_last_delivery_falls_back_where_a_ledger_it_cannot_reach_would_leave_it_pending(
    world: RunningWorld, cancellable_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3a The last delivery: the broker would dead-letter the next one, so the app is told and
    the meter's ride, whose claim is not known to be this order's, is left for a person."""
    world.sims.seed_ride(RIDE)
    ledger = UnavailableRideLedger()
    services = with_coordination(services_of(cancellable_gateway), ride_ledger=ledger)
    CancellableMonitex.cancelled.clear()

    run = await run_start(
        cancellable_gateway, monkeypatch, "order-il-1", services, last_delivery=True
    )

    vendor = "cancellable_monitex"
    assert_recorded(run, vendor, StartResult.FALLBACK, "ride_ledger_unavailable", level="warning")
    assert failed_steps(run) == [
        ("ride_ledger_unavailable", "redis_unavailable", "FALLBACK_AND_CANCEL_RIDE")
    ]
    (ride_id,) = world.sims.monitex.rides
    assert run.finished["ride_id"] == ride_id
    assert CancellableMonitex.cancelled == []
    assert setcar_values(world.sims) == ["false"]
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, TELL_APP)


async def test_the_last_delivery_whose_lease_is_lost_still_tells_the_app_nothing(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run may hold the order: even the last delivery sends nothing it could contradict."""
    world.sims.seed_ride(RIDE)
    lease = lost_once(called(world, "monitex", MONITEX_START))
    services = with_coordination(services_of(gateway), order_lease=GivenOrderLease(lease))

    run = await run_start(gateway, monkeypatch, RIDE.order_id, services, last_delivery=True)

    assert_left_pending(run, "monitex", "order_lease_lost")
    assert setcar_values(world.sims) == []


async def test_the_last_delivery_whose_lease_cannot_be_taken_falls_back_asking_no_vendor(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3a The last delivery: the order is read without its lease and the app told to fall
    back, so the task does not end in the dead letters with the app untold."""
    world.sims.seed_ride(RIDE)
    services = with_coordination(services_of(gateway), order_lease=GivenOrderLease(None))

    run = await run_start(gateway, monkeypatch, RIDE.order_id, services, last_delivery=True)

    assert_recorded(
        run, "monitex", StartResult.FALLBACK, "order_lease_unavailable", level="warning"
    )
    assert failed_steps(run) == [
        ("order_lease_unavailable", "redis_unavailable", "FALLBACK_AND_CANCEL_RIDE")
    ]
    assert setcar_values(world.sims) == ["false"]
    assert calls_made(world.sims) == expected(READ_ORDER, TELL_APP)


async def test_a_driver_mark_the_ledger_cannot_take_asks_no_vendor_and_leaves_the_task_pending(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3a: the driver is marked before an idempotent-start vendor is asked; with the ledger out
    of reach nothing is asked, and the redelivery decides (the ledger row)."""
    world.sims.seed_ride(RIDE)
    ledger = CutOffRideLedger(services_of(gateway).ports.ride_ledger, "mark_unsettled_start")
    services = with_coordination(services_of(gateway), ride_ledger=ledger)

    run = await run_start(gateway, monkeypatch, "order-il-1", services)

    assert_left_pending(run, "monitex", "ride_ledger_unavailable")
    assert failed_steps(run) == [
        ("ride_ledger_unavailable", "redis_unavailable", "LEAVE_UNACKNOWLEDGED")
    ]
    assert run.failures == step_failures(
        "monitex", "IL", ("ride_ledger_unavailable", "redis_unavailable")
    )
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER)
    assert world.sims.monitex.rides == {}


async def test_a_start_that_is_not_idempotent_touches_no_mark_when_it_fails(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """§3a: the driver's mark guards a ride an idempotent start would answer again; a start
    that is not idempotent never answers an earlier ride, so its failure neither makes nor
    lifts a mark. With the marks out of reach, its refused start falls back as any does."""
    settings_tree["countries"]["IL"]["vendor"] = "closing_monitex"
    settings_tree["vendors"]["closing_monitex"] = settings_tree["vendors"]["monitex"]
    gateway = await make_gateway(catalog_with_closing_monitex())
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(Fault(MONITEX_START, status=401, times=1))
    ledger = CutOffRideLedger(
        services_of(gateway).ports.ride_ledger, "mark_unsettled_start", "lift_unsettled_start"
    )
    services = with_coordination(services_of(gateway), ride_ledger=ledger)

    run = await run_start(gateway, monkeypatch, "order-il-1", services)

    assert_recorded(
        run, "closing_monitex", StartResult.FALLBACK, "vendor_start_failed", level="warning"
    )
    assert failed_steps(run) == [("vendor_start_failed", "vendor_error_status", "FALLBACK")]
    assert events(run, "start_ride.start_mark_not_lifted") == []
    assert "unsettled_start_marked" not in run.finished
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, TELL_APP)
    assert setcar_values(world.sims) == ["false"]


async def test_a_stored_ride_whose_record_cannot_be_read_is_neither_reused_nor_announced(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored ride is reused only once the ledger says whose it is (§3a); out of reach, the
    redelivery decides, and the app is told nothing meanwhile."""
    world.sims.seed_ride(replace(RIDE, external_meter_ride_id="ride-stored"))
    ledger = CutOffRideLedger(services_of(gateway).ports.ride_ledger, "record_of")
    services = with_coordination(services_of(gateway), ride_ledger=ledger)

    run = await run_start(gateway, monkeypatch, "order-il-1", services)

    assert_left_pending(run, "monitex", "ride_ledger_unavailable")
    assert failed_steps(run) == [
        ("ride_ledger_unavailable", "redis_unavailable", "LEAVE_UNACKNOWLEDGED")
    ]
    assert run.failures == step_failures(
        "monitex", "IL", ("ride_ledger_unavailable", "redis_unavailable")
    )
    assert calls_made(world.sims) == expected(READ_ORDER)
    assert setcar_values(world.sims) == []


async def test_a_mark_left_because_the_ledger_was_lost_is_said_on_a_warning(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start Monitex surely refused lifts the mark this run made; with the ledger lost by
    then the mark outlives it (§3a's false positive), and the run says so; its row still
    applies."""
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(Fault(MONITEX_START, status=401, times=1))
    ledger = CutOffRideLedger(services_of(gateway).ports.ride_ledger, "lift_unsettled_start")
    services = with_coordination(services_of(gateway), ride_ledger=ledger)

    run = await run_start(gateway, monkeypatch, "order-il-1", services)

    assert events(run, "start_ride.start_mark_not_lifted") == [
        {"log_level": "warning", "cause": "redis_unavailable"}
    ]
    assert_recorded(run, "monitex", StartResult.FALLBACK, "vendor_start_failed", level="warning")
    assert failed_steps(run) == [("vendor_start_failed", "vendor_error_status", "FALLBACK")]
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, TELL_APP)
    assert setcar_values(world.sims) == ["false"]
