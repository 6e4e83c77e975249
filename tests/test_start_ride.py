"""The start-ride task (docs/design.md §3): the happy path, the short-cuts, every fallback row.

Each test enqueues the task through the gateway's HTTP endpoint, lets the
in-memory worker run it, and asserts exactly which upstream calls were made.
"""

from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.http.app import START_RIDE_PATH
from gateway.platform.order import ORDER_FIELDS
from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GATHER,
    GET_FIELDS,
    IDENTIFICATION,
    IDENTITY_DOCS,
    MONITEX_GET,
    MONITEX_START,
    PUSH,
    READ_ORDER,
    REREAD_ORDER,
    SET_FIELDS,
    SETCAR,
    STORE,
    TELL_APP,
    VEHICLES,
    VENDOR_START,
    calls_made,
    expected,
    only_call,
    setcar_values,
)
from tests.gateway_world import MONITEX_TOKEN, Gateway, GatewayFactory, RunningWorld

ISRAELI_RIDE = RideSeed(order_id="order-il-1", alias_id="alias-il-1")


def step_failures(step: str, cause: str) -> float:
    labels = {"vendor": "monitex", "country": "IL", "step": step, "cause": cause}
    return REGISTRY.get_sample_value("meters_start_ride_step_failures_total", labels) or 0.0


def rides_started(vendor: str, country: str, result: str, reason: str) -> float:
    labels = {"vendor": vendor, "country": country, "result": result, "reason": reason}
    return REGISTRY.get_sample_value("meters_rides_started_total", labels) or 0.0


async def test_happy_path_starts_the_meter_stores_the_ride_and_tells_the_app(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)

    await gateway.start_ride("order-il-1")

    sims = world.sims
    assert calls_made(sims) == expected(READ_ORDER, GATHER, VENDOR_START, STORE, TELL_APP)
    read = sims.order_core.calls.to(GET_FIELDS)
    assert read[0].query == {"order_id": "order-il-1", "order_id_type": "exact_id"}
    assert read[0].headers["content-type"] == "application/bson"
    assert read[0].body == {"fields": list(ORDER_FIELDS)}
    assert read[1].body == {"fields": ["revision"]}
    assert only_call(sims, "driver_profiles", IDENTITY_DOCS).body == {
        "park_driver_profile_id_in_set": ["park1_driver1"]
    }
    assert only_call(sims, "driver_profiles", IDENTITY_DOCS).query == {
        "consumer": "meters-integration-api"
    }
    assert only_call(sims, "personal", IDENTIFICATION).body == {
        "id": "pd-park1-driver1",
        "primary_replica": False,
    }
    vehicles = only_call(sims, "fleet_vehicles", VEHICLES)
    assert vehicles.body == {"id_in_set": ["park1_car1"], "projection": ["data.permit_num"]}
    assert vehicles.query == {"consumer": "meters-integration-api"}
    start = only_call(sims, "monitex", MONITEX_START)
    assert start.headers["authorization"] == f"Bearer {MONITEX_TOKEN}"
    assert start.body == {
        "driverId": "123456782",
        "vehicleLicense": "PERMIT-7",
        "priceLimit": 4224.0,
    }
    (ride_id,) = sims.monitex.rides
    store = only_call(sims, "order_core", SET_FIELDS)
    assert store.query == {"order_id": "order-il-1", "order_id_type": "exact_id"}
    assert store.body == {
        "update": {
            "$set": {"order.external_meter_ride_id": ride_id},
            "$inc": {"order.version": 1},
        },
        "revision": {"order.version": 1, "processing.version": 1},
    }
    assert sims.order_core.order("order-il-1")["order"]["external_meter_ride_id"] == ride_id
    setcar = only_call(sims, "driver_orders_builder", SETCAR)
    assert setcar.query == {
        "order_id": "alias-il-1",
        "park_id": "park1",
        "driver_profile_id": "driver1",
    }
    assert setcar.body == {
        "changes": [{"field": "taximeter_settings.is_external_meter_run", "value": "true"}]
    }
    assert only_call(sims, "client_notify", PUSH).body == {
        "service": "taximeter",
        "intent": "ForcePollingOrder",
        "client_id": "park1-driver1",
        "data": {"code": 1600},
    }


