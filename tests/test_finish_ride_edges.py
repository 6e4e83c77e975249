"""Finish-ride decisions at their edges (docs/design.md §4): the plausibility band's bounds,
the rollout allow-list, another driver's order, and a vendor plugin that crashes.

Each test compares the whole JSON answer and the upstream calls it made.
"""

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from gateway.http import finish_ride_handler
from gateway.http.app_keys import SERVICES
from gateway.plugins import MeterRideFinish, PaymentMethod
from gateway.plugins.faults import Fault
from gateway.rides import finish_ride as finish_ride_module
from gateway.rides.finish_ride import FinishDeadline, FinishRideRequest
from gateway.sandbox.world import RideSeed
from tests.calls import GET_FIELDS, MONITEX_GET, MONITEX_STOP, calls_made, expected
from tests.coordination_doubles import CutOffRideLedger
from tests.gateway_world import DRIVER_HEADERS, Gateway, GatewayFactory, RunningWorld
from tests.log_capture import capture_log_of
from tests.plugins.catalog import catalog_with_closing_monitex, catalog_with_crashing_monitex
from tests.plugins.closing_monitex import ClosingMonitex
from tests.test_finish_ride import started_israeli_ride

# 50.00 ILS fixed: the default band [0.8, 1.2] is exactly [40.00, 60.00], whole agorot.
FIFTY = RideSeed(order_id="order-il-1", alias_id="alias-il-1", fixed_price=50.0)
READ_ORDER = {f"order_core {GET_FIELDS}": 1}
STOP_AND_READ = {f"monitex {MONITEX_STOP}": 1, f"monitex {MONITEX_GET}": 1}


async def started_ride(world: RunningWorld, gateway: Gateway, ride: RideSeed, agorot: int) -> None:
    world.sims.seed_ride(ride)
    world.sims.monitex.set_meter_price(ride.permit or "", agorot)
    await gateway.start_ride(ride.order_id)
    world.sims.forget_calls()


@pytest.mark.parametrize(
    ("agorot", "status", "body"),
    [
        pytest.param(4000, 200, {"price": 40.0}, id="exactly-min"),
        pytest.param(6000, 200, {"price": 60.0}, id="exactly-max"),
        pytest.param(
            3999,
            409,
            {
                "code": "meter_price_rejected",
                "message": "meter price 39.99 is outside [0.8, 1.2] x 50.0",
            },
            id="one-agora-below",
        ),
        pytest.param(
            6001,
            409,
            {
                "code": "meter_price_rejected",
                "message": "meter price 60.01 is outside [0.8, 1.2] x 50.0",
            },
            id="one-agora-above",
        ),
    ],
)
async def test_the_band_includes_its_edges_and_nothing_beyond(
    world: RunningWorld, gateway: Gateway, agorot: int, status: int, body: dict[str, Any]
) -> None:
    await started_ride(world, gateway, FIFTY, agorot)

    answer = await gateway.finish_ride("alias-il-1", 50.0)

    assert answer == (status, body)
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ)


@pytest.mark.parametrize(
    ("headers", "alias_id"),
    [
        pytest.param({**DRIVER_HEADERS, "X-YaTaxi-Park-Id": "park2"}, "alias-il-1", id="park"),
        pytest.param(
            {**DRIVER_HEADERS, "X-YaTaxi-Driver-Profile-Id": "driver2"}, "alias-il-1", id="driver"
        ),
        pytest.param(DRIVER_HEADERS, "alias-il-404", id="missing-order"),
    ],
)
async def test_another_drivers_order_is_answered_exactly_as_a_missing_one(
    world: RunningWorld, gateway: Gateway, headers: dict[str, str], alias_id: str
) -> None:
    await started_ride(world, gateway, FIFTY, 5000)

    answer = await gateway.finish_ride(alias_id, 50.0, headers=headers)

    assert answer == (404, {"code": "order_not_found", "message": "no such order"})
    assert calls_made(world.sims) == expected(READ_ORDER)


@pytest.mark.parametrize(
    ("drivers", "answer"),
    [
        pytest.param(["park1_driver1"], (200, {"price": 50.0}), id="listed"),
        pytest.param(["park0_driver0", "park1_driver1"], (200, {"price": 50.0}), id="among"),
        pytest.param(
            ["park1_driver2", "park2_driver1", "driver1", "park1"],
            (
                409,
                {
                    "code": "not_enabled",
                    "message": "smart meter not enabled: driver_not_in_rollout",
                },
            ),
            id="unlisted",
        ),
    ],
)
async def test_the_rollout_admits_a_listed_park_driver_and_only_them(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    drivers: list[str],
    answer: tuple[int, dict[str, Any]],
) -> None:
    settings_tree["countries"]["IL"]["drivers"] = drivers
    gateway = await make_gateway()
    world.sims.seed_ride(FIFTY)
    world.sims.monitex.set_meter_price(FIFTY.permit or "", 5000)
    await gateway.start_ride(FIFTY.order_id)
    started = len(world.sims.monitex.rides)
    world.sims.forget_calls()

    assert await gateway.finish_ride("alias-il-1", 50.0) == answer
    assert started == (1 if answer[0] == 200 else 0)


