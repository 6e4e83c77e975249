"""The two tables of the design, as the code holds them: every step and refusal has its row."""

from typing import Any

import pytest

from gateway.broker.start_ride_record import run_start_ride
from gateway.broker.unacknowledged import LeaveUnacknowledged
from gateway.http.app_keys import SERVICES
from gateway.http.error_catalog import REFUSAL_STATUS, Refusal
from gateway.plugins.faults import Fault
from gateway.plugins.meter_vendor import Capability
from gateway.rides.eligibility import NotEligible
from gateway.rides.fallback_policy import (
    POSSIBLE_REACTIONS,
    START_RIDE_FALLBACK_POLICY,
    ImpossibleReaction,
    OrphanHandling,
    Reaction,
    Stage,
    StartStep,
    asks_start_again,
    check_policy,
    orphan_handling,
    rate_limited_start_step,
    reaction_to,
)
from gateway.rides.finish_policy import FINISH_RIDE_POLICY, FinishRefusal, FinishSituation
from gateway.rides.start_ride import SkipReason, StartOutcome, StartResult, StepFailed, start_ride
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
from tests.start_runs import assert_recorded, events, run_start


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
        StartStep.VENDOR_RATE_LIMITED: Reaction.LEAVE_UNACKNOWLEDGED,
        StartStep.CLAIM_RIDE: Reaction.LEAVE_UNACKNOWLEDGED,
        StartStep.STALE_METER_RIDE: Reaction.FALLBACK,
        StartStep.RIDE_OF_ANOTHER_PERFORMER: Reaction.FALLBACK,
        StartStep.STORE_RIDE_ID: Reaction.FALLBACK_AND_CANCEL_RIDE,
        StartStep.FINISHED_FIRST: Reaction.END_AND_CANCEL_RIDE,
        StartStep.SETCAR: Reaction.END,
        StartStep.PUSH: Reaction.IGNORE,
    }


def test_every_row_is_possible_where_its_step_fails() -> None:
    assert set(POSSIBLE_REACTIONS) == set(StartStep)
    for step, reaction in START_RIDE_FALLBACK_POLICY.items():
        assert reaction in POSSIBLE_REACTIONS[step], step
    check_policy(START_RIDE_FALLBACK_POLICY)


@pytest.mark.parametrize(
    ("step", "reaction"),
    [
        # The app's own channel failed: it cannot carry the fallback.
        pytest.param(StartStep.SETCAR, Reaction.FALLBACK, id="setcar-fallback"),
        # Before the app is told there is nothing to carry on to.
        pytest.param(StartStep.VEHICLE_PERMIT, Reaction.IGNORE, id="permit-ignore"),
        # Without the order there is no app to tell.
        pytest.param(StartStep.READ_ORDER, Reaction.FALLBACK, id="order-read-fallback"),
    ],
)
def test_an_impossible_row_is_rejected(step: StartStep, reaction: Reaction) -> None:
    with pytest.raises(ImpossibleReaction, match=f"{step.name} -> {reaction.name}"):
        check_policy({**START_RIDE_FALLBACK_POLICY, step: reaction})


def test_every_impossible_row_is_named_in_one_refusal() -> None:
    policy = {
        **START_RIDE_FALLBACK_POLICY,
        StartStep.SETCAR: Reaction.FALLBACK,
        StartStep.PUSH: Reaction.FALLBACK,
    }
    with pytest.raises(ImpossibleReaction) as refused:
        check_policy(policy)
    assert str(refused.value) == (
        "start-ride rows that cannot be carried out where their step fails: "
        "SETCAR -> FALLBACK, PUSH -> FALLBACK"
    )


def test_a_row_changed_after_loading_is_refused_where_it_is_looked_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.SETCAR, Reaction.FALLBACK)
    with pytest.raises(ImpossibleReaction) as refused:
        reaction_to(StartStep.SETCAR, stage=Stage.TELLING_APP)
    assert str(refused.value) == "SETCAR -> FALLBACK: impossible where it fails"


