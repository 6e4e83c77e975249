"""A worker host's HTTP endpoint (``worker.metrics_port``): its health report, and any other path
answered as the gateway answers one."""

import socket
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from gateway.worker.metrics_endpoint import MetricsServer, start_metrics_server
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


# Longer than the endpoint's read timeout: an answer or a close arrives well before it.
WAIT_S = 60.0
HEALTH_REQUEST = b"GET /health HTTP/1.1\r\nHost: worker\r\nConnection: close\r\n\r\n"


def _what_arrives(connection: socket.socket) -> bytes:
    """Every byte the endpoint sends before it closes the connection (a reset included)."""
    connection.settimeout(WAIT_S)
    received = b""
    try:
        while chunk := connection.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


# Half a request, the start of a TLS handshake, nothing at all: none has a line end to read to.
NO_WHOLE_REQUEST = [
    b"GET /health HTTP/1.1\r\nHost: wor",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"",
]


def test_a_connection_that_sends_no_whole_request_is_closed(endpoint: MetricsServer) -> None:
    connections = [socket.create_connection(("127.0.0.1", endpoint.port)) for _ in NO_WHOLE_REQUEST]
    try:
        for connection, sent in zip(connections, NO_WHOLE_REQUEST, strict=True):
            connection.sendall(sent)

        assert [_what_arrives(connection) for connection in connections] == [b""] * 3
    finally:
        for connection in connections:
            connection.close()


def test_connections_past_the_bound_are_closed_unanswered_until_one_frees() -> None:
    # A long read timeout: the idle connections hold their slots for the whole test.
    server = start_metrics_server(
        "127.0.0.1", 0, lambda: NOT_READY, read_timeout_s=WAIT_S, max_connections=2
    )
    try:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
        with socket.create_connection(("127.0.0.1", server.port)) as refused:
            refused.sendall(HEALTH_REQUEST)
            assert _what_arrives(refused) == b""
        for connection in idle:
            connection.close()
        # Their threads see the close and free the slots; until then a probe is still refused.
        answer = b""
        for _ in range(100):
            with socket.create_connection(("127.0.0.1", server.port)) as served:
                served.sendall(HEALTH_REQUEST)
                answer = _what_arrives(served)
            if answer:
                break
            time.sleep(0.05)
        assert answer.startswith(b"HTTP/1.0 503 Service Unavailable\r\n")
    finally:
        server.close()
