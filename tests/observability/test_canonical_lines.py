"""One canonical log line per finish-ride request and per start-ride task run (docs/design.md §9).

A real ``serve`` at the shipped log level (INFO) and with tracing off runs starts and finishes
that succeed, fall back, are replayed and are refused; the tests read every line it wrote.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed, settings_for
from tests.calls import MONITEX_START, MONITEX_STOP
from tests.gateway_world import DRIVER_HEADERS, MONITEX_TOKEN, OPTUMPLUS_TOKEN, ShippedWorld
from tests.observability.scrape import samples
from tests.processes import serving

FINISH_RIDE = "/driver/v1/meters-integration-api/finish-ride"
START_RIDE = "/internal/meters-integration-api/v1/start-ride"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
TASK_WAIT_S = 10.0


def ride(n: int) -> RideSeed:
    # Each its own driver and car: Monitex answers a driver's open ride to a second start.
    return RideSeed(
        order_id=f"order-{n}",
        alias_id=f"alias-{n}",
        driver_profile_id=f"driver{n}",
        car_id=f"car{n}",
        permit=f"PERMIT-{n}",
        national_id=f"31827364{n}",
    )


STARTED, FALLS_BACK, STOP_FAILS = ride(0), ride(1), ride(2)
START_CALLS = [
    {"call": "order_core.get_order", "outcome": "ok", "status": 200},
    {"call": "driver_profiles.retrieve_identity_docs", "outcome": "ok", "status": 200},
    {"call": "fleet_vehicles.retrieve_vehicle", "outcome": "ok", "status": 200},
    {"call": "personal.retrieve_identification", "outcome": "ok", "status": 200},
]


@dataclass
class Lines:
    by_request: dict[str, list[dict[str, Any]]]
    statuses: dict[str, int]
    stderr: str


def without_timings(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for call in calls:
        assert isinstance(call["ms"], float), call
    return [{key: value for key, value in call.items() if key != "ms"} for call in calls]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lines(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lines]:
    sims = ShippedWorld()
    for seed in (STARTED, FALLS_BACK, STOP_FAILS):
        sims.seed_ride(seed)
    workdir: Path = tmp_path_factory.mktemp("canonical")
    statuses: dict[str, int] = {}
    async with sims.running() as urls:
        tree = settings_for(urls, monitex_token=MONITEX_TOKEN, optumplus_token=OPTUMPLUS_TOKEN)
        assert tree.get("log_level", "INFO") == "INFO"
        async with serving(tree, workdir) as served, aiohttp.ClientSession() as http:

            async def rides_started() -> float:
                async with http.get(served.base_url + "/metrics") as response:
                    text = await response.text()
                return sum(samples(text, "meters_rides_started_total").values())

            async def start(name: str, seed: RideSeed) -> None:
                before = await rides_started()
                headers = {"X-Request-Id": name, "traceparent": TRACEPARENT}
                async with http.post(
                    served.base_url + START_RIDE, json={"order_id": seed.order_id}, headers=headers
                ) as response:
                    statuses[name] = response.status
                # The task runs after the 202; /metrics counts it once it has ended.
                async with asyncio.timeout(TASK_WAIT_S):
                    while True:
                        if await rides_started() > before:
                            break
                        await asyncio.sleep(0.02)

            async def finish(name: str, seed: RideSeed, body: bytes | None = None) -> None:
                headers = {
                    **DRIVER_HEADERS,
                    "X-YaTaxi-Driver-Profile-Id": seed.driver_profile_id,
                    "X-Request-Id": name,
                    "traceparent": TRACEPARENT,
                    "Content-Type": "application/json",
                }
                sent = (
                    body
                    or json.dumps(
                        {"order_id": seed.alias_id, "user_price": 42.24, "driver_price": 42.24}
                    ).encode()
                )
                async with http.post(
                    served.base_url + FINISH_RIDE, data=sent, headers=headers
                ) as response:
                    statuses[name] = response.status

            await start("start-ok", STARTED)
            # Down for the start and for the second ask a 503 earns (§3a): the start falls back.
            sims.monitex.faults.add(Fault(MONITEX_START, status=503, times=2))
            await start("start-vendor-503", FALLS_BACK)
            await start("start-for-stop-503", STOP_FAILS)
            await finish("finish-ok", STARTED)
            await finish("finish-again", STARTED)
            await finish("finish-no-meter-ride", FALLS_BACK)
            sims.monitex.faults.add(Fault(MONITEX_STOP, status=503, times=1))
            await finish("finish-stop-503", STOP_FAILS)
            await finish("finish-bad-body", STARTED, b'{"order_id": 1}')
    by_request: dict[str, list[dict[str, Any]]] = {}
    for text in served.stdout.read_text().splitlines():
        line = json.loads(text)
        by_request.setdefault(line.get("request_id", ""), []).append(line)
    yield Lines(by_request, statuses, served.stderr.read_text())


def test_the_scenario_answered_as_expected(lines: Lines) -> None:
    assert lines.stderr == ""
    assert lines.statuses == {
        "start-ok": 202,
        "start-vendor-503": 202,
        "start-for-stop-503": 202,
        "finish-ok": 200,
        "finish-again": 200,
        "finish-no-meter-ride": 409,
        "finish-stop-503": 502,
        "finish-bad-body": 400,
    }


def test_a_finish_ride_writes_exactly_one_line(lines: Lines) -> None:
    for name in (
        "finish-ok",
        "finish-again",
        "finish-no-meter-ride",
        "finish-stop-503",
        "finish-bad-body",
    ):
        assert [line["event"] for line in lines.by_request[name]] == ["finish_ride.answered"]


def test_a_priced_finish_states_its_outcome_and_every_call(lines: Lines) -> None:
    (line,) = lines.by_request["finish-ok"]
    assert line["level"] == "info"
    assert {key: line[key] for key in ("alias_id", "vendor", "country", "trace_id")} == {
        "alias_id": "alias-0",
        "vendor": "monitex",
        "country": "IL",
        "trace_id": TRACE_ID,
    }
    assert (line["result"], line["reason"], line["status"]) == ("priced", "ok", 200)
    assert isinstance(line["duration_ms"], float)
    assert without_timings(line["calls"]) == [
        {"call": "order_core.get_order", "outcome": "ok", "status": 200},
        {"call": "monitex.stop_ride", "outcome": "ok", "status": 200},
        {"call": "monitex.get_ride", "outcome": "ok", "status": 200},
    ]


def test_a_replayed_finish_calls_only_order_core(lines: Lines) -> None:
    (line,) = lines.by_request["finish-again"]
    assert (line["level"], line["result"], line["reason"], line["status"]) == (
        "info",
        "replayed",
        "ok",
        200,
    )
    assert without_timings(line["calls"]) == [
        {"call": "order_core.get_order", "outcome": "ok", "status": 200}
    ]


def test_refusals_are_info_unless_an_upstream_failed(lines: Lines) -> None:
    (no_ride,) = lines.by_request["finish-no-meter-ride"]
    assert (no_ride["level"], no_ride["result"], no_ride["reason"], no_ride["status"]) == (
        "info",
        "refused",
        "meter_ride_not_found",
        409,
    )
    assert no_ride["message"] == "no meter ride was started for this order"
    (bad_body,) = lines.by_request["finish-bad-body"]
    assert (bad_body["level"], bad_body["reason"], bad_body["status"]) == (
        "info",
        "invalid_request",
        400,
    )
    assert bad_body["calls"] == []
    (failed,) = lines.by_request["finish-stop-503"]
    assert (failed["level"], failed["reason"], failed["status"]) == ("warning", "vendor_error", 502)
    assert failed["vendor_failure"] == "vendor_error_status"
    assert without_timings(failed["calls"]) == [
        {"call": "order_core.get_order", "outcome": "ok", "status": 200},
        {"call": "monitex.stop_ride", "outcome": "vendor_error_status", "status": 503},
    ]


def task_line(lines: Lines, request_id: str) -> dict[str, Any]:
    events = [line["event"] for line in lines.by_request[request_id]]
    # The enqueue request's own line, then the task run's canonical line.
    assert events == ["start_ride.enqueued", "start_ride.finished"]
    return lines.by_request[request_id][1]


def test_a_start_ride_run_writes_one_line_with_every_call(lines: Lines) -> None:
    line = task_line(lines, "start-ok")
    assert line["level"] == "info"
    assert {key: line[key] for key in ("order_id", "vendor", "country", "trace_id")} == {
        "order_id": "order-0",
        "vendor": "monitex",
        "country": "IL",
        "trace_id": TRACE_ID,
    }
    assert (line["result"], line["reason"]) == ("started", "ok")
    assert line["ride_id"]
    assert "failed_steps" not in line
    calls = without_timings(line["calls"])
    # The driver's id number and the permit are fetched concurrently: their order varies.
    assert sorted(calls[:4], key=str) == sorted(START_CALLS, key=str)
    assert calls[4:] == [
        {"call": "monitex.start_ride", "outcome": "ok", "status": 201},
        {"call": "order_core.get_revision", "outcome": "ok", "status": 200},
        {"call": "order_core.set_fields", "outcome": "ok", "status": 200},
        {"call": "driver_orders_builder.setcar_update_lite", "outcome": "ok", "status": 200},
        {"call": "client_notify.push_force_polling_order", "outcome": "ok", "status": 200},
    ]


def test_a_fallback_is_a_warning_naming_the_failed_step_and_call(lines: Lines) -> None:
    line = task_line(lines, "start-vendor-503")
    assert line["level"] == "warning"
    assert (line["result"], line["reason"]) == ("fallback", "vendor_start_failed")
    assert line["failed_steps"] == [
        {"step": "vendor_start_failed", "cause": "vendor_error_status", "reaction": "FALLBACK"}
    ]
    # The 503 may have made a ride: asked once more (§3a), then the driver was marked.
    assert (line["start_asked_again"], line["unsettled_start_marked"]) == (
        "vendor_error_status",
        True,
    )
    calls = without_timings(line["calls"])
    assert calls[4:] == [
        {"call": "monitex.start_ride", "outcome": "vendor_error_status", "status": 503},
        {"call": "monitex.start_ride", "outcome": "vendor_error_status", "status": 503},
        {"call": "driver_orders_builder.setcar_update_lite", "outcome": "ok", "status": 200},
        {"call": "client_notify.push_force_polling_order", "outcome": "ok", "status": 200},
    ]
