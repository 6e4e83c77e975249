"""The real ``serve`` process, through both flows and their failures, read from the outside.

One scenario runs once per module: rides start and finish against the simulators, with vendor
and platform faults (error statuses, malformed bodies, hangs) so the error paths log too. The
tests then read what it left behind: every line the process wrote, every answer it gave, every
call the simulators received, and its ``/metrics``.
"""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from gateway.plugins.faults import Fault, Headers, RecordedCall
from gateway.sandbox.world import RideSeed, settings_for
from tests.calls import (
    IDENTIFICATION,
    IDENTITY_DOCS,
    MONITEX_GET,
    MONITEX_START,
    MONITEX_STOP,
    OPTUMPLUS_SUBMIT,
)
from tests.gateway_world import DRIVER_HEADERS, MONITEX_TOKEN, OPTUMPLUS_TOKEN, ShippedWorld
from tests.observability.scrape import samples
from tests.processes import Served, serving

FINISH_RIDE = "/driver/v1/meters-integration-api/finish-ride"
START_RIDE = "/internal/meters-integration-api/v1/start-ride"
HANG = 5_000
TIMEOUT_MS = 300
TASK_WAIT_S = 10.0
STEP_EVENTS = ("upstream.call", "vendor.call", "start_ride.", "finish_ride.")


def israeli_ride(n: int) -> RideSeed:
    """Each its own driver, car and id number: Monitex hands an open ride back to its driver."""
    return RideSeed(
        order_id=f"order-{n}",
        alias_id=f"alias-{n}",
        driver_profile_id=f"driver{n}",
        car_id=f"car{n}",
        permit=f"PERMIT-{n}",
        national_id=f"31827364{n}",
    )


# A vendor failure that may have made a ride is asked once more of Monitex (docs/design.md §3a),
# so those faults last for both asks: the start falls back.
STARTS: list[tuple[str, str, Fault | None]] = [
    ("start-ok", "monitex", None),
    ("start-vendor-500", "monitex", Fault(MONITEX_START, status=500, times=2)),
    ("start-vendor-hangs", "monitex", Fault(MONITEX_START, delay_ms=HANG, times=2)),
    ("start-vendor-malformed", "monitex", Fault(MONITEX_START, body="malformed", times=2)),
    ("start-vendor-pending", "monitex", Fault(MONITEX_START, pending_forever=True, times=2)),
    ("start-personal-truncated", "personal", Fault(IDENTIFICATION, body="truncated", times=1)),
    ("start-profiles-500", "driver_profiles", Fault(IDENTITY_DOCS, status=500, times=1)),
]
RIDES = [israeli_ride(n) for n in range(len(STARTS))]
LATVIAN = RideSeed("order-lv", "alias-lv", zone="riga", national_id="318273649")
NATIONAL_IDS = [ride.national_id for ride in (*RIDES, LATVIAN) if ride.national_id]
SECRETS = [*NATIONAL_IDS, MONITEX_TOKEN, OPTUMPLUS_TOKEN]


def driver_of(ride: RideSeed) -> dict[str, str]:
    return {
        **DRIVER_HEADERS,
        "X-YaTaxi-Park-Id": ride.park_id,
        "X-YaTaxi-Driver-Profile-Id": ride.driver_profile_id,
    }


FINISHES: list[tuple[str, str, Fault | None, dict[str, str], bytes]] = [
    ("finish-stop-500", "monitex", Fault(MONITEX_STOP, status=500, times=1), {}, b""),
    ("finish-get-malformed", "monitex", Fault(MONITEX_GET, body="malformed", times=1), {}, b""),
    ("finish-stop-hangs", "monitex", Fault(MONITEX_STOP, delay_ms=HANG, times=1), {}, b""),
    ("finish-ok", "monitex", None, {}, b""),
    ("finish-lv-500", "optumplus", Fault(OPTUMPLUS_SUBMIT, status=500, times=1), {}, b""),
    ("finish-lv-hangs", "optumplus", Fault(OPTUMPLUS_SUBMIT, delay_ms=HANG, times=1), {}, b""),
    ("finish-lv-ok", "optumplus", None, {}, b""),
    ("finish-anonymous", "monitex", None, {"X-YaTaxi-Park-Id": ""}, b""),
    ("finish-bad-body", "monitex", None, {}, b'{"order_id": 1}'),
]


@dataclass
class Step:
    name: str
    request_id: str
    status: int
    headers: Headers
    body: str
    calls: list[tuple[str, RecordedCall]] = field(default_factory=list)


@dataclass
class Transcript:
    steps: dict[str, Step]
    generated_request_id: str
    metrics: str
    stdout: str
    stderr: str

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def lines_of(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.log_lines() if line.get("request_id") == request_id]


