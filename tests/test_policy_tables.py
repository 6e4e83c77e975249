"""The two tables of the design, as the code holds them: every step and refusal has its row."""

from typing import Any

import pytest

from gateway.http.app_keys import SERVICES
from gateway.plugins.faults import Fault
from gateway.rides.fallback_policy import (
    START_RIDE_FALLBACK_POLICY,
    Reaction,
    StartStep,
    asks_start_again,
    reaction_to,
)
from gateway.rides.finish_refusals import REFUSAL_STATUS, Refusal
from gateway.rides.start_ride import StartOutcome, StartResult, start_ride
from gateway.rides.unacknowledged import LeaveUnacknowledged
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GET_FIELDS,
    IDENTIFICATION,
    MONITEX_START,
    PUSH,
    SET_FIELDS,
    SETCAR,
    setcar_values,
)
from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_cancellable_monitex, catalog_with_refusing_monitex


def test_start_ride_matrix_matches_the_design() -> None:
    assert START_RIDE_FALLBACK_POLICY == {
        StartStep.TAKE_LEASE: Reaction.LEAVE_UNACKNOWLEDGED,
        StartStep.LEASE_LOST: Reaction.LEAVE_UNACKNOWLEDGED,
        StartStep.READ_ORDER: Reaction.END,
        StartStep.DRIVER_NATIONAL_ID: Reaction.FALLBACK,
        StartStep.VEHICLE_PERMIT: Reaction.FALLBACK,
        StartStep.FIXED_PRICE: Reaction.FALLBACK,
        StartStep.VENDOR_START: Reaction.FALLBACK,
        StartStep.VENDOR_REFUSED: Reaction.FALLBACK,
        StartStep.CLAIM_RIDE: Reaction.LEAVE_UNACKNOWLEDGED,
        StartStep.STALE_METER_RIDE: Reaction.FALLBACK,
        StartStep.RIDE_OF_ANOTHER_PERFORMER: Reaction.FALLBACK,
        StartStep.STORE_RIDE_ID: Reaction.FALLBACK_AND_CANCEL_RIDE,
        StartStep.FINISHED_FIRST: Reaction.END_AND_CANCEL_RIDE,
        StartStep.SETCAR: Reaction.END,
        StartStep.PUSH: Reaction.IGNORE,
    }


def test_on_the_last_delivery_only_the_rows_that_stay_pending_change_and_they_fall_back() -> None:
    # docs/design.md §3a "The last delivery": no redelivery follows to decide.
    changed = {
        step: reaction_to(step, last_delivery=True)
        for step in StartStep
        if reaction_to(step, last_delivery=True) is not reaction_to(step)
    }
    assert changed == {
        StartStep.TAKE_LEASE: Reaction.FALLBACK_AND_CANCEL_RIDE,
        StartStep.LEASE_LOST: Reaction.FALLBACK_AND_CANCEL_RIDE,
        StartStep.CLAIM_RIDE: Reaction.FALLBACK_AND_CANCEL_RIDE,
    }


def test_only_a_lost_answer_of_an_idempotent_start_is_asked_again() -> None:
    assert [
        (lost, idempotent)
        for lost in (False, True)
        for idempotent in (False, True)
        if asks_start_again(lost, idempotent)
    ] == [(True, True)]


def test_refusals_match_the_design() -> None:
    # docs/design.md §4's table, then §6's answers of the HTTP surface on every route.
    assert {refusal.value: status for refusal, status in REFUSAL_STATUS.items()} == {
        "invalid_request": 400,
        "unauthorized": 401,
        "order_not_found": 404,
        "order_core_error": 502,
        "not_enabled": 409,
        "prices_differ": 400,
        "fixed_price_mismatch": 400,
        "meter_ride_not_found": 409,
        "vendor_error": 502,
        "meter_ride_not_completed": 409,
        "meter_price_rejected": 409,
        "dry_run": 409,
        "upstream_timeout": 504,
        "ride_ledger_unavailable": 503,
        "payload_too_large": 413,
        "unsupported_media_type": 415,
        "bad_request": 400,
        "request_timeout": 408,
        "not_found": 404,
        "method_not_allowed": 405,
        "internal_error": 500,
        "broker_unavailable": 503,
    }
    assert set(REFUSAL_STATUS) == set(Refusal)


# The flow reads the table: change a row and the behaviour changes with it.


async def test_a_row_set_to_end_stops_the_task_without_telling_the_app(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.VEHICLE_PERMIT, Reaction.END)
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1", permit=None))

    await gateway.start_ride("order-il-1")

    assert setcar_values(world.sims) == []
    assert world.sims.client_notify.calls.to(PUSH) == []


async def test_a_setcar_row_set_to_ignore_still_pushes(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.SETCAR, Reaction.IGNORE)
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.driver_orders_builder.faults.add(Fault(SETCAR, status=500))

    outcome = await start_ride("order-il-1", gateway.client.app[SERVICES].ports)

    # The failed setcar is carried past: the push is sent and the started ride stays started.
    assert outcome == StartOutcome(StartResult.STARTED, "ok", "monitex", "IL")
    assert setcar_values(world.sims) == ["true"]
    (push,) = world.sims.client_notify.calls.to(PUSH)
    assert push.status == 200
    assert len(world.sims.monitex.rides) == 1


