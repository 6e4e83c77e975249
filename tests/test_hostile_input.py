"""Hostile or broken input (docs/design.md §6): a JSON 4xx, in the table's order, no upstream call.

Every row of the table, on the routes it concerns, over real HTTP to the gateway's aiohttp
server: the exact status and body, that no simulated upstream was called, and the INFO line
the refusal leaves (never a traceback, never ERROR). Requests the HTTP parser itself rejects
are in ``tests/test_malformed_http.py``.
"""

import gzip
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import structlog
from aiohttp import hdrs
from multidict import CIMultiDict

from gateway.http import request_body
from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH
from gateway.http.limits import MAX_BODY_BYTES
from gateway.sandbox.world import RideSeed
from tests.calls import calls_made
from tests.gateway_world import DRIVER_HEADERS, Gateway, GatewayFactory, RunningWorld
from tests.raw_http import exchange

JSON = {hdrs.CONTENT_TYPE: "application/json"}
ROUTES = [FINISH_RIDE_PATH, START_RIDE_PATH]
VALID = {
    FINISH_RIDE_PATH: {"order_id": "alias-il-1", "user_price": 42.24, "driver_price": 42.24},
    START_RIDE_PATH: {"order_id": "order-il-1"},
}
# The line each route's refusal leaves: finish-ride's own event (it is also counted), and
# the middleware's for the rest.
REFUSAL_EVENT = {FINISH_RIDE_PATH: "finish_ride.answered", START_RIDE_PATH: "http.refused"}
# Finish-ride's canonical line names the refusal code its reason, as the metric does.
CODE_FIELD = {FINISH_RIDE_PATH: "reason", START_RIDE_PATH: "code"}


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    with structlog.testing.capture_logs() as captured:
        yield captured


