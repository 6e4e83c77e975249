"""What a start-ride run leaves behind (docs/design.md §3, §3a, §9): its StartOutcome, the
``meters_rides_started_total`` series it incremented and its canonical line
``start_ride.finished``, for each way a run ends, and the orphan paths with a vendor that can
cancel (the ride the run started is cancelled only when it is an orphan this run claimed).
"""

import asyncio
import time
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from gateway.plugins import (
    MeterRideFinish,
    MeterRideStart,
    NationalIdNumber,
    PaymentMethod,
    VendorErrorStatus,
)
from gateway.plugins.faults import Fault
from gateway.rides import start_ride as start_ride_module
from gateway.rides.fallback_policy import START_RIDE_FALLBACK_POLICY, Reaction, StartStep
from gateway.rides.start_ride import StartResult
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GET_FIELDS,
    IDENTITY_DOCS,
    MONITEX_GET,
    MONITEX_START,
    PUSH,
    SET_FIELDS,
    SETCAR,
    VEHICLES,
    setcar_values,
)
from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.observability.scrape import increase, labels, samples, scrape
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_closing_monitex, catalog_with_crashing_monitex
from tests.plugins.closing_monitex import ClosingMonitex
from tests.start_runs import (
    assert_left_pending,
    assert_recorded,
    events,
    run_start,
    step_failures,
)

RIDE = RideSeed("order-il-1", "alias-il-1")
DURATION = "meters_start_ride_task_duration_seconds"


VENDOR_FAILS = ("monitex", Fault(MONITEX_START, status=500))
STORE_FAILS = ("order_core", Fault(SET_FIELDS, status=500))
SETCAR_FAILS = ("driver_orders_builder", Fault(SETCAR, status=500))
PUSH_FAILS = ("client_notify", Fault(PUSH, status=500))
IDENTITY_FAILS = ("driver_profiles", Fault(IDENTITY_DOCS, status=500))
PERMIT_FAILS = ("fleet_vehicles", Fault(VEHICLES, status=500))


@pytest.mark.parametrize(
    ("faults", "result", "reason", "setcar", "failed_steps"),
    [
        pytest.param([], StartResult.STARTED, "ok", ["true"], [], id="started"),
        pytest.param(
            [VENDOR_FAILS],
            StartResult.FALLBACK,
            "vendor_start_failed",
            ["false"],
            [("vendor_start_failed", "vendor_error_status", "FALLBACK")],
            id="vendor-failed",
        ),
        pytest.param(
            [IDENTITY_FAILS],
            StartResult.FALLBACK,
            "driver_id_unavailable",
            ["false"],
            [("driver_id_unavailable", "driver_profiles_error_status", "FALLBACK")],
            id="driver-id-failed",
        ),
        pytest.param(
            [PERMIT_FAILS],
            StartResult.FALLBACK,
            "permit_unavailable",
            ["false"],
            [("permit_unavailable", "fleet_vehicles_error_status", "FALLBACK")],
            id="permit-failed",
        ),
        pytest.param(
            [STORE_FAILS],
            StartResult.FALLBACK,
            "ride_id_not_stored",
            ["false"],
            [("ride_id_not_stored", "order_core_error_status", "FALLBACK_AND_CANCEL_RIDE")],
            id="not-stored",
        ),
        pytest.param(
            [SETCAR_FAILS],
            StartResult.ENDED,
            "setcar_failed",
            ["true"],
            [("setcar_failed", "driver_orders_builder_error_status", "END")],
            id="setcar-failed",
        ),
        pytest.param(
            [VENDOR_FAILS, SETCAR_FAILS],
            StartResult.FALLBACK,
            "vendor_start_failed",
            ["false"],
            [
                ("vendor_start_failed", "vendor_error_status", "FALLBACK"),
                ("setcar_failed", "driver_orders_builder_error_status", "END"),
            ],
            id="fallback-setcar-failed",
        ),
        pytest.param(
            [PUSH_FAILS],
            StartResult.STARTED,
            "ok",
            ["true"],
            [("push_failed", "client_notify_error_status", "IGNORE")],
            id="push-ignored",
        ),
    ],
)
async def test_every_run_records_one_outcome_in_its_result_metric_and_line(
    world: RunningWorld,
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    faults: list[tuple[str, Fault]],
    result: StartResult,
    reason: str,
    setcar: list[str],
    failed_steps: list[tuple[str, str, str]],
) -> None:
    world.sims.seed_ride(RIDE)
    for section, fault in faults:
        world.sims.simulators()[section].faults.add(fault)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "monitex", result, reason, level="warning" if failed_steps else "info")
    assert setcar_values(world.sims) == setcar
    fields = ("step", "cause", "reaction")
    recorded = [tuple(step[key] for key in fields) for step in run.finished.get("failed_steps", [])]
    assert recorded == failed_steps
    assert events(run, "start_ride.step_failed") == [
        {"log_level": "debug", **dict(zip(fields, step, strict=True))} for step in failed_steps
    ]
    (ride_id,) = world.sims.monitex.rides or [None]
    stored = [ride_id] if reason in ("ok", "setcar_failed") else []
    assert [event["ride_id"] for event in events(run, "start_ride.ride_id_stored")] == stored
    told = [event["running"] for event in events(run, "start_ride.setcar_updated")]
    assert told == ([] if SETCAR_FAILS in faults else [setcar == ["true"]])
    pushed = SETCAR_FAILS not in faults and PUSH_FAILS not in faults
    assert len(events(run, "start_ride.push_sent")) == (1 if pushed else 0)