async def test_a_store_row_set_to_plain_fallback_does_not_cancel_the_ride(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.STORE_RIDE_ID, Reaction.FALLBACK)
    settings_tree["countries"]["IL"]["vendor"] = "cancellable_monitex"
    settings_tree["vendors"]["cancellable_monitex"] = settings_tree["vendors"].pop("monitex")
    gateway = await make_gateway(catalog_with_cancellable_monitex())
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500))
    CancellableMonitex.cancelled.clear()

    await gateway.start_ride("order-il-1")

    assert CancellableMonitex.cancelled == []
    assert setcar_values(world.sims) == ["false"]


async def test_an_order_read_row_set_to_leave_unacknowledged_leaves_the_run_pending(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.order_core.faults.add(Fault(GET_FIELDS, status=500))
    services = gateway.client.app[SERVICES]
    assert await start_ride("order-il-1", services.ports) == StartOutcome(
        StartResult.ENDED, "order_read_failed"
    )

    monkeypatch.setitem(
        START_RIDE_FALLBACK_POLICY, StartStep.READ_ORDER, Reaction.LEAVE_UNACKNOWLEDGED
    )

    with pytest.raises(LeaveUnacknowledged, match="order_read_failed"):
        await start_ride("order-il-1", services.ports)


async def test_a_push_row_set_to_end_ends_a_started_ride(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.PUSH, Reaction.END)
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.client_notify.faults.add(Fault(PUSH, status=500))

    outcome = await start_ride("order-il-1", gateway.client.app[SERVICES].ports)

    assert outcome == StartOutcome(StartResult.ENDED, "push_failed", "monitex", "IL")
    assert setcar_values(world.sims) == ["true"]


@pytest.mark.parametrize(
    ("row", "reason", "seed", "fault"),
    [
        pytest.param(
            StartStep.DRIVER_NATIONAL_ID,
            "driver_id_unavailable",
            RideSeed("order-il-1", "alias-il-1"),
            ("personal", Fault(IDENTIFICATION, status=500)),
            id="driver-id",
        ),
        pytest.param(
            StartStep.FIXED_PRICE,
            "fixed_price_missing",
            RideSeed("order-il-1", "alias-il-1", fixed_price=None),
            None,
            id="fixed-price",
        ),
        pytest.param(
            StartStep.VENDOR_START,
            "vendor_start_failed",
            RideSeed("order-il-1", "alias-il-1"),
            ("monitex", Fault(MONITEX_START, status=500)),
            id="vendor-start",
        ),
    ],
)
async def test_a_fallback_row_set_to_end_tells_the_app_nothing(
    world: RunningWorld,
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    row: StartStep,
    reason: str,
    seed: RideSeed,
    fault: tuple[str, Fault] | None,
) -> None:
    world.sims.seed_ride(seed)
    if fault is not None:
        world.sims.simulators()[fault[0]].faults.add(fault[1])
    services = gateway.client.app[SERVICES]
    assert await start_ride("order-il-1", services.ports) == StartOutcome(
        StartResult.FALLBACK, reason, "monitex", "IL"
    )
    assert setcar_values(world.sims) == ["false"]

    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, row, Reaction.END)
    world.sims.forget_calls()

    assert await start_ride("order-il-1", services.ports) == StartOutcome(
        StartResult.ENDED, reason, "monitex", "IL"
    )
    assert setcar_values(world.sims) == []
    assert world.sims.client_notify.calls.to(PUSH) == []


async def test_a_stale_ride_row_set_to_end_tells_the_app_nothing(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.seed_ride(RideSeed("order-il-2", "alias-il-2"))
    world.sims.seed_ride(RideSeed("order-il-3", "alias-il-3"))
    services = gateway.client.app[SERVICES]
    await start_ride("order-il-1", services.ports)
    assert await start_ride("order-il-2", services.ports) == StartOutcome(
        StartResult.FALLBACK, "stale_meter_ride", "monitex", "IL"
    )

    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.STALE_METER_RIDE, Reaction.END)
    world.sims.forget_calls()

    assert await start_ride("order-il-3", services.ports) == StartOutcome(
        StartResult.ENDED, "stale_meter_ride", "monitex", "IL"
    )
    assert setcar_values(world.sims) == []
    assert "external_meter_ride_id" not in world.sims.order_core.order("order-il-3")["order"]


async def test_a_vendor_refusal_falls_back_by_its_row(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings_tree["countries"]["IL"]["vendor"] = "refusing_monitex"
    settings_tree["vendors"]["refusing_monitex"] = settings_tree["vendors"].pop("monitex")
    gateway = await make_gateway(catalog_with_refusing_monitex())
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    services = gateway.client.app[SERVICES]
    assert await start_ride("order-il-1", services.ports) == StartOutcome(
        StartResult.FALLBACK, "vendor_refused", "refusing_monitex", "IL"
    )
    assert setcar_values(world.sims) == ["false"]

    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.VENDOR_REFUSED, Reaction.END)
    world.sims.forget_calls()

    assert await start_ride("order-il-1", services.ports) == StartOutcome(
        StartResult.ENDED, "vendor_refused", "refusing_monitex", "IL"
    )
    assert setcar_values(world.sims) == []
