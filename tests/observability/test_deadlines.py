"""Deadlines: a dependency that hangs costs its timeout, then the prescribed fallback or a 504.

Each dependency hangs for far longer than its timeout, so finishing within the timeout plus a
small margin proves the timeout was honoured; the margin covers the other, fast, loopback
calls of the same flow. These are correctness bounds, not benchmarks. Only the hung
dependency's timeout is shortened: the others keep theirs, so a busy test machine may slow
the rest of a flow but not change its outcome.
"""

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GET_FIELDS,
    IDENTIFICATION,
    IDENTITY_DOCS,
    MONITEX_GET,
    MONITEX_START,
    MONITEX_STOP,
    OPTUMPLUS_SUBMIT,
    PUSH,
    SET_FIELDS,
    SETCAR,
    VEHICLES,
    setcar_values,
)
from tests.gateway_world import Gateway, GatewayFactory, RunningWorld
from tests.observability.scrape import Labels, increase, labels, scrape

HANG_MS = 10_000
TIMEOUT_S = 0.25
MARGIN_S = 0.75

ISRAELI_RIDE = RideSeed(order_id="order-il-1", alias_id="alias-il-1")
LATVIAN_RIDE = RideSeed(order_id="order-lv-1", alias_id="alias-lv-1", zone="riga")


def shorten_timeout(settings_tree: dict[str, Any], section: str) -> None:
    kind = "vendors" if section in settings_tree["vendors"] else "upstreams"
    settings_tree[kind][section]["timeout_ms"] = int(TIMEOUT_S * 1000)


def hang(endpoint: str, after: int = 0) -> Fault:
    return Fault(endpoint, delay_ms=HANG_MS, after=after)


def outcome(result: str, reason: str, vendor: str = "monitex", country: str = "IL") -> Labels:
    return labels(vendor=vendor, country=country, result=result, reason=reason)


@pytest.mark.parametrize(
    ("section", "fault", "expected", "setcar"),
    [
        pytest.param(
            "order_core", hang(GET_FIELDS),
            outcome("ended", "order_read_failed", vendor="", country=""), [],
            id="order-read",
        ),
        pytest.param(
            "driver_profiles", hang(IDENTITY_DOCS),
            outcome("fallback", "driver_id_unavailable"), ["false"],
            id="identity-docs",
        ),
        pytest.param(
            "personal", hang(IDENTIFICATION),
            outcome("fallback", "driver_id_unavailable"), ["false"],
            id="personal",
        ),
        pytest.param(
            "fleet_vehicles", hang(VEHICLES),
            outcome("fallback", "permit_unavailable"), ["false"],
            id="fleet-vehicles",
        ),
        pytest.param(
            "monitex", hang(MONITEX_START),
            outcome("fallback", "vendor_start_failed"), ["false"],
            id="vendor-start",
        ),
        pytest.param(
            "monitex", hang(MONITEX_GET),
            outcome("fallback", "vendor_start_failed"), ["false"],
            id="vendor-pending-poll",
        ),
        pytest.param(
            "order_core", hang(GET_FIELDS, after=1),
            outcome("fallback", "ride_id_not_stored"), ["false"],
            id="revision-read",
        ),
        pytest.param(
            "order_core", hang(SET_FIELDS),
            outcome("fallback", "ride_id_not_stored"), ["false"],
            id="set-fields",
        ),
        pytest.param(
            "driver_orders_builder", hang(SETCAR),
            outcome("ended", "setcar_failed"), ["true"],
            id="setcar",
        ),
        pytest.param(
            "client_notify", hang(PUSH),
            outcome("started", "ok"), ["true"],
            id="push",
        ),
    ],
)  # fmt: skip
async def test_start_ride_outlives_a_hung_dependency_by_its_timeout_only(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    section: str,
    fault: Fault,
    expected: Labels,
    setcar: list[str],
) -> None:
    shorten_timeout(settings_tree, section)
    gateway = await make_gateway()
    world.sims.seed_ride(ISRAELI_RIDE)
    world.sims.monitex.start_pending_polls = 1  # a pending start, so the poll can hang
    world.sims.simulators()[section].faults.add(fault)
    before = await scrape(gateway.client)

    started = time.perf_counter()
    await gateway.start_ride("order-il-1")
    elapsed = time.perf_counter() - started

    assert elapsed < TIMEOUT_S + MARGIN_S
    after = await scrape(gateway.client)
    assert increase(before, after, "meters_rides_started_total") == Counter({expected: 1})
    assert setcar_values(world.sims) == setcar


async def started_israeli_ride(world: RunningWorld, gateway: Gateway) -> None:
    world.sims.seed_ride(ISRAELI_RIDE)
    await gateway.start_ride("order-il-1")
    world.sims.forget_calls()


async def timed_finish(gateway: Gateway, alias_id: str) -> tuple[float, int, Any]:
    started = time.perf_counter()
    status, body = await gateway.finish_ride(alias_id, Decimal("42.24"))
    return time.perf_counter() - started, status, body


@pytest.mark.parametrize(
    ("section", "fault"),
    [
        pytest.param("order_core", hang(GET_FIELDS), id="order-read"),
        pytest.param("monitex", hang(MONITEX_STOP), id="vendor-stop"),
        pytest.param("monitex", hang(MONITEX_GET), id="vendor-get"),
    ],
)
async def test_finish_ride_answers_504_once_a_hung_call_times_out(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    section: str,
    fault: Fault,
) -> None:
    shorten_timeout(settings_tree, section)
    gateway = await make_gateway()
    await started_israeli_ride(world, gateway)
    world.sims.simulators()[section].faults.add(fault)

    elapsed, status, body = await timed_finish(gateway, "alias-il-1")

    assert (status, body["code"]) == (504, "upstream_timeout")
    assert elapsed < TIMEOUT_S + MARGIN_S


async def test_finish_only_vendor_that_hangs_is_a_504_within_its_timeout(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    shorten_timeout(settings_tree, "optumplus")
    gateway = await make_gateway()
    world.sims.seed_ride(LATVIAN_RIDE)
    world.sims.optumplus.faults.add(hang(OPTUMPLUS_SUBMIT))

    elapsed, status, body = await timed_finish(gateway, "alias-lv-1")

    assert (status, body["code"]) == (504, "upstream_timeout")
    assert elapsed < TIMEOUT_S + MARGIN_S


async def test_finish_ride_deadline_cuts_calls_still_within_their_own_timeouts(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    deadline_s = 0.4
    settings_tree["server"] = {"finish_ride_deadline_ms": int(deadline_s * 1000)}
    settings_tree["vendors"]["monitex"]["timeout_ms"] = HANG_MS * 2
    gateway = await make_gateway()
    await started_israeli_ride(world, gateway)
    world.sims.monitex.faults.add(hang(MONITEX_STOP))
    before = await scrape(gateway.client)

    elapsed, status, body = await timed_finish(gateway, "alias-il-1")

    assert (status, body["code"]) == (504, "upstream_timeout")
    assert body["message"] == "finish-ride passed its 400 ms deadline"
    assert elapsed < deadline_s + MARGIN_S
    after = await scrape(gateway.client)
    # The abandoned call is measured as cut short, not as a success or a vendor timeout.
    assert increase(before, after, "meters_vendor_call_duration_seconds_count") == Counter(
        {labels(vendor="monitex", operation="stop_ride", outcome="cancelled"): 1}
    )