@pytest.mark.parametrize(
    ("vendor", "crashed_in"),
    [
        pytest.param("stop_crashing_monitex", "stop_ride", id="stop"),
        pytest.param("price_crashing_monitex", "get_price", id="price"),
    ],
)
async def test_a_vendor_plugin_crashing_at_finish_is_a_vendor_error_logged_as_ours(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
    vendor: str,
    crashed_in: str,
) -> None:
    settings_tree["countries"]["IL"]["vendor"] = vendor
    settings_tree["vendors"][vendor] = settings_tree["vendors"].pop("monitex")
    gateway = await make_gateway(catalog_with_crashing_monitex())
    world.sims.seed_ride(FIFTY)
    world.sims.monitex.set_meter_price(FIFTY.permit or "", 5000)
    await gateway.start_ride(FIFTY.order_id)
    log = capture_log_of(monkeypatch, finish_ride_handler)

    answer = await gateway.finish_ride("alias-il-1", 50.0)

    assert answer == (502, {"code": "vendor_error", "message": "vendor plugin failed"})
    (crash,) = log.events("finish_ride.vendor_crashed")
    assert crash["log_level"] == "error"
    assert crash["error_type"] == ("RuntimeError" if crashed_in == "stop_ride" else "KeyError")
    where, function = crash["raised_at"].split(" in ")
    assert (where.split(":")[0].endswith("tests/plugins/crashing_monitex.py"), function) == (
        True,
        crashed_in,
    )


def complete_with(world: RunningWorld, total_price: int | None) -> None:
    """The meter completes the ride with that price; the stop then changes nothing."""
    (ride,) = world.sims.monitex.rides.values()
    ride.state = ride.state.COMPLETED
    ride.total_price = total_price
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=200))


async def test_prices_that_differ_are_refused_with_the_whole_answer(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_ride(world, gateway, FIFTY, 5000)

    answer = await gateway.finish_ride("alias-il-1", 50.0, driver_price=49.0)

    assert answer == (
        400,
        {"code": "prices_differ", "message": "user_price differs from driver_price"},
    )
    assert calls_made(world.sims) == expected(READ_ORDER)


async def test_a_ride_still_running_after_the_stop_is_refused_with_its_state(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_ride(world, gateway, FIFTY, 5000)
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=200))

    answer = await gateway.finish_ride("alias-il-1", 50.0)

    assert answer == (
        409,
        {"code": "meter_ride_not_completed", "message": "meter ride is IN_PROGRESS"},
    )


async def test_a_completed_ride_without_a_price_is_a_vendor_error(
    world: RunningWorld, gateway: Gateway
) -> None:
    await started_ride(world, gateway, FIFTY, 5000)
    complete_with(world, None)

    answer = await gateway.finish_ride("alias-il-1", 50.0)

    assert answer == (
        502,
        {"code": "vendor_error", "message": "monitex: completed ride has no price"},
    )


async def test_a_dry_run_answers_what_the_meter_said(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    settings_tree["countries"]["IL"]["dry_run"] = True
    gateway = await make_gateway()
    await started_ride(world, gateway, FIFTY, 5000)

    answer = await gateway.finish_ride("alias-il-1", 50.0)

    assert answer == (
        409,
        {
            "code": "dry_run",
            "message": "dry run: the meter said 50.00, the app keeps its own price",
        },
    )
    assert calls_made(world.sims) == expected(READ_ORDER, STOP_AND_READ)


async def test_a_vendor_failure_answers_its_reason_and_logs_its_detail(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await started_ride(world, gateway, FIFTY, 5000)
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=500))
    flow_log = capture_log_of(monkeypatch, finish_ride_module)
    line_log = capture_log_of(monkeypatch, finish_ride_handler)

    answer = await gateway.finish_ride("alias-il-1", 50.0)

    assert answer == (502, {"code": "vendor_error", "message": "monitex: vendor_error_status"})
    (failed,) = flow_log.events("finish_ride.vendor_failed")
    assert (failed["cause"], failed["detail"]) == (
        "vendor_error_status",
        "vendor answered HTTP 500",
    )
    # Every event of the flow names the order as the app knows it, and its vendor.
    assert (failed["alias_id"], failed["vendor"]) == ("alias-il-1", "monitex")
    (line,) = line_log.events("finish_ride.answered")
    assert (line["vendor_failure"], line["vendor_detail"]) == (
        "vendor_error_status",
        "vendor answered HTTP 500",
    )
    assert flow_log.events("finish_ride.vendor_stopped") == []