class Scenario:
    def __init__(self, sims: ShippedWorld, served: Served, http: aiohttp.ClientSession) -> None:
        self.sims = sims
        self.served = served
        self.http = http
        self.steps: dict[str, Step] = {}

    async def request(
        self, name: str, method: str, path: str, *, headers: dict[str, str], data: bytes = b""
    ) -> Step:
        self.sims.forget_calls()
        async with self.http.request(
            method, self.served.base_url + path, headers=headers, data=data
        ) as response:
            step = Step(
                name,
                response.headers.get("X-Request-Id", ""),
                response.status,
                Headers(response.headers.items()),
                await response.text(),
            )
        self.steps[name] = step
        return step

    def keep_calls(self, step: Step) -> None:
        step.calls = [
            (section, call)
            for section, simulator in self.sims.simulators().items()
            for call in simulator.calls.all()
        ]

    async def rides_started(self) -> float:
        async with self.http.get(self.served.base_url + "/metrics") as response:
            return sum(samples(await response.text(), "meters_rides_started_total").values())

    async def start(self, name: str, ride: RideSeed) -> None:
        done_before = await self.rides_started()
        body = json.dumps({"order_id": ride.order_id}).encode()
        headers = {"X-Request-Id": f"req-{name}", "Content-Type": "application/json"}
        step = await self.request(name, "POST", START_RIDE, headers=headers, data=body)
        assert step.status == 202, step.body
        # The task runs after the 202; the process counts it in /metrics once it has ended.
        async with asyncio.timeout(TASK_WAIT_S):
            while True:
                if await self.rides_started() > done_before:
                    break
                await asyncio.sleep(0.02)
        self.keep_calls(step)

    async def finish(
        self, name: str, ride: RideSeed, headers: dict[str, str], raw: bytes, request_id: bool
    ) -> Step:
        body = (
            raw
            or json.dumps(
                {"order_id": ride.alias_id, "user_price": 42.24, "driver_price": 42.24}
            ).encode()
        )
        sent = {**driver_of(ride), **headers, "Content-Type": "application/json"}
        if request_id:
            sent["X-Request-Id"] = f"req-{name}"
        step = await self.request(name, "POST", FINISH_RIDE, headers=sent, data=body)
        self.keep_calls(step)
        return step


def short_timeouts(tree: dict[str, Any]) -> dict[str, Any]:
    for section in (*tree["upstreams"].values(), *tree["vendors"].values()):
        section["timeout_ms"] = TIMEOUT_MS
    return {**tree, "log_level": "DEBUG"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def transcript(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Transcript]:
    sims = ShippedWorld()
    for ride in (*RIDES, LATVIAN):
        sims.seed_ride(ride)
    workdir: Path = tmp_path_factory.mktemp("serve")
    async with sims.running() as urls:
        tree = short_timeouts(
            settings_for(urls, monitex_token=MONITEX_TOKEN, optumplus_token=OPTUMPLUS_TOKEN)
        )
        # The same order is finished again and again to see each request's own calls: replay
        # (tests/test_finish_replay.py) would answer the repeats without any.
        tree.setdefault("server", {})["finish_ride_replay_s"] = 0
        async with serving(tree, workdir) as served, aiohttp.ClientSession() as http:
            scenario = Scenario(sims, served, http)
            for (name, section, fault), ride in zip(STARTS, RIDES, strict=True):
                if fault is not None:
                    sims.simulators()[section].faults.add(fault)
                await scenario.start(name, ride)
            for name, vendor, fault, headers, raw in FINISHES:
                if fault is not None:
                    sims.simulators()[vendor].faults.add(fault)
                ride = RIDES[0] if vendor == "monitex" else LATVIAN
                await scenario.finish(name, ride, headers, raw, request_id=True)
            anonymous = await scenario.finish("no-request-id", RIDES[0], {}, b"", request_id=False)
            for path in ("/health", "/metrics", "/openapi.yaml", "/no-such-path"):
                await scenario.request(path, "GET", path, headers={})
        yield Transcript(
            steps=scenario.steps,
            generated_request_id=anonymous.request_id,
            metrics=scenario.steps["/metrics"].body,
            stdout=served.stdout.read_text(),
            stderr=served.stderr.read_text(),
        )


def test_the_scenario_went_through_success_and_failure_alike(transcript: Transcript) -> None:
    statuses = {name: step.status for name, step in transcript.steps.items()}
    assert statuses == {
        **{name: 202 for name, _, _ in STARTS},
        "finish-stop-500": 502,
        "finish-get-malformed": 502,
        "finish-stop-hangs": 504,
        "finish-ok": 200,
        "finish-lv-500": 502,
        "finish-lv-hangs": 504,
        "finish-lv-ok": 200,
        "finish-anonymous": 401,
        "finish-bad-body": 400,
        "no-request-id": 200,
        "/health": 200,
        "/metrics": 200,
        "/openapi.yaml": 200,
        "/no-such-path": 404,
    }
    started = samples(transcript.metrics, "meters_rides_started_total")
    by_result: Counter[str] = Counter()
    for labels, value in started.items():
        by_result[dict(labels)["result"]] += int(value)
    assert by_result == {"started": 1, "fallback": len(STARTS) - 1}
    outcomes = {
        (line["event"], line.get("outcome"))
        for line in transcript.log_lines()
        if line["event"] in ("vendor.call", "upstream.call")
    }
    # The error paths ran, so the absence of secrets below covers them.
    assert {
        ("vendor.call", "vendor_error_status"),
        ("vendor.call", "vendor_malformed_response"),
        ("vendor.call", "vendor_timeout"),
        ("upstream.call", "malformed_response"),
        ("upstream.call", "error_status"),
    } <= outcomes


def test_no_id_number_or_token_leaves_the_process(transcript: Transcript) -> None:
    # The numbers did pass through: Monitex was given them.
    given = {
        call.body["driverId"]
        for step in transcript.steps.values()
        for _, call in step.calls
        if call.endpoint == MONITEX_START and isinstance(call.body, dict)
    }
    assert len(given) >= 3
    assert given <= set(NATIONAL_IDS)
    written = {
        "stdout": transcript.stdout,
        "stderr": transcript.stderr,
        **{
            f"answer to {name}": json.dumps(step.headers) + step.body
            for name, step in transcript.steps.items()
        },
    }
    for where, text in written.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} found in {where}"


