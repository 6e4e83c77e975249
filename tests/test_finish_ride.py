"""The finish-ride endpoint (docs/design.md §4): both vendors' happy paths and every refusal.

Each refusal asserts its status and code and which upstreams were (not) called.
"""

from decimal import Decimal
from typing import Any

import pytest

from gateway.bootstrap.registry import catalog_from_entry_points
from gateway.platform.order import ORDER_FIELDS
from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GET_FIELDS,
    MONITEX_GET,
    MONITEX_STOP,
    OPTUMPLUS_SUBMIT,
    calls_made,
    expected,
    only_call,
)
from tests.gateway_world import (
    DRIVER_HEADERS,
    MONITEX_TOKEN,
    OPTUMPLUS_TOKEN,
    Gateway,
    GatewayFactory,
    RunningWorld,
)
from tests.plugins.catalog import plugin, shipped_entry_points

ISRAELI_RIDE = RideSeed(order_id="order-il-1", alias_id="alias-il-1")
LATVIAN_RIDE = RideSeed(
    order_id="order-lv-1",
    alias_id="alias-lv-1",
    zone="riga",
    car_number="LV-1234",
    national_id=None,
)
READ_ORDER = {f"order_core {GET_FIELDS}": 1}
STOP_AND_READ = {f"monitex {MONITEX_STOP}": 1, f"monitex {MONITEX_GET}": 1}


async def started_israeli_ride(
    world: RunningWorld, gateway: Gateway, ride: RideSeed = ISRAELI_RIDE, meter_agorot: int = 4004
) -> str:
    """Seed the ride, run the start-ride task for it, and forget the calls that made."""
    world.sims.seed_ride(ride)
    world.sims.monitex.set_meter_price(ride.permit or "", meter_agorot)
    await gateway.start_ride(ride.order_id)
    world.sims.forget_calls()
    (ride_id,) = world.sims.monitex.rides
    return ride_id


async def test_monitex_ride_answers_the_meter_price(world: RunningWorld, gateway: Gateway) -> None:
    ride_id = await started_israeli_ride(world, gateway)

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body) == (200, {"price": 40.04})
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ)
    read = only_call(world.sims, "order_core", GET_FIELDS)
    assert read.query == {"order_id": "alias-il-1", "order_id_type": "alias_id"}
    assert read.body == {"fields": list(ORDER_FIELDS)}
    stop = only_call(world.sims, "monitex", MONITEX_STOP)
    assert stop.path == f"/rides/{ride_id}"
    assert stop.headers["authorization"] == f"Bearer {MONITEX_TOKEN}"
    assert stop.body == {"state": "COMPLETED", "paymentMethod": "CASH"}
    assert only_call(world.sims, "monitex", MONITEX_GET).path == f"/rides/{ride_id}"


async def test_non_cash_order_is_stopped_with_app_payment(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_israeli_ride(
        world, gateway, RideSeed("order-il-1", "alias-il-1", payment_type="card")
    )

    status, _ = await gateway.finish_ride("alias-il-1", 42.24)

    assert status == 200
    assert only_call(world.sims, "monitex", MONITEX_STOP).body["paymentMethod"] == "APP"


@pytest.mark.parametrize(
    ("meter_agorot", "status", "answer"),
    [
        (4004, 200, {"price": 40.04}),
        (4304, 200, {"price": 43.04}),
        (3380, 200, {"price": 33.8}),  # 0.8 x 42.24 = 33.792: just inside the band
        (2004, 409, "meter_price_rejected"),
        (5069, 409, "meter_price_rejected"),  # 1.2 x 42.24 = 50.688
    ],
)
async def test_meter_price_must_be_plausible_against_the_fixed_price(
    world: RunningWorld, gateway: Gateway, meter_agorot: int, status: int, answer: Any
) -> None:
    await started_israeli_ride(world, gateway, meter_agorot=meter_agorot)

    got_status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert got_status == status
    assert body == answer if status == 200 else body["code"] == answer
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ)