async def test_the_vendor_is_handed_the_orders_ride_at_finish(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings_tree["countries"]["IL"]["vendor"] = "closing_monitex"
    settings_tree["vendors"]["closing_monitex"] = settings_tree["vendors"].pop("monitex")
    gateway = await make_gateway(catalog_with_closing_monitex())
    await started_ride(world, gateway, FIFTY, 5000)
    (ride_id,) = world.sims.monitex.rides
    ClosingMonitex.closed.clear()
    flow_log = capture_log_of(monkeypatch, finish_ride_module)

    assert await gateway.finish_ride("alias-il-1", 50.0) == (200, {"price": 50.0})

    # At finish the order is known by the alias id the driver app sent (docs/design.md §4).
    assert ClosingMonitex.closed == [
        MeterRideFinish(
            order_id="alias-il-1",
            ride_id=ride_id,
            car_number="12-345-67",
            country="IL",
            currency="ILS",
            price=Decimal("50.0"),
            payment_method=PaymentMethod.CASH,
        )
    ]
    assert [event["log_level"] for event in flow_log.events("finish_ride.vendor_stopped")] == [
        "debug"
    ]


@pytest.mark.parametrize(
    ("fault", "answer"),
    [
        pytest.param(
            Fault(GET_FIELDS, status=500),
            (502, {"code": "order_core_error", "message": "order_core: HTTP 500 injected_fault"}),
            id="error-status",
        ),
        pytest.param(
            Fault(GET_FIELDS, delay_ms=800),
            (
                504,
                {
                    "code": "upstream_timeout",
                    "message": "order_core: get_order timed out after 500 ms",
                },
            ),
            id="timeout",
        ),
    ],
)
async def test_an_order_core_failure_answers_what_failed(
    world: RunningWorld, gateway: Gateway, fault: Fault, answer: tuple[int, dict[str, str]]
) -> None:
    world.sims.seed_ride(FIFTY)
    world.sims.order_core.faults.add(fault)

    assert await gateway.finish_ride("alias-il-1", 50.0) == answer


async def test_an_order_in_no_configured_zone_is_answered_with_no_country(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(replace(FIFTY, zone="atlantis"))
    line_log = capture_log_of(monkeypatch, finish_ride_handler)

    answer = await gateway.finish_ride("alias-il-1", 50.0)

    assert answer == (
        409,
        {"code": "not_enabled", "message": "smart meter not enabled: no_vendor_for_zone"},
    )
    (line,) = line_log.events("finish_ride.answered")
    assert (line["vendor"], line["country"]) == ("", "")


async def test_a_finish_answered_again_says_it_was_replayed(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await started_ride(world, gateway, FIFTY, 5000)
    flow_log = capture_log_of(monkeypatch, finish_ride_module)

    first = await gateway.finish_ride("alias-il-1", 50.0)
    again = await gateway.finish_ride("alias-il-1", 50.0)

    assert first == again == (200, {"price": 50.0})
    assert len(world.sims.monitex.calls.to(MONITEX_STOP)) == 1
    assert [event["log_level"] for event in flow_log.events("finish_ride.replayed")] == ["debug"]


class _LedgerTimingOut(CutOffRideLedger):
    """A ledger whose read raises a bare TimeoutError: a timeout below that its client never
    turned into LedgerUnavailable."""

    def _reach(self, operation: str) -> None:
        if operation in self.cut_off:
            raise TimeoutError


async def test_a_timeout_that_is_not_the_deadline_is_raised_as_the_bug_it_is(
    world: RunningWorld, gateway: Gateway
) -> None:
    """Only the request's own deadline is answered deadline_passed; another TimeoutError is no
    answer for the driver but a fault of ours, raised to the caller as one."""
    await started_israeli_ride(world, gateway)
    services = gateway.client.app[SERVICES]
    ledger = _LedgerTimingOut(services.ports.ride_ledger, "record_of")
    ports = replace(services.ports, ride_ledger=ledger)
    request = FinishRideRequest(
        "alias-il-1", Decimal("42.24"), Decimal("42.24"), "park1", "driver1"
    )

    with pytest.raises(TimeoutError):
        await finish_ride_module.finish_ride(request, ports, FinishDeadline.after(3000))

    assert calls_made(world.sims) == READ_ORDER