def test_a_table_missing_a_row_is_rejected() -> None:
    policy = dict(START_RIDE_FALLBACK_POLICY)
    del policy[StartStep.PUSH]
    with pytest.raises(ImpossibleReaction, match="PUSH -> None"):
        check_policy(policy)


async def test_an_impossible_row_set_after_loading_fails_the_run_loudly(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.SETCAR, Reaction.FALLBACK)
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.driver_orders_builder.faults.add(Fault(SETCAR, status=500))

    run = await run_start(gateway, monkeypatch, "order-il-1")

    # Not quietly ended: the gateway's own fault, counted and logged as one.
    assert_recorded(run, "", StartResult.ENDED, "unexpected_error", level="error", country="")
    (crash,) = events(run, "start_ride.crashed")
    assert crash["error_type"] == "ImpossibleReaction"
    assert world.sims.client_notify.calls.to(PUSH) == []


def test_the_orphan_rule_matches_the_design() -> None:
    # docs/design.md §3a "Orphans", its table row by row.
    cancel = frozenset({Capability.CANCEL_RIDE})
    close = frozenset({Capability.CLOSE_ENDS_ORPHAN})
    idempotent_close = frozenset({Capability.CLOSE_ENDS_ORPHAN, Capability.IDEMPOTENT_START})
    neither = frozenset({Capability.IDEMPOTENT_START})
    rows = {
        (capabilities, new, holds): orphan_handling(
            capabilities, claim_was_new=new, order_holds_ride=holds
        )
        for capabilities in (cancel, close, idempotent_close, neither)
        for new in (False, True)
        for holds in (False, True)
    }
    ended = {
        row: handling
        for row, handling in rows.items()
        if handling is not OrphanHandling.LEAVE_RUNNING
    }
    assert ended == {
        (cancel, True, False): OrphanHandling.CANCEL,
        (close, True, False): OrphanHandling.CLOSE,
    }


def test_every_skip_reason_is_one_type() -> None:
    assert {reason.value for reason in NotEligible} <= {reason.value for reason in SkipReason}
    assert {reason.value for reason in SkipReason} == {
        "already_running",
        "order_not_active",
        "corporate_order",
        "no_vendor_for_zone",
        "driver_not_in_rollout",
        "vendor_cannot_start",
        "order_without_performer",
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
        StartStep.VENDOR_RATE_LIMITED: Reaction.FALLBACK_AND_CANCEL_RIDE,
        StartStep.CLAIM_RIDE: Reaction.FALLBACK_AND_CANCEL_RIDE,
    }


def test_only_a_lost_answer_of_an_idempotent_start_is_asked_again() -> None:
    assert [
        (lost, idempotent)
        for lost in (False, True)
        for idempotent in (False, True)
        if asks_start_again(lost, idempotent)
    ] == [(True, True)]


def test_only_an_idempotent_vendors_429_waits_for_the_redelivery() -> None:
    assert rate_limited_start_step(start_is_idempotent=True) is StartStep.VENDOR_RATE_LIMITED
    assert rate_limited_start_step(start_is_idempotent=False) is StartStep.VENDOR_START


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