async def test_pending_ride_is_polled_until_it_runs(world: RunningWorld, gateway: Gateway) -> None:
    world.sims.monitex.start_pending_polls = 2
    world.sims.seed_ride(ISRAELI_RIDE)

    await gateway.start_ride("order-il-1")

    (ride_id,) = world.sims.monitex.rides
    assert len(world.sims.monitex.calls.to(MONITEX_GET)) == 2
    assert world.sims.order_core.order("order-il-1")["order"]["external_meter_ride_id"] == ride_id
    assert setcar_values(world.sims) == ["true"]


async def test_redelivered_task_does_not_start_a_second_meter_ride(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    await gateway.start_ride("order-il-1")
    world.sims.forget_calls()

    await gateway.start_ride("order-il-1")

    assert calls_made(world.sims) == expected(READ_ORDER, TELL_APP)
    assert len(world.sims.monitex.rides) == 1
    assert setcar_values(world.sims) == ["true"]


@pytest.mark.parametrize(
    "ride",
    [
        pytest.param(RideSeed("order-1", "alias-1", payment_type="corp"), id="corporate"),
        pytest.param(RideSeed("order-1", "alias-1", zone="paris"), id="country-without-vendor"),
        pytest.param(RideSeed("order-1", "alias-1", zone="atlantis"), id="zone-without-country"),
        pytest.param(RideSeed("order-1", "alias-1", zone="riga"), id="vendor-cannot-start"),
        pytest.param(RideSeed("order-1", "alias-1", driver_profile_id="d9"), id="outside-rollout"),
    ],
)
async def test_orders_outside_the_meter_flow_end_with_nothing_changed(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    ride: RideSeed,
) -> None:
    settings_tree["countries"]["IL"]["drivers"] = ["park1_driver1"]
    gateway = await make_gateway()
    world.sims.seed_ride(ride)

    await gateway.start_ride("order-1")

    assert calls_made(world.sims) == expected(READ_ORDER)
    assert "external_meter_ride_id" not in world.sims.order_core.order("order-1")["order"]


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(GET_FIELDS, status=500), id="error-status"),
        pytest.param(Fault(GET_FIELDS, delay_ms=800), id="timeout"),
        pytest.param(Fault(GET_FIELDS, body="malformed"), id="malformed"),
        pytest.param(Fault(GET_FIELDS, status=404), id="no-such-order"),
    ],
)
async def test_order_read_failure_ends_the_task_without_touching_setcar(
    world: RunningWorld, gateway: Gateway, fault: Fault
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.order_core.faults.add(fault)

    await gateway.start_ride("order-il-1")

    assert calls_made(world.sims) == expected(READ_ORDER)


FALLBACK = {f"driver_orders_builder {SETCAR}": 1, f"client_notify {PUSH}": 1}


def _assert_fell_back(world: RunningWorld, *before_fallback: dict[str, int]) -> None:
    assert calls_made(world.sims) == expected(READ_ORDER, *before_fallback, FALLBACK)
    assert setcar_values(world.sims) == ["false"]
    assert "external_meter_ride_id" not in world.sims.order_core.order("order-il-1")["order"]


@pytest.mark.parametrize(
    ("section", "fault"),
    [
        pytest.param("driver_profiles", Fault(IDENTITY_DOCS, status=500), id="profiles-error"),
        pytest.param("driver_profiles", Fault(IDENTITY_DOCS, delay_ms=800), id="profiles-timeout"),
        pytest.param("personal", Fault(IDENTIFICATION, status=500), id="personal-error"),
        pytest.param("personal", Fault(IDENTIFICATION, body="empty_fields"), id="empty-value"),
        pytest.param("personal", Fault(IDENTIFICATION, body="truncated"), id="personal-truncated"),
        pytest.param("fleet_vehicles", Fault(VEHICLES, status=500), id="fleet-error"),
        pytest.param("fleet_vehicles", Fault(VEHICLES, delay_ms=800), id="fleet-timeout"),
    ],
)
async def test_driver_id_or_permit_failure_falls_back_without_calling_the_vendor(
    world: RunningWorld, gateway: Gateway, section: str, fault: Fault
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.simulators()[section].faults.add(fault)

    await gateway.start_ride("order-il-1")

    assert world.sims.monitex.calls.to(MONITEX_START) == []
    assert setcar_values(world.sims) == ["false"]
    assert len(world.sims.client_notify.calls.to(PUSH)) == 1
    assert world.sims.order_core.calls.to(SET_FIELDS) == []


@pytest.mark.parametrize(
    "ride",
    [
        pytest.param(RideSeed("order-il-1", "alias-1", national_id=None), id="no-id-document"),
        pytest.param(
            RideSeed("order-il-1", "alias-1", id_document_type="passport"), id="wrong-doc-type"
        ),
        pytest.param(RideSeed("order-il-1", "alias-1", permit=None), id="no-permit"),
    ],
)
async def test_missing_driver_id_or_permit_falls_back(
    world: RunningWorld, gateway: Gateway, ride: RideSeed
) -> None:
    world.sims.seed_ride(ride)

    await gateway.start_ride("order-il-1")

    assert world.sims.monitex.calls.to(MONITEX_START) == []
    assert setcar_values(world.sims) == ["false"]
    assert len(world.sims.client_notify.calls.to(PUSH)) == 1


async def test_order_without_fixed_price_falls_back(world: RunningWorld, gateway: Gateway) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-1", fixed_price=None))

    await gateway.start_ride("order-il-1")

    _assert_fell_back(world)


# Monitex's start is idempotent: a failure that may have made a ride (§3a "A start whose answer
# was lost") is asked once more; a 401 says nothing was done and is not.
@pytest.mark.parametrize(
    ("fault", "starts"),
    [
        pytest.param(Fault(MONITEX_START, status=500), 2, id="error-status"),
        pytest.param(Fault(MONITEX_START, status=401), 1, id="refused"),
        pytest.param(Fault(MONITEX_START, delay_ms=1500), 2, id="timeout"),
        pytest.param(Fault(MONITEX_START, body="malformed"), 2, id="malformed"),
        pytest.param(Fault(MONITEX_START, body="empty_fields"), 2, id="empty-ride-id"),
        pytest.param(Fault(MONITEX_START, pending_forever=True), 2, id="pending-forever"),
    ],
)
async def test_vendor_start_failure_falls_back_and_leaves_order_proc_alone(
    world: RunningWorld, gateway: Gateway, fault: Fault, starts: int
) -> None:
    world.sims.monitex.start_pending_polls = 1
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.monitex.faults.add(fault)

    await gateway.start_ride("order-il-1")

    assert len(world.sims.monitex.calls.to(MONITEX_START)) == starts
    assert world.sims.order_core.calls.to(SET_FIELDS) == []
    assert len(world.sims.order_core.calls.to(GET_FIELDS)) == 1
    assert setcar_values(world.sims) == ["false"]
    assert len(world.sims.client_notify.calls.to(PUSH)) == 1


async def test_pending_forever_polls_the_configured_number_of_times(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.monitex.faults.add(Fault(MONITEX_START, pending_forever=True))

    await gateway.start_ride("order-il-1")

    # Still pending may be a ride: asked again (§3a), the idempotent start answers the same
    # queued ride, polled as often again.
    assert len(world.sims.monitex.calls.to(MONITEX_GET)) == 6
    _assert_fell_back(world, GATHER, VENDOR_START, VENDOR_START, {f"monitex {MONITEX_GET}": 6})


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(SET_FIELDS, status=500), id="error-status"),
        pytest.param(Fault(SET_FIELDS, delay_ms=800), id="timeout"),
    ],
)
async def test_storing_the_ride_id_failure_falls_back(
    world: RunningWorld, gateway: Gateway, fault: Fault
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.order_core.faults.add(fault)

    await gateway.start_ride("order-il-1")

    # §3a Orphans: the order is read again to see whether it holds the ride after all.
    _assert_fell_back(world, GATHER, VENDOR_START, STORE, REREAD_ORDER)


async def test_revision_read_failure_falls_back(world: RunningWorld, gateway: Gateway) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.order_core.faults.add(Fault(GET_FIELDS, status=500, after=1))

    await gateway.start_ride("order-il-1")

    # The revision read, then §3a's re-read of the order (failing too): no cancel, a fallback.
    _assert_fell_back(world, GATHER, VENDOR_START, {f"order_core {GET_FIELDS}": 2})


async def test_setcar_failure_ends_the_task_without_a_push(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.driver_orders_builder.faults.add(Fault(SETCAR, status=500))

    await gateway.start_ride("order-il-1")

    assert calls_made(world.sims) == expected(
        READ_ORDER, GATHER, VENDOR_START, STORE, {f"driver_orders_builder {SETCAR}": 1}
    )


async def test_setcar_failure_during_a_fallback_ends_the_task_without_a_push(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.monitex.faults.add(Fault(MONITEX_START, status=500))
    world.sims.driver_orders_builder.faults.add(Fault(SETCAR, status=500))
    setcar_failures = step_failures("setcar_failed", "driver_orders_builder_error_status")

    await gateway.start_ride("order-il-1")

    # The task's outcome keeps the vendor's reason; the setcar failure is counted on its own.
    assert step_failures("setcar_failed", "driver_orders_builder_error_status") == (
        setcar_failures + 1
    )

    # The 500 may have made a ride: Monitex's idempotent start is asked once more (§3a).
    assert calls_made(world.sims) == expected(
        READ_ORDER, GATHER, VENDOR_START, VENDOR_START, {f"driver_orders_builder {SETCAR}": 1}
    )
    assert setcar_values(world.sims) == ["false"]


async def test_push_failure_is_ignored(world: RunningWorld, gateway: Gateway) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.client_notify.faults.add(Fault(PUSH, status=500))

    await gateway.start_ride("order-il-1")

    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, STORE, TELL_APP)
    assert "external_meter_ride_id" in world.sims.order_core.order("order-il-1")["order"]
    assert setcar_values(world.sims) == ["true"]


async def test_simultaneous_deliveries_run_once_and_the_others_are_skipped_calling_nothing(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    # The first run is still storing its ride when the second delivery arrives.
    world.sims.order_core.faults.add(Fault(SET_FIELDS, delay_ms=200, times=1))
    skipped = rides_started("", "", "skipped", "already_running")
    started = rides_started("monitex", "IL", "started", "ok")

    for _ in range(2):
        response = await gateway.client.post(START_RIDE_PATH, json={"order_id": "order-il-1"})
        assert response.status == 202
    await gateway.wait_for_tasks()

    (ride_id,) = world.sims.monitex.rides
    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, STORE, TELL_APP)
    assert world.sims.order_core.order("order-il-1")["order"]["external_meter_ride_id"] == ride_id
    assert setcar_values(world.sims) == ["true"]
    assert rides_started("", "", "skipped", "already_running") == skipped + 1
    assert rides_started("monitex", "IL", "started", "ok") == started + 1


async def test_write_that_loses_to_an_unrelated_change_is_made_once_more(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=409, times=1))

    await gateway.start_ride("order-il-1")

    (ride_id,) = world.sims.monitex.rides
    # order, revision, re-read after the race, fresh revision
    assert len(world.sims.order_core.calls.to(GET_FIELDS)) == 4
    assert len(world.sims.order_core.calls.to(SET_FIELDS)) == 2
    assert world.sims.order_core.order("order-il-1")["order"]["external_meter_ride_id"] == ride_id
    assert setcar_values(world.sims) == ["true"]


async def test_write_that_keeps_losing_the_race_falls_back(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=409))

    await gateway.start_ride("order-il-1")

    assert len(world.sims.order_core.calls.to(SET_FIELDS)) == 2
    assert "external_meter_ride_id" not in world.sims.order_core.order("order-il-1")["order"]
    assert setcar_values(world.sims) == ["false"]
    assert len(world.sims.client_notify.calls.to(PUSH)) == 1