@pytest.fixture(autouse=True)
def no_error_records(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No library record at WARNING or above (aiohttp's tracebacks included) in any test."""
    yield
    assert [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")] == []


def _refusal_line(logs: list[dict[str, Any]], event: str) -> dict[str, Any]:
    lines = [line for line in logs if line["event"] == event]
    assert len(lines) == 1, logs
    assert not {"exception", "exc_info"} & lines[0].keys()
    assert all(line["log_level"] in ("debug", "info") for line in logs), logs
    return lines[0]


def _padded(route: str, size: int) -> bytes:
    """A body valid for ``route`` of exactly ``size`` bytes."""
    head = json.dumps({**VALID[route], "pad": ""}).encode()
    return head[:-2] + b"x" * (size - len(head)) + head[-2:]


def _finish_body(**fields: Any) -> bytes:
    return json.dumps({**VALID[FINISH_RIDE_PATH], **fields}).encode()


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 4096):
        yield body[start : start + 4096]


async def _post(
    gateway: Gateway, route: str, data: Any, headers: Any = None
) -> tuple[int, Any, CIMultiDict[str]]:
    response = await gateway.client.post(route, data=data, headers=headers)
    assert response.content_type == "application/json"
    return response.status, await response.json(), CIMultiDict(response.headers)


# --- size (413), before everything else ------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_body_past_64_kib_is_413_whatever_else_is_wrong(
    world: RunningWorld, gateway: Gateway, logs: list[dict[str, Any]], route: str, framing: str
) -> None:
    body = _padded(route, MAX_BODY_BYTES + 1)
    data = body if framing == "content-length" else _chunks(body)

    # No identity headers and a wrong media type: size is checked first.
    status, answer, headers = await _post(
        gateway, route, data, headers={hdrs.CONTENT_TYPE: "text/plain"}
    )

    assert (status, answer) == (
        413,
        {"code": "payload_too_large", "message": "the body is larger than 65536 bytes"},
    )
    assert headers[hdrs.CONNECTION] == "close"
    assert not calls_made(world.sims)
    # A declared length is refused before any handler; a chunked body by the handler reading it.
    event = "http.refused" if framing == "content-length" else REFUSAL_EVENT[route]
    assert _refusal_line(logs, event)["status"] == 413


async def test_a_declared_oversized_body_is_413_on_every_route(
    world: RunningWorld, gateway: Gateway
) -> None:
    for method, path in [("GET", "/ping"), ("GET", "/metrics"), ("POST", "/nowhere")]:
        response = await gateway.client.request(
            method, path, data=b"x" * (MAX_BODY_BYTES + 1), headers=JSON
        )

        assert response.status == 413, path
        assert (await response.json())["code"] == "payload_too_large"
    assert not calls_made(world.sims)


@pytest.mark.parametrize("route", ROUTES)
async def test_a_body_of_exactly_64_kib_is_read(
    world: RunningWorld, gateway: Gateway, route: str
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    await gateway.start_ride("order-il-1")

    response = await gateway.client.post(
        route, data=_padded(route, MAX_BODY_BYTES), headers={**DRIVER_HEADERS, **JSON}
    )
    await gateway.wait_for_tasks()

    assert response.status == {FINISH_RIDE_PATH: 200, START_RIDE_PATH: 202}[route]


@pytest.mark.parametrize("route", ROUTES)
async def test_a_content_length_past_64_kib_is_413_before_the_body_arrives(
    world: RunningWorld, gateway: Gateway, route: str
) -> None:
    host, port = gateway.client.server.host, gateway.client.server.port
    lying = (
        f"POST {route} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * MAX_BODY_BYTES}\r\n\r\n{{}}"
    ).encode()

    answer = await exchange(host, port, lying)

    assert (answer.status, answer.json()["code"]) == (413, "payload_too_large")
    assert not calls_made(world.sims)


async def test_a_body_shorter_than_its_content_length_ends_in_408_not_a_hang(
    world: RunningWorld, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_body, "BODY_READ_TIMEOUT_S", 0.3)
    host, port = gateway.client.server.host, gateway.client.server.port
    lying = (
        f"POST {START_RIDE_PATH} HTTP/1.1\r\nHost: gateway\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    ).encode()

    answer = await exchange(host, port, lying)

    assert (answer.status, answer.json()) == (
        408,
        {"code": "request_timeout", "message": "the body did not arrive in time"},
    )
    assert not calls_made(world.sims)


# --- media type (415) ------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json-patch+json", None],
)
async def test_a_body_that_is_not_json_by_its_media_type_is_415(
    world: RunningWorld,
    gateway: Gateway,
    logs: list[dict[str, Any]],
    route: str,
    content_type: str | None,
) -> None:
    body = json.dumps(VALID[route]).encode()
    sent = {} if content_type is None else {hdrs.CONTENT_TYPE: content_type}

    # No identity headers either: the media type is checked before them.
    response = await gateway.client.post(
        route, data=body, headers=sent, skip_auto_headers=[hdrs.CONTENT_TYPE]
    )

    assert (response.status, await response.json()) == (
        415,
        {"code": "unsupported_media_type", "message": "the body must be application/json"},
    )
    assert not calls_made(world.sims)
    assert _refusal_line(logs, REFUSAL_EVENT[route])["status"] == 415


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
)
async def test_json_with_a_charset_is_accepted(
    world: RunningWorld, gateway: Gateway, content_type: str
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    await gateway.start_ride("order-il-1")

    response = await gateway.client.post(
        FINISH_RIDE_PATH,
        data=json.dumps(VALID[FINISH_RIDE_PATH]),
        headers={**DRIVER_HEADERS, hdrs.CONTENT_TYPE: content_type},
    )

    assert (response.status, await response.json()) == (200, {"price": 42.24})


# --- identity headers (401), finish-ride only ------------------------------------------------


def _identity_cases() -> Iterator[Any]:
    for header in ("X-YaTaxi-Park-Id", "X-YaTaxi-Driver-Profile-Id"):
        others = [(name, value) for name, value in DRIVER_HEADERS.items() if name != header]
        yield pytest.param(header, others, id=f"{header}-missing")
        for value, name in [("", "empty"), ("   ", "blank"), ("\t", "tab")]:
            yield pytest.param(header, [*others, (header, value)], id=f"{header}-{name}")
        own = DRIVER_HEADERS[header]
        yield pytest.param(header, [*others, (header, own), (header, own)], id=f"{header}-twice")
        yield pytest.param(
            header, [*others, (header, own), (header, "attacker")], id=f"{header}-forged"
        )


@pytest.mark.parametrize(("header", "sent"), list(_identity_cases()))
async def test_identity_missing_empty_blank_or_repeated_is_401(
    world: RunningWorld,
    gateway: Gateway,
    logs: list[dict[str, Any]],
    header: str,
    sent: list[tuple[str, str]],
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))

    # The body is broken too: identity is checked before it.
    status, answer, _ = await _post(
        gateway, FINISH_RIDE_PATH, b"{", headers=CIMultiDict([*sent, *JSON.items()])
    )

    assert (status, answer) == (
        401,
        {"code": "unauthorized", "message": f"{header} must be given once, with a value"},
    )
    assert not calls_made(world.sims)
    line = _refusal_line(logs, "finish_ride.answered")
    assert (line["log_level"], line["reason"]) == ("info", "unauthorized")


# --- the body (400) --------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * (depth - 1) + "]" * (depth - 1)


BAD_BODIES = [
    pytest.param(
        _finish_body()[:-1] + f', "x": {_nested(33)}}}'.encode(),
        "body is nested deeper than 32 levels",
        id="33-levels",
    ),
    pytest.param(
        b"[" * 30_000 + b"]" * 30_000, "body is nested deeper than 32 levels", id="30k-levels"
    ),
    pytest.param(
        b'{"order_id": "alias-il-1", "user_price": 1e-999999999, "driver_price": 1}',
        "a number is out of range",
        id="tiny-exponent",
    ),
    pytest.param(
        b'{"order_id": "alias-il-1", "user_price": 1e999999, "driver_price": 1}',
        "a number is out of range",
        id="huge-exponent",
    ),
    pytest.param(
        b'{"order_id": "alias-il-1", "user_price": 42.245, "driver_price": 42.245}',
        "user_price: at most 2 decimals are allowed",
        id="three-decimals",
    ),
    pytest.param(
        b'{"order_id": "alias-il-1", "user_price": 1e-3, "driver_price": 1e-3}',
        "user_price: at most 2 decimals are allowed",
        id="three-decimals-exponent",
    ),
    pytest.param(_finish_body(order_id=""), "order_id: should be non-empty", id="empty-id"),
    pytest.param(
        _finish_body(order_id="a" * 129),
        "order_id: is longer than 128 characters",
        id="long-id",
    ),
    pytest.param(
        _finish_body(order_id="a" * 60_000),
        "order_id: is longer than 128 characters",
        id="huge-id",
    ),
    pytest.param(
        _finish_body(order_id="caf\u00e9"), "order_id: does not match ^[ -~]+$", id="non-ascii-id"
    ),
    pytest.param(
        _finish_body(order_id="a\u0000b"), "order_id: does not match ^[ -~]+$", id="control-id"
    ),
    pytest.param(
        b'{"order_id": "\\ud800", "user_price": 42.24, "driver_price": 42.24}',
        "body holds a string that is not valid Unicode",
        id="surrogate-id",
    ),
    pytest.param(
        b'{"order_id": "alias-il-1", "task_id": "\\udfff", "user_price": 1, "driver_price": 1}',
        "body holds a string that is not valid Unicode",
        id="surrogate-task-id",
    ),
    pytest.param(
        b'{"order_id": "nope", "order_id": "alias-il-1", "user_price": 1, "driver_price": 1}',
        'body has the key "order_id" more than once',
        id="duplicate-key",
    ),
]


def _bad_bodies() -> Iterator[Any]:
    for case in BAD_BODIES:
        body, message = case.values
        # start-ride has no prices: its bodies refused for a price are finish-ride's alone.
        routes = [FINISH_RIDE_PATH] if str(message).startswith("user_price") else ROUTES
        for route in routes:
            yield pytest.param(route, body, message, id=f"{route.rsplit('/', 1)[1]}-{case.id}")


@pytest.mark.parametrize(("route", "body", "message"), list(_bad_bodies()))
async def test_a_body_the_document_refuses_is_400(
    world: RunningWorld,
    gateway: Gateway,
    logs: list[dict[str, Any]],
    route: str,
    body: bytes,
    message: str,
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))

    status, answer, _ = await _post(gateway, route, body, headers={**DRIVER_HEADERS, **JSON})
    await gateway.wait_for_tasks()

    assert (status, answer) == (400, {"code": "invalid_request", "message": message})
    assert not calls_made(world.sims)
    line = _refusal_line(logs, REFUSAL_EVENT[route])
    assert (line["log_level"], line[CODE_FIELD[route]]) == ("info", "invalid_request")