async def test_a_runs_duration_is_observed_under_its_result_and_within_the_time_it_took(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    before = await scrape(gateway.client)

    # Not a timing threshold: the run happens inside this interval, however fast or slow.
    began = time.perf_counter()
    await run_start(gateway, monkeypatch, "order-il-1")
    took = time.perf_counter() - began

    after = await scrape(gateway.client)
    series = labels(result="started", redelivered="false")
    assert increase(before, after, f"{DURATION}_count") == Counter({series: 1})
    observed = samples(after, f"{DURATION}_sum")[series] - samples(before, f"{DURATION}_sum").get(
        series, 0.0
    )
    assert 0 < observed <= took


async def test_a_push_row_set_to_end_keeps_a_fallbacks_own_reason(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.PUSH, Reaction.END)
    world.sims.seed_ride(RIDE)
    for section, fault in (VENDOR_FAILS, PUSH_FAILS):
        world.sims.simulators()[section].faults.add(fault)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "monitex", StartResult.FALLBACK, "vendor_start_failed", level="warning")
    assert [step["step"] for step in run.finished["failed_steps"]] == [
        "vendor_start_failed",
        "push_failed",
    ]
    assert setcar_values(world.sims) == ["false"]


async def test_a_vendor_plugin_crashing_at_start_falls_back_and_logs_the_crash(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings_tree["countries"]["IL"]["vendor"] = "start_crashing_monitex"
    settings_tree["vendors"]["start_crashing_monitex"] = settings_tree["vendors"]["monitex"]
    gateway = await make_gateway(catalog_with_crashing_monitex())
    world.sims.seed_ride(RIDE)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(
        run, "start_crashing_monitex", StartResult.FALLBACK, "vendor_start_failed", level="warning"
    )
    (step,) = run.finished["failed_steps"]
    assert step == {
        "step": "vendor_start_failed",
        "cause": "unexpected_RuntimeError",
        "reaction": "FALLBACK",
    }
    # A crash may have happened reading an answer that carried a ride: the plugin's start is
    # idempotent (Monitex's), so it is asked once more (§3a), and crashes again.
    crashes = events(run, "start_ride.vendor_crashed")
    assert len(crashes) == 2
    for crash in crashes:
        assert (crash["log_level"], crash["error_type"]) == ("error", "RuntimeError")
        assert crash["raised_at"].endswith(" in start_ride")
    # The exception's message quoted the national id: it never reaches a log.
    assert "123456782" not in repr(run.log.capture.entries)
    assert setcar_values(world.sims) == ["false"]


@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(RideSeed("order-il-1", "alias-il-1", park_id=""), id="no-park"),
        pytest.param(RideSeed("order-il-1", "alias-il-1", driver_profile_id=""), id="no-driver"),
        pytest.param(RideSeed("order-il-1", ""), id="no-alias"),
    ],
)
async def test_an_order_without_a_performer_is_skipped_calling_no_vendor(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch, seed: RideSeed
) -> None:
    world.sims.seed_ride(seed)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "monitex", StartResult.SKIPPED, "order_without_performer")
    assert world.sims.monitex.calls.all() == []
    assert setcar_values(world.sims) == []


