"""The two tables of the design, as the code holds them: every step and refusal has its row."""

from typing import Any

import pytest

from gateway.rides.fallback_policy import START_RIDE_FALLBACK_POLICY, Reaction, StartStep
from gateway.rides.finish_refusals import REFUSAL_STATUS, Refusal
from gateway.sandbox.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import PUSH, SET_FIELDS, SETCAR, setcar_values
from tests.conftest import Gateway, GatewayFactory, RunningWorld
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_cancellable_monitex


def test_start_ride_matrix_matches_the_design() -> None:
    assert START_RIDE_FALLBACK_POLICY == {
        StartStep.READ_ORDER: Reaction.END,
        StartStep.DRIVER_NATIONAL_ID: Reaction.FALLBACK,
        StartStep.VEHICLE_PERMIT: Reaction.FALLBACK,
        StartStep.FIXED_PRICE: Reaction.FALLBACK,
        StartStep.VENDOR_START: Reaction.FALLBACK,
        StartStep.VENDOR_REFUSED: Reaction.FALLBACK,
        StartStep.STORE_RIDE_ID: Reaction.FALLBACK_AND_CANCEL_RIDE,
        StartStep.SETCAR: Reaction.END,
        StartStep.PUSH: Reaction.IGNORE,
    }


def test_finish_ride_refusals_match_the_design() -> None:
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

    await gateway.start_ride("order-il-1")

    assert len(world.sims.client_notify.calls.to(PUSH)) == 1


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