@pytest.mark.parametrize("price", ["42.240", "4.224e1", "4224E-2"])
async def test_decimals_are_judged_by_value(
    world: RunningWorld, gateway: Gateway, price: str
) -> None:
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    await gateway.start_ride("order-il-1")
    body = f'{{"order_id": "alias-il-1", "user_price": {price}, "driver_price": {price}}}'

    status, answer, _ = await _post(
        gateway, FINISH_RIDE_PATH, body.encode(), headers={**DRIVER_HEADERS, **JSON}
    )

    assert (status, answer) == (200, {"price": 42.24})


# --- unknown path, wrong method --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "message", "allow"),
    [
        ("GET", "/nowhere", 404, "not_found", "Not Found", None),
        ("POST", "/driver/v1/meters-integration-api/finish", 404, "not_found", "Not Found", None),
        ("GET", FINISH_RIDE_PATH, 405, "method_not_allowed", "Method Not Allowed", "POST"),
        ("PUT", START_RIDE_PATH, 405, "method_not_allowed", "Method Not Allowed", "POST"),
        ("POST", "/ping", 405, "method_not_allowed", "Method Not Allowed", "GET,HEAD"),
        ("DELETE", "/health", 405, "method_not_allowed", "Method Not Allowed", "GET,HEAD"),
        ("POST", "/metrics", 405, "method_not_allowed", "Method Not Allowed", "GET,HEAD"),
        ("PATCH", "/openapi.yaml", 405, "method_not_allowed", "Method Not Allowed", "GET,HEAD"),
    ],
)
async def test_unknown_paths_and_wrong_methods_answer_json(
    world: RunningWorld,
    gateway: Gateway,
    logs: list[dict[str, Any]],
    method: str,
    path: str,
    status: int,
    code: str,
    message: str,
    allow: str | None,
) -> None:
    response = await gateway.client.request(method, path, headers={"X-Request-Id": "req-7"})

    assert response.content_type == "application/json"
    assert (response.status, await response.json()) == (status, {"code": code, "message": message})
    assert response.headers.get(hdrs.ALLOW) == allow
    assert response.headers["X-Request-Id"] == "req-7"
    assert not calls_made(world.sims)
    line = _refusal_line(logs, "http.refused")
    assert (line["log_level"], line["status"], line["code"]) == ("info", status, code)


