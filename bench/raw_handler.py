"""The practical limit: a bare aiohttp handler making finish-ride's three upstream calls.

order-core get-fields (BSON), Monitex PUT stop, Monitex GET ride, then the price as JSON:
what any aiohttp service doing this job must spend, with no validation, metrics or logging.

    python -m bench.raw_handler --port 8300 --order-core URL --vendor URL
"""

import argparse
import json
from collections.abc import AsyncIterator

import aiohttp
import bson
from aiohttp import web

from bench import canned
from gateway.platform.order import ORDER_FIELDS

GET_FIELDS = "/internal/processing/v1/order-proc/get-fields"
HTTP = web.AppKey("http", aiohttp.ClientSession)
FIELDS = bson.encode({"fields": list(ORDER_FIELDS)})
BSON_HEADERS = {"Content-Type": "application/bson", "Accept": "application/bson"}
VENDOR_HEADERS = {"Authorization": f"Bearer {canned.MONITEX_TOKEN}"}


def build_app(order_core_url: str, vendor_url: str) -> web.Application:
    async def finish_ride(request: web.Request) -> web.Response:
        http = request.app[HTTP]
        body = json.loads(await request.read())
        params = {"order_id": body["order_id"], "order_id_type": "alias_id"}
        async with http.post(
            order_core_url + GET_FIELDS, params=params, data=FIELDS, headers=BSON_HEADERS
        ) as response:
            order = bson.decode(await response.read())["document"]["order"]
        ride_url = f"{vendor_url}/rides/{order['external_meter_ride_id']}"
        stop = {"state": "COMPLETED", "paymentMethod": "CASH"}
        async with http.put(ride_url, json=stop, headers=VENDOR_HEADERS) as response:
            await response.read()
        async with http.get(ride_url, headers=VENDOR_HEADERS) as response:
            ride = json.loads(await response.read())
        return web.json_response({"price": ride["totalPrice"] / 100})

    async def client_session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as http:
            app[HTTP] = http
            yield

    app = web.Application()
    app.cleanup_ctx.append(client_session)
    app.router.add_post("/finish-ride", finish_ride)
    app.router.add_get("/ping", _ping)
    return app


async def _ping(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--order-core", required=True)
    parser.add_argument("--vendor", required=True)
    args = parser.parse_args()
    app = build_app(args.order_core.rstrip("/"), args.vendor.rstrip("/"))
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
