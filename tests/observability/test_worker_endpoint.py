"""A worker host's HTTP endpoint (``worker.metrics_port``): its health report, and any other path
answered as the gateway answers one."""

from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from gateway.observability.worker_metrics import MetricsServer, start_metrics_server
from tests.gateway_world import Gateway

NOT_READY = {"ready": False, "broker": "unreachable", "processes": 1}


@pytest.fixture
def endpoint() -> Iterator[MetricsServer]:
    server = start_metrics_server("127.0.0.1", 0, lambda: NOT_READY)
    yield server
    server.close()


async def _get(url: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.content_type, await response.json()


async def test_health_answers_503_with_the_report_while_not_ready(
    endpoint: MetricsServer,
) -> None:
    assert await _get(f"http://127.0.0.1:{endpoint.port}/health") == (
        503,
        "application/json",
        NOT_READY,
    )


async def test_an_unknown_path_gets_the_status_and_code_the_gateway_answers_it_with(
    endpoint: MetricsServer, gateway: Gateway
) -> None:
    from_worker = await _get(f"http://127.0.0.1:{endpoint.port}/nope")
    response = await gateway.client.get("/nope")

    assert from_worker == (404, "application/json", {"code": "not_found", "message": "/nope"})
    assert (response.status, (await response.json())["code"]) == (404, "not_found")