@pytest.mark.parametrize(
    ("seed", "result", "reason", "vendor"),
    [
        pytest.param(RIDE, StartResult.STARTED, "ok", "monitex", id="listed"),
        pytest.param(
            replace(RIDE, park_id=""),
            StartResult.SKIPPED,
            "driver_not_in_rollout",
            "",
            id="no-park",
        ),
        pytest.param(
            replace(RIDE, driver_profile_id=""),
            StartResult.SKIPPED,
            "driver_not_in_rollout",
            "",
            id="no-driver",
        ),
    ],
)
async def test_a_rollout_list_admits_its_driver_and_no_order_missing_a_park_or_driver(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
    seed: RideSeed,
    result: StartResult,
    reason: str,
    vendor: str,
) -> None:
    # Entries an order without a park ("_driver1") or a driver ("park1_") would spell.
    settings_tree["countries"]["IL"]["drivers"] = ["_driver1", "park1_", "park1_driver1"]
    gateway = await make_gateway()
    world.sims.seed_ride(seed)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, vendor, result, reason)
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == (
        1 if result is StartResult.STARTED else 0
    )
    assert setcar_values(world.sims) == (["true"] if result is StartResult.STARTED else [])


async def test_a_successful_start_never_cancels_its_own_ride(
    world: RunningWorld, cancellable_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)

    run = await run_start(cancellable_gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "cancellable_monitex", StartResult.STARTED, "ok")
    (ride,) = world.sims.monitex.rides.values()
    assert CancellableMonitex.cancelled == []
    assert ride.is_open
    assert run.finished["ride_id"] == ride.id
    assert "orphaned_ride_ended" not in run.finished
    assert setcar_values(world.sims) == ["true"]


async def test_an_orphan_this_run_claimed_is_cancelled_and_the_app_falls_back(
    world: RunningWorld, cancellable_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500))

    run = await run_start(cancellable_gateway, monkeypatch, "order-il-1")

    assert_recorded(
        run, "cancellable_monitex", StartResult.FALLBACK, "ride_id_not_stored", level="warning"
    )
    (ride_id,) = world.sims.monitex.rides
    assert CancellableMonitex.cancelled == [ride_id]
    assert run.finished["orphaned_ride_ended"] == ride_id
    assert [event["ride_id"] for event in run.log.events("start_ride.orphaned_ride_cancelled")] == [
        ride_id
    ]
    assert setcar_values(world.sims) == ["false"]


async def test_an_order_in_no_configured_zone_is_skipped_with_no_country(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(replace(RIDE, zone="atlantis"))

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "", StartResult.SKIPPED, "no_vendor_for_zone", country="")
    assert events(run, "start_ride.skipped") == [
        {"log_level": "debug", "reason": "no_vendor_for_zone"}
    ]


async def test_a_run_that_cannot_read_its_order_counts_its_failure_with_no_vendor_or_country(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(GET_FIELDS, status=500))

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "", StartResult.ENDED, "order_read_failed", level="warning", country="")
    assert run.failures == step_failures("", "", ("order_read_failed", "order_core_error_status"))