async def test_optumplus_ride_submits_our_price_and_answers_it(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(LATVIAN_RIDE)

    status, body = await gateway.finish_ride("alias-lv-1", 42.24)

    assert (status, body) == (200, {"price": 42.24})
    assert calls_made(world.sims) == expected(READ_ORDER, {f"optumplus {OPTUMPLUS_SUBMIT}": 1})
    submit = only_call(world.sims, "optumplus", OPTUMPLUS_SUBMIT)
    assert submit.headers["authorization"] == f"Bearer {OPTUMPLUS_TOKEN}"
    assert submit.body == {"car_number": "LV-1234", "price": 4224.0}


@pytest.mark.parametrize(
    "raw_body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(b'"text"', id="a-string"),
        pytest.param(b'{"user_price": 42.24, "driver_price": 42.24}', id="missing-order-id"),
        pytest.param(b'{"order_id": "alias-il-1", "driver_price": 42.24}', id="missing-price"),
        pytest.param(
            b'{"order_id": 7, "user_price": 42.24, "driver_price": 42.24}', id="mistyped-id"
        ),
        pytest.param(
            b'{"order_id": "alias-il-1", "user_price": "42.24", "driver_price": 42.24}',
            id="price-as-string",
        ),
        pytest.param(
            b'{"order_id": "alias-il-1", "user_price": -1, "driver_price": -1}', id="negative"
        ),
        pytest.param(
            b'{"order_id": "alias-il-1", "user_price": 42.241, "driver_price": 42.241}',
            id="three-decimals",
        ),
        pytest.param(
            b'{"order_id": "alias-il-1", "user_price": NaN, "driver_price": NaN}', id="nan"
        ),
        pytest.param(
            b'{"order_id": "alias-il-1", "user_price": 1e400, "driver_price": 1e400}', id="huge"
        ),
        pytest.param(b"", id="empty"),
    ],
)
async def test_invalid_request_is_refused_before_any_upstream_call(
    world: RunningWorld, gateway: Gateway, raw_body: bytes
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)

    response = await gateway.client.post(
        "/driver/v1/meters-integration-api/finish-ride",
        data=raw_body,
        headers={**DRIVER_HEADERS, "Content-Type": "application/json"},
    )

    assert response.status == 400
    body = await response.json()
    assert body["code"] == "invalid_request"
    assert body["message"]
    assert calls_made(world.sims) == expected()


@pytest.mark.parametrize("missing", ["X-YaTaxi-Park-Id", "X-YaTaxi-Driver-Profile-Id"])
async def test_missing_identity_header_is_unauthorized(
    world: RunningWorld, gateway: Gateway, missing: str
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    headers = {name: value for name, value in DRIVER_HEADERS.items() if name != missing}

    status, body = await gateway.finish_ride("alias-il-1", 42.24, headers=headers)

    assert (status, body["code"]) == (401, "unauthorized")
    assert calls_made(world.sims) == expected()


async def test_unknown_order_is_not_found(world: RunningWorld, gateway: Gateway) -> None:
    status, body = await gateway.finish_ride("alias-nobody", 42.24)

    assert (status, body["code"]) == (404, "order_not_found")
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({**DRIVER_HEADERS, "X-YaTaxi-Park-Id": "park2"}, id="other-park"),
        pytest.param(
            {**DRIVER_HEADERS, "X-YaTaxi-Driver-Profile-Id": "driver2"}, id="other-driver"
        ),
    ],
)
async def test_another_drivers_order_is_answered_as_not_found_without_vendor_call(
    world: RunningWorld, gateway: Gateway, headers: dict[str, str]
) -> None:
    await started_israeli_ride(world, gateway)

    status, body = await gateway.finish_ride("alias-il-1", 42.24, headers=headers)

    assert (status, body["code"]) == (404, "order_not_found")
    assert body["message"] == "no such order"
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        pytest.param(Fault(GET_FIELDS, status=500), 502, "order_core_error", id="error-status"),
        pytest.param(Fault(GET_FIELDS, body="malformed"), 502, "order_core_error", id="malformed"),
        pytest.param(Fault(GET_FIELDS, delay_ms=800), 504, "upstream_timeout", id="timeout"),
    ],
)
async def test_order_core_failure_is_refused_without_vendor_call(
    world: RunningWorld, gateway: Gateway, fault: Fault, status: int, code: str
) -> None:
    await started_israeli_ride(world, gateway)
    world.sims.order_core.faults.add(fault)

    got_status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (got_status, body["code"]) == (status, code)
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize(
    "ride",
    [
        pytest.param(RideSeed("order-1", "alias-1", payment_type="corp"), id="corporate"),
        pytest.param(RideSeed("order-1", "alias-1", zone="paris"), id="country-without-vendor"),
        pytest.param(RideSeed("order-1", "alias-1", zone="atlantis"), id="zone-without-country"),
        pytest.param(
            RideSeed("order-1", "alias-1", park_id="park1", driver_profile_id="driver1"),
            id="outside-rollout",
        ),
    ],
)
async def test_orders_outside_the_meter_flow_are_not_enabled(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    ride: RideSeed,
) -> None:
    settings_tree["countries"]["IL"]["drivers"] = ["park1_test-driver"]
    gateway = await make_gateway()
    world.sims.seed_ride(ride)

    status, body = await gateway.finish_ride("alias-1", 42.24)

    assert (status, body["code"]) == (409, "not_enabled")
    assert calls_made(world.sims) == expected(READ_ORDER)