# --- a body that breaks off ------------------------------------------------------------------


def _chunked_head(path: str) -> bytes:
    headers = "".join(f"{name}: {value}\r\n" for name, value in DRIVER_HEADERS.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: gateway\r\n{headers}Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("route", ROUTES)
async def test_a_body_its_content_encoding_cannot_decode_is_400_bad_request(
    world: RunningWorld, gateway: Gateway, logs: list[dict[str, Any]], route: str
) -> None:
    status, answer, _ = await _post(
        gateway,
        route,
        json.dumps(VALID[route]).encode(),
        headers={**DRIVER_HEADERS, **JSON, hdrs.CONTENT_ENCODING: "gzip"},
    )

    assert (status, answer) == (
        400,
        {
            "code": "bad_request",
            "message": "the body could not be read: its chunking or content encoding is broken",
        },
    )
    assert not calls_made(world.sims)
    assert _refusal_line(logs, REFUSAL_EVENT[route])["status"] == 400


async def test_a_compressed_body_past_64_kib_once_decoded_is_413(
    world: RunningWorld, gateway: Gateway
) -> None:
    bomb = gzip.compress(_padded(START_RIDE_PATH, 10 * MAX_BODY_BYTES))

    status, answer, _ = await _post(
        gateway, START_RIDE_PATH, bomb, headers={**JSON, hdrs.CONTENT_ENCODING: "gzip"}
    )

    assert (status, answer["code"]) == (413, "payload_too_large")
    assert not calls_made(world.sims)


async def test_bad_chunking_after_the_headers_ends_in_408_not_a_hang(
    world: RunningWorld,
    make_gateway: GatewayFactory,
    settings_tree: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # aiohttp 3.14 leaves the body read waiting when the chunking breaks after the headers
    # arrived: finish-ride's deadline, and start-ride's read budget, end it.
    settings_tree["server"] = {"finish_ride_deadline_ms": 300}
    monkeypatch.setattr(request_body, "BODY_READ_TIMEOUT_S", 0.3)
    gateway = await make_gateway()
    host, port = gateway.client.server.host, gateway.client.server.port

    for route in ROUTES:
        head = _chunked_head(route) + b"2\r\n{}\r\n"
        answer = await exchange(host, port, head, b"ZZ\r\n0\r\n\r\n", pause_s=0.05)

        assert (answer.status, answer.json()) == (
            408,
            {"code": "request_timeout", "message": "the body did not arrive in time"},
        ), route
    assert not calls_made(world.sims)
