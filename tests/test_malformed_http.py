"""Requests the HTTP parser rejects, sent over raw sockets to a real ``serve`` process.

aiohttp answers these itself, before any middleware runs (docs/operations.md, "Hostile
input"): ``400`` text/plain with a fixed text that never quotes what was sent, one INFO line
``http.malformed_request`` naming the parser's error, no traceback, nothing at WARNING or
ERROR, and no upstream called.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH
from gateway.http.protocol_errors import UNQUOTED_TEXT
from tests.calls import calls_made
from tests.gateway_world import RunningWorld
from tests.processes import HOST, serving
from tests.raw_http import exchange

SECRET = "Bearer-9f3a7c-not-for-echoing"

MALFORMED = [
    pytest.param(
        f"GET /ping HTTP/1.1\r\nHost: gateway\r\nAuthorization: {SECRET * 400}\r\n\r\n",
        "LineTooLong",
        id="header-too-long",
    ),
    pytest.param(
        f"GET /{SECRET * 400} HTTP/1.1\r\nHost: gateway\r\n\r\n", "LineTooLong", id="url-too-long"
    ),
    pytest.param(
        "GET /ping HTTP/1.1\r\nHost: gateway\r\n"
        + "".join(f"X-Header-{n}: {SECRET}\r\n" for n in range(200))
        + "\r\n",
        "BadHttpMessage",
        id="too-many-headers",
    ),
    pytest.param(
        f"POST {START_RIDE_PATH} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
        "BadHttpMessage",
        id="bad-chunk-size",
    ),
    pytest.param(
        f"POST {FINISH_RIDE_PATH} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "BadHttpMessage",
        id="length-and-chunked",
    ),
    pytest.param(
        f"POST {START_RIDE_PATH} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f'Content-Length: 10\r\nConnection: close\r\n\r\n{{"order_id": "{SECRET}"}}',
        "BadHttpMessage",
        id="longer-than-its-content-length",
    ),
    pytest.param(
        f"GET /ping HTTP/9.9\r\nHost: {SECRET}\r\n\r\n", "BadStatusLine", id="bad-version"
    ),
    # Encodings aiohttp can decode only with a codec this project does not install (Brotli,
    # zstandard): its parser refuses the request before any handler could answer JSON.
    *[
        pytest.param(
            f"POST {FINISH_RIDE_PATH} HTTP/1.1\r\nHost: gateway\r\n"
            f"Content-Type: application/json\r\nContent-Encoding: {encoding}\r\n"
            f'Content-Length: 24\r\n\r\n{{"order_id": "{SECRET[:8]}"}}',
            "ContentEncodingError",
            id=f"content-encoding-{encoding}",
        )
        for encoding in ("br", "zstd")
    ],
    pytest.param(
        f"GET /ping HTTP/1.1\r\nHost: gateway\r\nX-Bad\x01Name: {SECRET}\r\n\r\n",
        "BadHttpMessage",
        id="bad-header-name",
    ),
]


@pytest.mark.parametrize(("request_text", "error"), MALFORMED)
async def test_malformed_http_gets_aiohttps_400_unquoted_and_one_info_line(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    tmp_path: Path,
    request_text: str,
    error: str,
) -> None:
    async with serving(settings_tree, tmp_path) as served:
        port = int(served.base_url.rsplit(":", 1)[1])
        answer = await exchange(HOST, port, request_text.encode("latin-1"))
        output = served.stdout.read_text()

    assert (answer.status, answer.headers["Content-Type"], answer.body.decode()) == (
        400,
        "text/plain; charset=utf-8",
        UNQUOTED_TEXT,
    )
    lines = [json.loads(line) for line in output.splitlines()]
    malformed = [line for line in lines if line["event"] == "http.malformed_request"]
    assert [(line["level"], line["error"], line["status"]) for line in malformed] == [
        ("info", error, 400)
    ]
    assert [line for line in lines if line["level"] not in ("debug", "info")] == []
    assert "Traceback" not in output
    assert SECRET not in output
    assert served.stderr.read_text() == ""
    assert not calls_made(world.sims)