@pytest.mark.parametrize(
    ("section", "fault"),
    [
        pytest.param("order_core", Fault(SET_FIELDS, body="malformed"), id="set-fields"),
        pytest.param("driver_orders_builder", Fault(SETCAR, body="malformed"), id="setcar"),
        pytest.param("client_notify", Fault(PUSH, body="truncated"), id="push"),
    ],
)
async def test_calls_whose_contract_is_just_200_do_not_read_the_body(
    world: RunningWorld, gateway: Gateway, section: str, fault: Fault
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.simulators()[section].faults.add(fault)

    await gateway.start_ride("order-il-1")

    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, STORE, TELL_APP)
    assert setcar_values(world.sims) == ["true"]
    assert "external_meter_ride_id" in world.sims.order_core.order("order-il-1")["order"]


@pytest.mark.parametrize("status", ["finished", "cancelled"])
async def test_an_order_no_longer_live_is_skipped_calling_nothing_else(
    world: RunningWorld, gateway: Gateway, status: str
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1", status=status))
    skipped = rides_started("", "IL", "skipped", "order_not_active")

    await gateway.start_ride("order-il-1")

    assert calls_made(world.sims) == expected(READ_ORDER)
    assert rides_started("", "IL", "skipped", "order_not_active") == skipped + 1


async def test_a_pending_order_still_starts(world: RunningWorld, gateway: Gateway) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1", status="pending"))

    await gateway.start_ride("order-il-1")

    assert calls_made(world.sims) == expected(READ_ORDER, GATHER, VENDOR_START, STORE, TELL_APP)