@pytest.mark.parametrize("same_ride", [True, False], ids=["this-ride", "another-delivery's"])
async def test_a_ride_id_the_order_holds_after_all_is_adopted_and_nothing_is_ended(
    world: RunningWorld,
    cancellable_gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    same_ride: bool,
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500, times=1))
    world.sims.order_core.faults.add(Fault(GET_FIELDS, delay_ms=200, after=2, times=1))
    stored: list[str] = []

    async def a_ride_id_lands_during_the_check() -> None:
        for _ in range(400):
            if len(world.sims.order_core.calls.to(GET_FIELDS)) == 3:
                (ride_id,) = world.sims.monitex.rides
                stored.append(ride_id if same_ride else "ride-of-another-delivery")
                world.sims.seed_ride(replace(RIDE, external_meter_ride_id=stored[0]))
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the orphan check never read the order")

    landing = asyncio.create_task(a_ride_id_lands_during_the_check())
    run = await run_start(cancellable_gateway, monkeypatch, "order-il-1")
    await landing

    assert_recorded(run, "cancellable_monitex", StartResult.ALREADY_STARTED, "ok", level="warning")
    (ride,) = world.sims.monitex.rides.values()
    assert (CancellableMonitex.cancelled, ride.is_open) == ([], True)
    assert run.finished["ride_id"] == stored[0]
    assert events(run, "start_ride.ride_id_stored_meanwhile") == [
        {"log_level": "debug", "ride_id": stored[0]}
    ]
    # A ride is ended only when the order holds none: a person settles the other one.
    left_running = [] if same_ride else [{"log_level": "warning", "ride_id": ride.id}]
    assert events(run, "start_ride.orphaned_ride_left_running") == left_running
    assert setcar_values(world.sims) == ["true"]


async def test_an_orphan_whose_order_cannot_be_read_again_is_left_running(
    world: RunningWorld, cancellable_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500))
    world.sims.order_core.faults.add(Fault(GET_FIELDS, status=500, after=2, times=1))

    run = await run_start(cancellable_gateway, monkeypatch, "order-il-1")

    assert_recorded(
        run, "cancellable_monitex", StartResult.FALLBACK, "ride_id_not_stored", level="warning"
    )
    (ride_id,) = world.sims.monitex.rides
    assert CancellableMonitex.cancelled == []
    assert events(run, "start_ride.orphaned_ride_left_running") == [
        {"log_level": "warning", "ride_id": ride_id, "cause": "order_core_error_status"}
    ]
    assert setcar_values(world.sims) == ["false"]


async def test_an_orphan_an_earlier_run_claimed_is_left_running_and_said_so(
    world: RunningWorld, cancellable_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500, times=2))
    await run_start(cancellable_gateway, monkeypatch, "order-il-1")
    (ride_id,) = world.sims.monitex.rides
    CancellableMonitex.cancelled.clear()

    run = await run_start(cancellable_gateway, monkeypatch, "order-il-1")

    assert_recorded(
        run, "cancellable_monitex", StartResult.FALLBACK, "ride_id_not_stored", level="warning"
    )
    assert CancellableMonitex.cancelled == []
    assert events(run, "start_ride.orphaned_ride_left_running") == [
        {"log_level": "warning", "ride_id": ride_id}
    ]


async def test_an_orphan_of_a_vendor_that_can_neither_cancel_nor_close_is_left_running(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500))

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "monitex", StartResult.FALLBACK, "ride_id_not_stored", level="warning")
    (ride_id,) = world.sims.monitex.rides
    assert world.sims.monitex.rides[ride_id].is_open
    assert events(run, "start_ride.orphaned_ride_left_running") == [
        {"log_level": "warning", "ride_id": ride_id}
    ]
    assert "orphaned_ride_ended" not in run.finished


async def test_a_cancel_that_fails_is_logged_and_the_app_still_falls_back(
    world: RunningWorld, cancellable_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def cancel_refused(self: CancellableMonitex, ride_id: str) -> None:
        raise VendorErrorStatus(500)

    monkeypatch.setattr(CancellableMonitex, "cancel_ride", cancel_refused)
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500))

    run = await run_start(cancellable_gateway, monkeypatch, "order-il-1")

    assert_recorded(
        run, "cancellable_monitex", StartResult.FALLBACK, "ride_id_not_stored", level="warning"
    )
    (ride_id,) = world.sims.monitex.rides
    assert events(run, "start_ride.orphaned_ride_cancel_failed") == [
        {"log_level": "warning", "ride_id": ride_id, "cause": "vendor_error_status"}
    ]
    assert "orphaned_ride_ended" not in run.finished
    assert setcar_values(world.sims) == ["false"]


