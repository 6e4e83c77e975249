"""What a start-ride run leaves behind (docs/design.md §3, §3a, §9): its StartOutcome, the
``meters_rides_started_total`` series it incremented and its canonical line
``start_ride.finished``, for each way a run ends, and the orphan paths with a vendor that can
cancel (the ride the run started is cancelled only when it is an orphan this run claimed).
"""

import asyncio
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import pytest

from gateway.http.app_keys import SERVICES
from gateway.rides import start_ride as start_ride_module
from gateway.rides.start_ride import StartOutcome, StartResult, start_ride
from gateway.sandbox.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import GET_FIELDS, MONITEX_START, PUSH, SET_FIELDS, SETCAR, setcar_values
from tests.conftest import Gateway, GatewayFactory, RunningWorld
from tests.log_capture import CapturedLog, capture_log_of
from tests.observability.scrape import Labels, increase, labels, scrape
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_cancellable_monitex

RIDE = RideSeed("order-il-1", "alias-il-1")
STARTED = "meters_rides_started_total"


@dataclass
class Run:
    outcome: StartOutcome
    counted: Counter[Labels]
    finished: dict[str, Any]
    log: CapturedLog


async def run_start(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, order_id: str) -> Run:
    """Run the task in-process, as the worker does, and read what it left behind."""
    log = capture_log_of(monkeypatch, start_ride_module)
    before = await scrape(gateway.client)
    outcome = await start_ride(order_id, gateway.client.app[SERVICES])
    counted = increase(before, await scrape(gateway.client), STARTED)
    (finished,) = log.events("start_ride.finished")
    return Run(outcome, counted, dict(finished), log)


def assert_recorded(
    run: Run, vendor: str, result: StartResult, reason: str, *, level: str = "info"
) -> None:
    """The outcome, its one metric increment and its canonical line all say the same; the line
    is a WARNING when an upstream step failed (§9)."""
    assert run.outcome == StartOutcome(result, reason, vendor, "IL" if vendor or reason else "")
    assert run.counted == Counter(
        {labels(vendor=vendor, country=run.outcome.country, result=result, reason=reason): 1}
    )
    line = run.finished
    assert (line["log_level"], line["result"], line["reason"], line["vendor"]) == (
        level,
        result.value,
        reason,
        vendor,
    )
    assert line["country"] == run.outcome.country
    assert line["left_unacknowledged"] is False


def route_israel_to_cancellable(settings_tree: dict[str, Any]) -> None:
    settings_tree["countries"]["IL"]["vendor"] = "cancellable_monitex"
    settings_tree["vendors"]["cancellable_monitex"] = settings_tree["vendors"]["monitex"]


@pytest.fixture
async def cancellable_gateway(
    settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> Gateway:
    route_israel_to_cancellable(settings_tree)
    CancellableMonitex.cancelled.clear()
    return await make_gateway(catalog_with_cancellable_monitex())


VENDOR_FAILS = ("monitex", Fault(MONITEX_START, status=500))
STORE_FAILS = ("order_core", Fault(SET_FIELDS, status=500))
SETCAR_FAILS = ("driver_orders_builder", Fault(SETCAR, status=500))
PUSH_FAILS = ("client_notify", Fault(PUSH, status=500))


@pytest.mark.parametrize(
    ("faults", "result", "reason", "setcar", "failed_steps"),
    [
        pytest.param([], StartResult.STARTED, "ok", ["true"], [], id="started"),
        pytest.param(
            [VENDOR_FAILS],
            StartResult.FALLBACK,
            "vendor_start_failed",
            ["false"],
            [("vendor_start_failed", "FALLBACK")],
            id="vendor-failed",
        ),
        pytest.param(
            [STORE_FAILS],
            StartResult.FALLBACK,
            "ride_id_not_stored",
            ["false"],
            [("ride_id_not_stored", "FALLBACK_AND_CANCEL_RIDE")],
            id="not-stored",
        ),
        pytest.param(
            [SETCAR_FAILS],
            StartResult.ENDED,
            "setcar_failed",
            ["true"],
            [("setcar_failed", "END")],
            id="setcar-failed",
        ),
        pytest.param(
            [VENDOR_FAILS, SETCAR_FAILS],
            StartResult.FALLBACK,
            "vendor_start_failed",
            ["false"],
            [("vendor_start_failed", "FALLBACK"), ("setcar_failed", "END")],
            id="fallback-setcar-failed",
        ),
        pytest.param(
            [PUSH_FAILS],
            StartResult.STARTED,
            "ok",
            ["true"],
            [("push_failed", "IGNORE")],
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
    failed_steps: list[tuple[str, str]],
) -> None:
    world.sims.seed_ride(RIDE)
    for section, fault in faults:
        world.sims.simulators()[section].faults.add(fault)

    run = await run_start(gateway, monkeypatch, "order-il-1")

    assert_recorded(run, "monitex", result, reason, level="warning" if failed_steps else "info")
    assert setcar_values(world.sims) == setcar
    recorded = [(step["step"], step["reaction"]) for step in run.finished.get("failed_steps", [])]
    assert recorded == failed_steps


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


async def test_a_ride_the_order_holds_after_all_is_not_cancelled_but_adopted(
    world: RunningWorld, cancellable_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500, times=1))
    # The order's third read (after the order and its revision) is the orphan check: held
    # back while the write whose answer was lost lands in order-core.
    world.sims.order_core.faults.add(Fault(GET_FIELDS, delay_ms=200, after=2, times=1))

    async def write_lands_during_the_check() -> None:
        for _ in range(400):
            if len(world.sims.order_core.calls.to(GET_FIELDS)) == 3:
                (ride_id,) = world.sims.monitex.rides
                world.sims.seed_ride(replace(RIDE, external_meter_ride_id=ride_id))
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the orphan check never read the order")

    landing = asyncio.create_task(write_lands_during_the_check())
    run = await run_start(cancellable_gateway, monkeypatch, "order-il-1")
    await landing

    assert_recorded(run, "cancellable_monitex", StartResult.ALREADY_STARTED, "ok", level="warning")
    (ride,) = world.sims.monitex.rides.values()
    assert CancellableMonitex.cancelled == []
    assert ride.is_open
    assert run.finished["ride_id"] == ride.id
    assert run.log.events("start_ride.orphaned_ride_left_running") == []
    assert setcar_values(world.sims) == ["true"]