async def test_prices_that_differ_are_refused(world: RunningWorld, gateway: Gateway) -> None:
    await started_israeli_ride(world, gateway)

    status, body = await gateway.finish_ride("alias-il-1", 42.24, driver_price=42.25)

    assert (status, body["code"]) == (400, "prices_differ")
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize("price", [Decimal("42.25"), Decimal("0"), Decimal("4224")])
async def test_price_other_than_the_fixed_price_is_refused(
    world: RunningWorld, gateway: Gateway, price: Decimal
) -> None:
    await started_israeli_ride(world, gateway)

    status, body = await gateway.finish_ride("alias-il-1", price)

    assert (status, body["code"]) == (400, "fixed_price_mismatch")
    assert calls_made(world.sims) == expected(READ_ORDER)


async def test_order_without_fixed_price_is_a_mismatch(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1", fixed_price=None))

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body["code"]) == (400, "fixed_price_mismatch")
    assert calls_made(world.sims) == expected(READ_ORDER)


async def test_monitex_order_without_meter_ride_is_refused(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body["code"]) == (409, "meter_ride_not_found")
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize(
    ("fault", "expected_calls"),
    [
        pytest.param(
            Fault(MONITEX_STOP, status=500), {f"monitex {MONITEX_STOP}": 1}, id="stop-500"
        ),
        pytest.param(
            Fault(MONITEX_STOP, status=401), {f"monitex {MONITEX_STOP}": 1}, id="stop-401"
        ),
        pytest.param(Fault(MONITEX_GET, status=500), STOP_AND_READ, id="get-500"),
        pytest.param(Fault(MONITEX_GET, body="malformed"), STOP_AND_READ, id="get-malformed"),
        pytest.param(Fault(MONITEX_GET, body="truncated"), STOP_AND_READ, id="get-truncated"),
        pytest.param(Fault(MONITEX_GET, body="empty_fields"), STOP_AND_READ, id="get-empty-state"),
    ],
)
async def test_vendor_failure_is_a_vendor_error(
    world: RunningWorld, gateway: Gateway, fault: Fault, expected_calls: dict[str, int]
) -> None:
    await started_israeli_ride(world, gateway)
    world.sims.monitex.faults.add(fault)

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body["code"]) == (502, "vendor_error")
    assert calls_made(world.sims) == expected(READ_ORDER, expected_calls)


