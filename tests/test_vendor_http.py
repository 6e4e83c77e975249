"""call_vendor's reading of answers: what a vendor plugin gets back for each kind of body."""

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from gateway.plugins.vendor_errors import VendorMalformedResponse
from gateway.plugins.vendor_http import VendorResponse, call_vendor

Answer = Callable[[int, str], Awaitable[VendorResponse]]


@pytest.fixture
async def answer(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Answer:
    """The VendorResponse call_vendor makes of a vendor answering ``status`` with ``body``."""
    canned: dict[str, Any] = {}

    async def ride(_: web.Request) -> web.Response:
        return web.Response(status=canned["status"], text=canned["body"])

    app = web.Application()
    app.router.add_get("/rides/r-1", ride)
    server = await aiohttp_server(app)

    async def get(status: int, body: str) -> VendorResponse:
        canned.update(status=status, body=body)
        async with aiohttp.ClientSession() as http:
            return await call_vendor(
                http,
                vendor="acme",
                operation="get_ride",
                method="GET",
                url=str(server.make_url("/rides/r-1")),
                token=SecretStr("t"),
                timeout_ms=1000,
            )

    return get


async def test_json_answer_is_decoded(answer: Answer) -> None:
    assert await answer(200, '{"state": "COMPLETED"}') == VendorResponse(
        200, {"state": "COMPLETED"}
    )


async def test_empty_answer_is_none(answer: Answer) -> None:
    assert await answer(200, "") == VendorResponse(200, None)


async def test_a_success_that_is_not_json_is_malformed(answer: Answer) -> None:
    with pytest.raises(VendorMalformedResponse):
        await answer(200, "<html>ok</html>")


async def test_an_error_page_keeps_its_status_for_the_vendor_to_judge(answer: Answer) -> None:
    assert await answer(502, "<html>Bad Gateway</html>") == VendorResponse(502, None)
    assert await answer(500, '{"status": "ERROR"}') == VendorResponse(500, {"status": "ERROR"})