@pytest.mark.parametrize(
    ("seed", "car_number", "payment_method", "price"),
    [
        pytest.param(RIDE, "12-345-67", PaymentMethod.CASH, Decimal("42.24"), id="cash"),
        pytest.param(
            replace(RIDE, payment_type="card", car_number=""),
            "",
            PaymentMethod.APP,
            Decimal("42.24"),
            id="card",
        ),
        # A fixed price of zero is a price like any other: the ride is closed at zero.
        pytest.param(
            replace(RIDE, fixed_price=0.0), "12-345-67", PaymentMethod.CASH, Decimal(0), id="free"
        ),
    ],
)
async def test_a_vendor_that_closes_orphans_is_handed_the_orders_ride(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
    seed: RideSeed,
    car_number: str,
    payment_method: PaymentMethod,
    price: Decimal,
) -> None:
    settings_tree["countries"]["IL"]["vendor"] = "closing_monitex"
    settings_tree["vendors"]["closing_monitex"] = settings_tree["vendors"]["monitex"]
    gateway = await make_gateway(catalog_with_closing_monitex())
    ClosingMonitex.started.clear()
    ClosingMonitex.closed.clear()
    world.sims.seed_ride(seed)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500))

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(
        run, "closing_monitex", StartResult.FALLBACK, "ride_id_not_stored", level="warning"
    )
    (ride_id,) = world.sims.monitex.rides
    assert ClosingMonitex.started == [
        MeterRideStart(
            order_id="order-il-1",
            driver_national_id=NationalIdNumber("123456782"),
            vehicle_permit="PERMIT-7",
            car_number=car_number,
            country="IL",
            currency="ILS",
            price_limit=price,
        )
    ]
    assert ClosingMonitex.closed == [
        MeterRideFinish(
            order_id="order-il-1",
            ride_id=ride_id,
            car_number=car_number,
            country="IL",
            currency="ILS",
            price=price,
            payment_method=payment_method,
        )
    ]
    assert run.finished["orphaned_ride_ended"] == ride_id


@pytest.mark.parametrize(
    ("step", "fault", "setcar"),
    [
        pytest.param(StartStep.SETCAR, SETCAR_FAILS, ["true"], id="setcar"),
        pytest.param(StartStep.VENDOR_START, VENDOR_FAILS, [], id="vendor-start"),
    ],
)
async def test_a_row_set_to_leave_unacknowledged_leaves_the_run_pending(
    world: RunningWorld,
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    step: StartStep,
    fault: tuple[str, Fault],
    setcar: list[str],
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, step, Reaction.LEAVE_UNACKNOWLEDGED)
    world.sims.seed_ride(RIDE)
    section, injected = fault
    world.sims.simulators()[section].faults.add(injected)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_left_pending(run, "monitex", step.value)
    assert setcar_values(world.sims) == setcar
    assert world.sims.client_notify.calls.to(PUSH) == []


@pytest.mark.parametrize(
    ("seed", "reason", "cause"),
    [
        pytest.param(replace(RIDE, car_id=""), "permit_unavailable", "order_without_car", id="car"),
        pytest.param(
            replace(RIDE, fixed_price=None),
            "fixed_price_missing",
            "order has no fixed price",
            id="fixed-price",
        ),
    ],
)
async def test_an_order_missing_what_the_vendor_needs_falls_back_naming_it(
    world: RunningWorld,
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    seed: RideSeed,
    reason: str,
    cause: str,
) -> None:
    world.sims.seed_ride(seed)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "monitex", StartResult.FALLBACK, reason, level="warning")
    assert run.finished["failed_steps"] == [
        {"step": reason, "cause": cause, "reaction": "FALLBACK"}
    ]
    assert world.sims.monitex.calls.all() == []
    assert setcar_values(world.sims) == ["false"]


async def test_a_bug_in_the_flow_is_counted_and_logged_as_the_gateways_own_fault(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def routing_bug(*_: object) -> None:
        raise RuntimeError("routing bug")

    monkeypatch.setattr(start_ride_module, "meter_route", routing_bug)
    world.sims.seed_ride(RIDE)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "", StartResult.ENDED, "unexpected_error", level="error", country="")
    (crash,) = events(run, "start_ride.crashed")
    assert (crash["log_level"], crash["error_type"]) == ("error", "RuntimeError")
    assert crash["raised_at"].endswith(" in routing_bug")
    assert world.sims.monitex.calls.all() == []
    assert setcar_values(world.sims) == []


