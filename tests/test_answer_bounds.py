"""Every upstream and vendor answer is read up to its ``max_answer_bytes`` (1 MiB unless set):
past it the call fails as a malformed answer, read no further, measured and logged as such.

A real aiohttp server answers past the bound three ways: declaring its length, streaming it
chunked with no length, and gzip-compressed small but inflating past it.
"""

import gzip
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import REGISTRY
from pydantic import SecretStr

from gateway.platform.order_core import OrderCoreClient
from gateway.plugins import BearerToken, VendorHttp, VendorMalformedResponse, VendorResponse
from gateway.rides.errors import UpstreamMalformedResponse
from gateway.settings import DEFAULT_MAX_ANSWER_BYTES, UpstreamSettings

BOUND = DEFAULT_MAX_ANSWER_BYTES
ServerFactory = Callable[..., Awaitable[TestServer]]


def padded(size: int) -> bytes:
    return b'{"a":"' + b"x" * (size - 8) + b'"}'


async def declared(_: web.Request) -> web.Response:
    return web.Response(body=padded(BOUND + 1), content_type="application/json")


async def streamed(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    chunk = b"x" * (64 * 1024)
    try:
        for _ in range(4 * BOUND // len(chunk)):
            await response.write(chunk)
    except ConnectionResetError:
        pass  # the client stopped reading, as it should
    return response


async def compressed(_: web.Request) -> web.Response:
    return web.Response(
        body=gzip.compress(padded(8 * BOUND)),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )


async def exactly_the_bound(_: web.Request) -> web.Response:
    return web.Response(body=padded(BOUND), content_type="application/json")


OVERSIZED = {"declared": declared, "streamed": streamed, "compressed": compressed}


async def serving(aiohttp_server: ServerFactory, path: str, handler: Any) -> str:
    app = web.Application()
    app.router.add_route("*", path, handler)
    server = await aiohttp_server(app)
    return str(server.make_url("/"))


def calls(metric: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(f"{metric}_count", labels) or 0.0


async def vendor_get(url: str) -> VendorResponse:
    async with aiohttp.ClientSession() as http:
        api = VendorHttp(
            http, vendor="acme", base_url=url, timeout_ms=3000, auth=BearerToken(SecretStr("t"))
        )
        return await api.request("get_ride", "GET", "/rides/r-1")


@pytest.mark.parametrize("how", list(OVERSIZED))
async def test_a_vendor_answer_past_the_bound_is_malformed(
    aiohttp_server: ServerFactory, how: str
) -> None:
    url = await serving(aiohttp_server, "/rides/r-1", OVERSIZED[how])
    labels = {"vendor": "acme", "operation": "get_ride", "outcome": "vendor_malformed_response"}
    before = calls("meters_vendor_call_duration_seconds", labels)

    with structlog.testing.capture_logs() as logs, pytest.raises(VendorMalformedResponse) as failed:
        await vendor_get(url)

    assert str(failed.value) == f"acme get_ride answer is larger than {BOUND} bytes"
    assert calls("meters_vendor_call_duration_seconds", labels) == before + 1
    [line] = [entry for entry in logs if entry["event"] == "vendor.call"]
    assert (line["log_level"], line["outcome"], line["status"]) == (
        "warning",
        "vendor_malformed_response",
        200,
    )


async def test_a_vendor_answer_of_exactly_the_bound_is_read(aiohttp_server: ServerFactory) -> None:
    url = await serving(aiohttp_server, "/rides/r-1", exactly_the_bound)

    assert await vendor_get(url) == VendorResponse(200, {"a": "x" * (BOUND - 8)})


@pytest.mark.parametrize("how", list(OVERSIZED))
async def test_an_upstream_answer_past_the_bound_is_malformed(
    aiohttp_server: ServerFactory, how: str
) -> None:
    url = await serving(aiohttp_server, "/{path:.*}", OVERSIZED[how])
    labels = {"service": "order_core", "operation": "get_revision", "outcome": "malformed_response"}
    before = calls("meters_upstream_call_duration_seconds", labels)

    async with aiohttp.ClientSession() as http:
        client = OrderCoreClient(http, UpstreamSettings(url=url, timeout_ms=3000))
        with (
            structlog.testing.capture_logs() as logs,
            pytest.raises(UpstreamMalformedResponse) as failed,
        ):
            await client.get_revision("order-1")

    assert str(failed.value) == f"order_core: get_revision answer is larger than {BOUND} bytes"
    assert calls("meters_upstream_call_duration_seconds", labels) == before + 1
    [line] = [entry for entry in logs if entry["event"] == "upstream.call"]
    assert (line["log_level"], line["outcome"], line["status"]) == (
        "warning",
        "malformed_response",
        200,
    )


async def test_the_bound_is_each_counterparts_setting(aiohttp_server: ServerFactory) -> None:
    url = await serving(aiohttp_server, "/{path:.*}", exactly_the_bound)
    settings = UpstreamSettings(url=url, timeout_ms=3000, max_answer_bytes=BOUND - 1)

    async with aiohttp.ClientSession() as http:
        with pytest.raises(UpstreamMalformedResponse) as failed:
            await OrderCoreClient(http, settings).get_revision("order-1")

    assert str(failed.value).endswith(f"answer is larger than {BOUND - 1} bytes")
