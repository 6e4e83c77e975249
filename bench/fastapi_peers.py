"""The framework peers: FastAPI on uvicorn making finish-ride's three upstream calls.

What a fast team would write for the same job, with no validation, metrics or logs: the body
read as JSON, order-core ``get-fields`` in BSON, Monitex ``PUT /rides/{id}`` and
``GET /rides/{id}``, the price answered as JSON. Two clients:

- ``aiohttp``: one ``aiohttp.ClientSession`` for the process, as the gateway has;
- ``httpx``: one ``httpx.AsyncClient``, the usual pick in FastAPI services.

uvicorn runs on the same asyncio event loop as the gateway (``loop="asyncio"``) with its
``httptools`` parser, so the comparison is between frameworks and clients, not event loops.

    python -m bench.fastapi_peers --client aiohttp --port 8300 --order-core URL --vendor URL
"""

import argparse
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import bson
import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bench import canned
from gateway.platform.order import ORDER_FIELDS

GET_FIELDS = "/internal/processing/v1/order-proc/get-fields"
FIELDS = bson.encode({"fields": list(ORDER_FIELDS)})
BSON_HEADERS = {"Content-Type": "application/bson", "Accept": "application/bson"}
VENDOR_HEADERS = {"Authorization": f"Bearer {canned.MONITEX_TOKEN}"}
STOP = {"state": "COMPLETED", "paymentMethod": "CASH"}

# (method, url, params, content, json) -> the answer's body
Exchange = Callable[[str, str, dict[str, str] | None, bytes | None, Any], Awaitable[bytes]]


def build_app(client: str, order_core_url: str, vendor_url: str) -> FastAPI:
    exchange: Exchange | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal exchange
        if client == "aiohttp":
            async with aiohttp.ClientSession() as session:
                exchange = _aiohttp_exchange(session)
                yield
        else:
            async with httpx.AsyncClient() as http:
                exchange = _httpx_exchange(http)
                yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/finish-ride")
    async def finish_ride(request: Request) -> JSONResponse:
        assert exchange is not None, "the lifespan opens the client first"
        body = json.loads(await request.body())
        params = {"order_id": body["order_id"], "order_id_type": "alias_id"}
        raw = await exchange("POST", order_core_url + GET_FIELDS, params, FIELDS, None)
        order = bson.decode(raw)["document"]["order"]
        ride_url = f"{vendor_url}/rides/{order['external_meter_ride_id']}"
        await exchange("PUT", ride_url, None, None, STOP)
        ride = json.loads(await exchange("GET", ride_url, None, None, None))
        return JSONResponse({"price": ride["totalPrice"] / 100})

    @app.get("/ping")
    async def ping() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


def _headers(content: bytes | None) -> dict[str, str]:
    return BSON_HEADERS if content is not None else VENDOR_HEADERS


def _aiohttp_exchange(session: aiohttp.ClientSession) -> Exchange:
    async def exchange(
        method: str, url: str, params: dict[str, str] | None, content: bytes | None, body: Any
    ) -> bytes:
        async with session.request(
            method, url, params=params, data=content, json=body, headers=_headers(content)
        ) as response:
            return await response.read()

    return exchange


def _httpx_exchange(http: httpx.AsyncClient) -> Exchange:
    async def exchange(
        method: str, url: str, params: dict[str, str] | None, content: bytes | None, body: Any
    ) -> bytes:
        response = await http.request(
            method, url, params=params, content=content, json=body, headers=_headers(content)
        )
        return response.content

    return exchange


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", choices=("aiohttp", "httpx"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--order-core", required=True)
    parser.add_argument("--vendor", required=True)
    args = parser.parse_args()
    app = build_app(args.client, args.order_core.rstrip("/"), args.vendor.rstrip("/"))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="asyncio",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