def test_every_line_written_is_a_json_event(transcript: Transcript) -> None:
    assert transcript.stderr == ""
    lines = transcript.log_lines()
    assert len(lines) > 50
    for line in lines:
        assert {"event", "level", "timestamp", "logger"} <= line.keys(), line


def test_the_callers_request_id_follows_its_request_everywhere(transcript: Transcript) -> None:
    finished = [name for name, *_ in FINISHES]
    for name in [*(name for name, _, _ in STARTS), *finished]:
        step = transcript.steps[name]
        assert step.request_id == f"req-{name}"
        assert step.headers["X-Request-Id"] == step.request_id
        for section, call in step.calls:
            assert call.headers.get("X-Request-Id") == step.request_id, (name, section)
        if name not in ("finish-anonymous", "finish-bad-body"):
            assert step.calls, name
        events = {line["event"] for line in transcript.lines_of(step.request_id)}
        assert events, name
    # Every step of every flow logged under some request's id.
    for line in transcript.log_lines():
        if line["event"].startswith(STEP_EVENTS):
            assert line.get("request_id"), line


def test_a_request_without_an_id_gets_one_that_is_used_alike(transcript: Transcript) -> None:
    request_id = transcript.generated_request_id
    step = transcript.steps["no-request-id"]
    assert len(request_id) == 32
    assert step.calls
    assert all(call.headers.get("X-Request-Id") == request_id for _, call in step.calls)
    events = [line["event"] for line in transcript.lines_of(request_id)]
    assert events.count("vendor.call") == 2
    assert "finish_ride.answered" in events
    # aiohttp's own answers carry one too.
    assert len(transcript.steps["/no-such-path"].headers["X-Request-Id"]) == 32


def test_each_step_logs_its_order_task_and_vendor(transcript: Transcript) -> None:
    started = transcript.steps["start-ok"]
    task_id = json.loads(started.body)["task_id"]
    task_lines = [line for line in transcript.lines_of(started.request_id) if "task_id" in line]
    assert {line["event"] for line in task_lines} >= {
        "upstream.call",
        "vendor.call",
        "start_ride.vendor_started",
        "start_ride.ride_id_stored",
        "start_ride.setcar_updated",
        "start_ride.push_sent",
        "start_ride.finished",
    }
    for line in task_lines:
        assert (line["order_id"], line["task_id"]) == ("order-0", task_id)
        # The vendor is known once the task has routed the order, not when it is enqueued.
        if line["event"].startswith(("vendor.", "start_ride.")) and "enqueued" not in line["event"]:
            assert line.get("vendor") == "monitex", line
    finish_lines = transcript.lines_of(transcript.steps["finish-ok"].request_id)
    assert [line["event"] for line in finish_lines] == [
        "upstream.call",
        "vendor.call",
        "finish_ride.vendor_stopped",
        "vendor.call",
        "finish_ride.answered",
    ]
    for line in finish_lines:
        assert line["alias_id"] == "alias-0"
    for line in finish_lines[1:]:
        assert line["vendor"] == "monitex"