def test_finish_ride_situations_match_the_design() -> None:
    # docs/design.md §4's table, read from the flow's side: each situation it meets, its code.
    assert {situation: refusal.value for situation, refusal in FINISH_RIDE_POLICY.items()} == {
        FinishSituation.ORDER_NOT_FOUND: "order_not_found",
        FinishSituation.ORDER_CORE_TIMEOUT: "upstream_timeout",
        FinishSituation.ORDER_CORE_ERROR: "order_core_error",
        FinishSituation.NOT_ELIGIBLE: "not_enabled",
        FinishSituation.PRICES_DIFFER: "prices_differ",
        FinishSituation.FIXED_PRICE_MISMATCH: "fixed_price_mismatch",
        FinishSituation.NO_METER_RIDE: "meter_ride_not_found",
        FinishSituation.RIDE_OF_ANOTHER_PERFORMER: "meter_ride_not_found",
        FinishSituation.RIDE_LEDGER_UNAVAILABLE: "ride_ledger_unavailable",
        FinishSituation.VENDOR_TIMEOUT: "upstream_timeout",
        FinishSituation.VENDOR_ERROR: "vendor_error",
        FinishSituation.VENDOR_CRASHED: "vendor_error",
        FinishSituation.METER_RIDE_NOT_COMPLETED: "meter_ride_not_completed",
        FinishSituation.COMPLETED_WITHOUT_PRICE: "vendor_error",
        FinishSituation.PRICE_OUTSIDE_BAND: "meter_price_rejected",
        FinishSituation.DRY_RUN: "dry_run",
        FinishSituation.DEADLINE_PASSED: "upstream_timeout",
    }
    assert set(FINISH_RIDE_POLICY) == set(FinishSituation)
    # Every code the core can refuse with has its status in the HTTP surface's catalog.
    assert {Refusal.of_finish(refusal) for refusal in FinishRefusal} <= set(REFUSAL_STATUS)


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

    outcome = await start_ride(
        "order-il-1", gateway.client.app[SERVICES].ports, last_delivery=False
    )

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
    assert await run_start_ride("order-il-1", services.ports) == StartOutcome(
        StartResult.ENDED, "order_read_failed"
    )

    monkeypatch.setitem(
        START_RIDE_FALLBACK_POLICY, StartStep.READ_ORDER, Reaction.LEAVE_UNACKNOWLEDGED
    )

    with pytest.raises(LeaveUnacknowledged, match="order_read_failed"):
        await run_start_ride("order-il-1", services.ports)


async def test_a_push_row_set_to_end_ends_a_started_ride(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.PUSH, Reaction.END)
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.client_notify.faults.add(Fault(PUSH, status=500))

    outcome = await start_ride(
        "order-il-1", gateway.client.app[SERVICES].ports, last_delivery=False
    )

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
    assert await start_ride("order-il-1", services.ports, last_delivery=False) == StartOutcome(
        StartResult.FALLBACK, reason, "monitex", "IL"
    )
    assert setcar_values(world.sims) == ["false"]

    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, row, Reaction.END)
    world.sims.forget_calls()

    assert await start_ride("order-il-1", services.ports, last_delivery=False) == StartOutcome(
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
    await start_ride("order-il-1", services.ports, last_delivery=False)
    assert await start_ride("order-il-2", services.ports, last_delivery=False) == StartOutcome(
        StartResult.FALLBACK, "stale_meter_ride", "monitex", "IL"
    )

    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.STALE_METER_RIDE, Reaction.END)
    world.sims.forget_calls()

    assert await start_ride("order-il-3", services.ports, last_delivery=False) == StartOutcome(
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
    assert await start_ride("order-il-1", services.ports, last_delivery=False) == StartOutcome(
        StartResult.FALLBACK, "vendor_refused", "refusing_monitex", "IL"
    )
    assert setcar_values(world.sims) == ["false"]

    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.VENDOR_REFUSED, Reaction.END)
    world.sims.forget_calls()

    assert await start_ride("order-il-1", services.ports, last_delivery=False) == StartOutcome(
        StartResult.ENDED, "vendor_refused", "refusing_monitex", "IL"
    )
    assert setcar_values(world.sims) == []


async def test_the_finish_flow_refuses_with_the_code_its_situations_row_names(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    assert await gateway.finish_ride("alias-il-1", 42.24, driver_price=42.25) == (
        400,
        {"code": "prices_differ", "message": "user_price differs from driver_price"},
    )

    monkeypatch.setitem(
        FINISH_RIDE_POLICY, FinishSituation.PRICES_DIFFER, FinishRefusal.NOT_ENABLED
    )

    # The message is the situation's; the code the row's, and the status the catalog's for it.
    assert await gateway.finish_ride("alias-il-1", 42.24, driver_price=42.25) == (
        409,
        {"code": "not_enabled", "message": "user_price differs from driver_price"},
    )


def test_a_failed_step_names_its_row_and_cause_where_a_traceback_shows_it() -> None:
    failure = StepFailed(StartStep.SETCAR, "driver_orders_builder_timeout")
    assert str(failure) == "setcar_failed: driver_orders_builder_timeout"