async def test_unreachable_vendor_is_a_vendor_error(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    settings_tree["vendors"]["optumplus"]["url"] = "http://127.0.0.1:9"  # discard port: refused
    gateway = await make_gateway()
    world.sims.seed_ride(LATVIAN_RIDE)

    status, body = await gateway.finish_ride("alias-lv-1", 42.24)

    assert (status, body["code"]) == (502, "vendor_error")
    assert calls_made(world.sims) == expected(READ_ORDER)


async def test_ride_that_is_not_completed_after_the_stop_is_refused(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_israeli_ride(world, gateway)
    # The vendor says OK to the stop but the ride goes on running.
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=200))

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body["code"]) == (409, "meter_ride_not_completed")
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ)


async def test_dry_run_calls_the_vendor_but_refuses(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    settings_tree["countries"]["IL"]["dry_run"] = True
    gateway = await make_gateway()
    await started_israeli_ride(world, gateway)

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body["code"]) == (409, "dry_run")
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ)
    (ride,) = world.sims.monitex.rides.values()
    assert ride.state == "COMPLETED"


async def test_vendor_timeout_is_an_upstream_timeout(world: RunningWorld, gateway: Gateway) -> None:
    await started_israeli_ride(world, gateway)
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, delay_ms=1500))

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body["code"]) == (504, "upstream_timeout")
    assert calls_made(world.sims) == expected(READ_ORDER, {f"monitex {MONITEX_STOP}": 1})


async def test_request_past_its_deadline_is_an_upstream_timeout(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    settings_tree["server"] = {"finish_ride_deadline_ms": 300}
    gateway = await make_gateway()
    await started_israeli_ride(world, gateway)
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, delay_ms=600))

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body["code"]) == (504, "upstream_timeout")
    assert "300 ms deadline" in body["message"]


async def test_optumplus_order_without_car_number_is_refused_without_a_call(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(
        RideSeed("order-lv-1", "alias-lv-1", zone="riga", car_number="", national_id=None)
    )

    status, body = await gateway.finish_ride("alias-lv-1", 42.24)

    assert (status, body["code"]) == (502, "vendor_error")
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize("stored_ride_id", ["../admin", "ride?state=x", "a/b", ""])
async def test_ride_id_that_is_not_a_path_segment_never_reaches_the_vendor(
    world: RunningWorld, gateway: Gateway, stored_ride_id: str
) -> None:
    world.sims.seed_ride(
        RideSeed("order-il-1", "alias-il-1", external_meter_ride_id=stored_ride_id)
    )

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    refusal = ("meter_ride_not_found", 409) if not stored_ride_id else ("vendor_error", 502)
    assert (body["code"], status) == refusal
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize("total_price", [4004.5, "4004", None])
async def test_meter_price_that_is_not_whole_agorot_is_a_vendor_error(
    world: RunningWorld, gateway: Gateway, total_price: object
) -> None:
    ride_id = await started_israeli_ride(world, gateway)
    # The meter completes the ride with an odd price; the stop itself then changes nothing.
    ride = world.sims.monitex.rides[ride_id]
    ride.state = ride.state.COMPLETED
    ride.total_price = total_price  # type: ignore[assignment]
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=200))

    status, body = await gateway.finish_ride("alias-il-1", 42.24)

    assert (status, body["code"]) == (502, "vendor_error")


async def test_a_gateway_bug_still_answers_json_so_the_app_falls_back(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    settings_tree["countries"]["LV"]["vendor"] = "wrong_reading_optumplus"
    settings_tree["vendors"]["wrong_reading_optumplus"] = settings_tree["vendors"].pop("optumplus")
    catalog = catalog_from_entry_points(
        [*shipped_entry_points(), plugin("wrong_reading_optumplus", "reading_of_wrong_type")]
    )
    gateway = await make_gateway(catalog)
    world.sims.seed_ride(LATVIAN_RIDE)

    status, body = await gateway.finish_ride("alias-lv-1", 42.24)

    assert (status, body) == (500, {"code": "internal_error", "message": "the gateway failed"})