RATE_LIMITED = ("monitex", Fault(MONITEX_START, status=429))


async def test_a_429_of_an_idempotent_start_leaves_the_run_for_its_redelivery(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/design.md §3: Monitex's start is idempotent, so the redelivery asks again.
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(Fault(MONITEX_START, status=429, times=1))

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_left_pending(run, "monitex", "vendor_rate_limited")
    assert run.failures == step_failures(
        "monitex", "IL", ("vendor_rate_limited", "vendor_rate_limited")
    )
    assert run.finished["failed_steps"] == [
        {
            "step": "vendor_rate_limited",
            "cause": "vendor_rate_limited",
            "reaction": "LEAVE_UNACKNOWLEDGED",
        }
    ]
    # Nothing was started and nobody is told: the 429 made no ride, so no driver stays marked.
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1
    assert world.sims.monitex.rides == {}
    assert "unsettled_start_marked" not in run.finished
    assert setcar_values(world.sims) == []
    assert world.sims.client_notify.calls.to(PUSH) == []

    redelivered = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(redelivered, "monitex", StartResult.STARTED, "ok")
    assert len(world.sims.monitex.rides) == 1
    assert setcar_values(world.sims) == ["true"]


async def test_a_429_on_the_last_delivery_falls_back(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(RATE_LIMITED[1])

    run = await run_start(gateway, monkeypatch, "order-il-1", last_delivery=True)

    assert_recorded(run, "monitex", StartResult.FALLBACK, "vendor_rate_limited", level="warning")
    assert run.finished["failed_steps"] == [
        {
            "step": "vendor_rate_limited",
            "cause": "vendor_rate_limited",
            "reaction": "FALLBACK_AND_CANCEL_RIDE",
        }
    ]
    assert setcar_values(world.sims) == ["false"]
    assert len(world.sims.client_notify.calls.to(PUSH)) == 1


async def test_a_429_of_a_start_that_is_not_idempotent_falls_back_at_once(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ClosingMonitex's start is not idempotent: its 429 is the vendor-start row of §3.
    settings_tree["countries"]["IL"]["vendor"] = "closing_monitex"
    settings_tree["vendors"]["closing_monitex"] = settings_tree["vendors"]["monitex"]
    gateway = await make_gateway(catalog_with_closing_monitex())
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(RATE_LIMITED[1])

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(
        run, "closing_monitex", StartResult.FALLBACK, "vendor_start_failed", level="warning"
    )
    assert run.finished["failed_steps"] == [
        {"step": "vendor_start_failed", "cause": "vendor_rate_limited", "reaction": "FALLBACK"}
    ]
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1
    assert setcar_values(world.sims) == ["false"]


async def test_the_embedded_broker_never_redelivers_so_a_429_there_falls_back(
    world: RunningWorld, gateway: Gateway
) -> None:
    # A run left pending on the in-memory broker would be lost with the app never told.
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(RATE_LIMITED[1])

    await gateway.start_ride("order-il-1")

    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1
    assert setcar_values(world.sims) == ["false"]
    assert len(world.sims.client_notify.calls.to(PUSH)) == 1


async def test_a_429_on_the_poll_after_a_pending_start_is_a_ride_that_may_exist(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Monitex answered 206 with a ride id: that ride exists whatever its poll is answered. The
    # start is asked again (§3a "A start whose answer was lost") and, its poll still refused,
    # the driver stays marked, so that ride is never answered as the driver's next order's.
    world.sims.monitex.start_pending_polls = 1
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(Fault(MONITEX_GET, status=429))

    run = await run_start(gateway, monkeypatch, "order-il-1", last_delivery=True)

    assert_recorded(run, "monitex", StartResult.FALLBACK, "vendor_start_failed", level="warning")
    assert run.finished["failed_steps"] == [
        {"step": "vendor_start_failed", "cause": "vendor_ride_pending", "reaction": "FALLBACK"}
    ]
    assert run.finished["start_asked_again"] == "vendor_ride_pending"
    assert run.finished["unsettled_start_marked"] is True
    assert len(world.sims.monitex.rides) == 1
    assert setcar_values(world.sims) == ["false"]
