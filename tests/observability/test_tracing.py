"""Traces of a real ``serve`` with an OTLP endpoint set (docs/design.md §9), read from outside.

One scenario per module: a start-ride and a finish-ride, each sent with a W3C ``traceparent``,
through the real ``serve`` (embedded broker, so the task crosses the in-process queue) with
``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a stand-in collector. The tests read the headers the
simulators received, the spans the collector was sent, and the canonical log lines.
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
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from gateway.plugins.faults import RecordedCall
from gateway.sandbox.world import RideSeed, settings_for
from tests.calls import (
    GET_FIELDS,
    IDENTIFICATION,
    IDENTITY_DOCS,
    MONITEX_GET,
    MONITEX_START,
    MONITEX_STOP,
    PUSH,
    SET_FIELDS,
    SETCAR,
    VEHICLES,
)
from tests.gateway_world import DRIVER_HEADERS, MONITEX_TOKEN, OPTUMPLUS_TOKEN, ShippedWorld
from tests.observability.otlp_collector import Collector, ExportedSpan, collecting
from tests.observability.scrape import samples
from tests.processes import serving

FINISH_RIDE = "/driver/v1/meters-integration-api/finish-ride"
START_RIDE = "/internal/meters-integration-api/v1/start-ride"
START_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
FINISH_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLERS_SPAN = "00f067aa0ba902b7"
RIDE = RideSeed("order-traced", "alias-traced", national_id="318273640")
TASK_WAIT_S = 10.0


def traceparent(trace_id: str) -> str:
    return f"00-{trace_id}-{CALLERS_SPAN}-01"


@dataclass
class Traced:
    start_calls: list[tuple[str, RecordedCall]]
    finish_calls: list[tuple[str, RecordedCall]]
    finish_status: int
    spans: Collector
    log_lines: list[dict[str, Any]]


def calls_of(sims: ShippedWorld) -> list[tuple[str, RecordedCall]]:
    return [
        (section, call)
        for section, simulator in sims.simulators().items()
        for call in simulator.calls.all()
    ]


async def started_rides(http: aiohttp.ClientSession, base_url: str) -> float:
    async with http.get(base_url + "/metrics") as response:
        return sum(samples(await response.text(), "meters_rides_started_total").values())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def traced(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Traced]:
    sims = ShippedWorld()
    sims.seed_ride(RIDE)
    workdir: Path = tmp_path_factory.mktemp("traced")
    async with collecting() as collector, sims.running() as urls:
        tree = settings_for(urls, monitex_token=MONITEX_TOKEN, optumplus_token=OPTUMPLUS_TOKEN)
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            # Export at once rather than every 5 s; the process's stop flushes the rest.
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        }
        async with serving(tree, workdir, env) as served, aiohttp.ClientSession() as http:
            before = await started_rides(http, served.base_url)
            async with http.post(
                served.base_url + START_RIDE,
                json={"order_id": RIDE.order_id},
                headers={"traceparent": traceparent(START_TRACE)},
            ) as response:
                assert response.status == 202, await response.text()
            # The task runs after the 202; /metrics counts it once it has ended.
            async with asyncio.timeout(TASK_WAIT_S):
                while True:
                    if await started_rides(http, served.base_url) > before:
                        break
                    await asyncio.sleep(0.02)
            start_calls = calls_of(sims)
            sims.forget_calls()
            async with http.post(
                served.base_url + FINISH_RIDE,
                json={"order_id": RIDE.alias_id, "user_price": 42.24, "driver_price": 42.24},
                headers={**DRIVER_HEADERS, "traceparent": traceparent(FINISH_TRACE)},
            ) as response:
                finish_status = response.status
            finish_calls = calls_of(sims)
        # serve has stopped: whatever it still buffered was exported on the way out.
        yield Traced(
            start_calls=start_calls,
            finish_calls=finish_calls,
            finish_status=finish_status,
            spans=collector,
            log_lines=[json.loads(line) for line in served.stdout.read_text().splitlines()],
        )


def trace_of(call: RecordedCall) -> str:
    return call.headers["traceparent"].split("-")[1]


def test_a_start_rides_trace_reaches_every_call_its_task_makes(traced: Traced) -> None:
    endpoints = [call.endpoint for _, call in traced.start_calls]
    assert sorted(endpoints) == sorted(
        [
            GET_FIELDS,
            IDENTITY_DOCS,
            IDENTIFICATION,
            VEHICLES,
            MONITEX_START,
            GET_FIELDS,
            SET_FIELDS,
            SETCAR,
            PUSH,
        ]
    )
    assert {trace_of(call) for _, call in traced.start_calls} == {START_TRACE}


def test_a_finish_rides_trace_id_is_sent_on_every_order_core_and_vendor_call(
    traced: Traced,
) -> None:
    assert traced.finish_status == 200
    assert [call.endpoint for _, call in traced.finish_calls] == [
        GET_FIELDS,
        MONITEX_STOP,
        MONITEX_GET,
    ]
    assert {trace_of(call) for _, call in traced.finish_calls} == {FINISH_TRACE}
    # Each call names its own span as the parent, not the caller's.
    parents = {call.headers["traceparent"].split("-")[2] for _, call in traced.finish_calls}
    assert len(parents) == 3
    assert CALLERS_SPAN not in parents


def by_name(spans: list[ExportedSpan]) -> dict[str, list[ExportedSpan]]:
    named: dict[str, list[ExportedSpan]] = {}
    for span in spans:
        named.setdefault(span.name, []).append(span)
    return named


def test_the_exporter_posts_the_finish_rides_spans_with_its_trace_id(traced: Traced) -> None:
    spans = by_name(traced.spans.of_trace(FINISH_TRACE))
    assert sorted(spans) == [
        "POST finish-ride",
        "monitex get_ride",
        "monitex stop_ride",
        "order_core get_order",
    ]
    (request,) = spans["POST finish-ride"]
    assert request.kind == Span.SPAN_KIND_SERVER
    assert request.parent_span_id == CALLERS_SPAN
    assert request.attributes["http.response.status_code"] == 200
    for name in ("order_core get_order", "monitex stop_ride", "monitex get_ride"):
        (call,) = spans[name]
        assert call.kind == Span.SPAN_KIND_CLIENT
        assert call.parent_span_id == request.span_id
        assert call.attributes == {"meters.outcome": "ok", "http.response.status_code": 200}


def test_the_task_runs_span_joins_the_enqueuing_requests_trace(traced: Traced) -> None:
    spans = by_name(traced.spans.of_trace(START_TRACE))
    (request,) = spans.pop("POST start-ride")
    (run,) = spans.pop("start-ride task")
    assert request.parent_span_id == CALLERS_SPAN
    assert run.kind == Span.SPAN_KIND_CONSUMER
    assert run.parent_span_id == request.span_id
    calls = [span for named in spans.values() for span in named]
    assert len(calls) == len(traced.start_calls)
    assert {span.parent_span_id for span in calls} == {run.span_id}
    assert {span.kind for span in calls} == {Span.SPAN_KIND_CLIENT}


def test_no_id_number_price_or_token_goes_on_a_span(traced: Traced) -> None:
    values = [str(value) for span in traced.spans.spans for value in span.attributes.values()]
    for secret in (RIDE.national_id or "", "42.24", "4224", MONITEX_TOKEN):
        assert not any(secret in value for value in values), secret


def test_the_canonical_line_carries_the_trace_id(traced: Traced) -> None:
    (finish,) = [line for line in traced.log_lines if line["event"] == "finish_ride.answered"]
    (start,) = [line for line in traced.log_lines if line["event"] == "start_ride.finished"]
    assert finish["trace_id"] == FINISH_TRACE
    assert start["trace_id"] == START_TRACE
