"""The rest of the HTTP surface (docs/design.md §6): enqueueing start-ride, ping, the API doc."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import structlog
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.broker import start_ride_record
from gateway.http.app import START_RIDE_PATH
from gateway.http.error_answers import json_errors_middleware
from gateway.rides import start_ride as start_ride_module
from gateway.sandbox.world import RideSeed
from tests.calls import MONITEX_START
from tests.gateway_world import Gateway, RunningWorld
from tests.log_capture import capture_log_of


async def test_start_ride_endpoint_enqueues_the_task_with_the_callers_task_id(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))

    response = await gateway.client.post(
        START_RIDE_PATH, json={"order_id": "order-il-1", "task_id": "task-from-caller"}
    )
    await gateway.wait_for_tasks()

    assert response.status == 202
    assert await response.json() == {"task_id": "task-from-caller"}
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1


async def test_start_ride_endpoint_generates_a_task_id(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.seed_ride(
        RideSeed(
            "order-il-2",
            "alias-il-2",
            driver_profile_id="driver2",
            car_id="car2",
            national_id="234567897",
            permit="PERMIT-8",
        )
    )
    log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)

    answers = []
    for order_id in ("order-il-1", "order-il-2"):
        response = await gateway.client.post(START_RIDE_PATH, json={"order_id": order_id})
        answers.append((response.status, await response.json()))
    await gateway.wait_for_tasks()

    task_ids = [body["task_id"] for _, body in answers]
    assert answers == [(202, {"task_id": task_id}) for task_id in task_ids]
    assert all(re.fullmatch(r"[0-9a-f]{32}", task_id) for task_id in task_ids)
    assert task_ids[0] != task_ids[1]
    # Each run is known by the id its caller was answered.
    finished = {
        (line["order_id"], line["task_id"], line["result"])
        for line in log.events("start_ride.finished")
    }
    assert finished == {
        ("order-il-1", task_ids[0], "started"),
        ("order-il-2", task_ids[1], "started"),
    }


async def test_start_ride_endpoint_refuses_bad_bodies(
    world: RunningWorld, gateway: Gateway
) -> None:
    for raw in (b"", b"{", b"[]", b'{"order_id": 5}', b'{"order_id": ""}', b'{"task": "x"}'):
        response = await gateway.client.post(
            START_RIDE_PATH, data=raw, headers={"Content-Type": "application/json"}
        )
        body = await response.json()
        assert response.status == 400, raw
        assert body["code"] == "invalid_request"
    assert len(world.sims.order_core.calls) == 0


async def test_ping_answers(gateway: Gateway) -> None:
    response = await gateway.client.get("/ping")

    assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_the_gateways_address_answers_an_index_of_every_endpoint_it_serves(
    gateway: Gateway,
) -> None:
    response = await gateway.client.get("/")
    index = await response.json()

    assert response.status == 200
    assert index["service"] == "meters-integration-api"
    assert index["api_document"] == "/openapi.yaml"
    assert {
        "method": "POST",
        "path": "/driver/v1/meters-integration-api/finish-ride",
        "summary": "Stop the meter ride and answer the meter's final price.",
    } in index["endpoints"]
    served = {
        (route.method, route.resource.canonical)
        for route in gateway.client.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    assert {(entry["method"], entry["path"]) for entry in index["endpoints"]} == served


async def test_openapi_document_is_served_from_the_repository(gateway: Gateway) -> None:
    response = await gateway.client.get("/openapi.yaml")
    spec = yaml.safe_load(await response.text())

    assert response.status == 200
    assert "/driver/v1/meters-integration-api/finish-ride" in spec["paths"]
    assert "/internal/meters-integration-api/v1/start-ride" in spec["paths"]


async def test_every_answer_carries_the_request_id(gateway: Gateway) -> None:
    response = await gateway.client.get("/ping", headers={"X-Request-Id": "req-123"})

    assert response.headers["X-Request-Id"] == "req-123"


async def test_a_handler_that_crashes_answers_json_500_logged_at_error(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> None:
    async def crashing(_: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = web.Application(middlewares=[json_errors_middleware])
    app.router.add_get("/crash", crashing)
    client = await aiohttp_client(app)

    with structlog.testing.capture_logs() as logs:
        response = await client.get("/crash")

    assert (response.status, await response.json()) == (
        500,
        {"code": "internal_error", "message": "the gateway failed"},
    )
    assert [(line["event"], line["log_level"], line["error_type"]) for line in logs] == [
        ("http.crashed", "error", "RuntimeError")
    ]
