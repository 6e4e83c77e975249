"""A lean stand-in for every upstream: canned answers, no recording, an optional fixed latency.

One app answers the routes of order-core (BSON), driver-profiles, personal, fleet-vehicles,
driver-orders-builder, client-notify and Monitex, so any of them can be pointed at it.
Answers are encoded once at start-up; with ``--latency-ms`` every call waits that long first.

    python -m bench.standin --port 8101 [--latency-ms 20]
"""

import argparse
import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import bson
from aiohttp import web

from bench import canned

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _canned(body: bytes, content_type: str, status: int = 200) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, status=status, content_type=content_type)

    return answer


def _json(answer: Any, status: int = 200) -> Handler:
    return _canned(json.dumps(answer).encode(), "application/json", status)


def _new_meter_ride() -> Handler:
    """Monitex's start: a ride id of its own for every start, as for a driver with no ride open.

    One id for every start would be one meter ride for every order, which the gateway's ride
    ledger (docs/design.md §3a) refuses as another order's.
    """
    started = itertools.count(1)

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        body = f'{{"status": "OK", "rideId": "{canned.RIDE_ID}-{next(started)}"}}'
        return web.Response(body=body.encode(), status=201, content_type="application/json")

    return answer


def _bson(answer: dict[str, Any]) -> Handler:
    return _canned(bson.encode(answer), "application/bson")


def _get_fields() -> Handler:
    """finish-ride reads by alias id and needs the meter ride id; start-ride reads by exact id.

    Each order read by exact id is performed by a driver of its own: one driver for every
    order would be one driver starting hundreds of rides at once, whose start the ride ledger
    (docs/design.md §3a "A start whose answer was lost") holds for the first order only.
    """
    by_alias = _bson(
        {"document": canned.order_document(with_meter_ride=True), "revision": canned.REVISION}
    )

    async def answer(request: web.Request) -> web.Response:
        if request.query.get("order_id_type") == "alias_id":
            return await by_alias(request)
        await request.read()
        driver = canned.driver_of(request.query.get("order_id", ""))
        document = canned.order_document(with_meter_ride=False, driver_profile_id=driver)
        body = bson.encode({"document": document, "revision": canned.REVISION})
        return web.Response(body=body, content_type="application/bson")

    return answer


def _identity_docs() -> Handler:
    """The national id document of whichever driver is asked for."""
    document = {"type": canned.ID_DOCUMENT_TYPE, "number_pd_id": canned.PD_ID}

    async def answer(request: web.Request) -> web.Response:
        keys = (await request.json())["park_driver_profile_id_in_set"]
        docs = [
            {"park_driver_profile_id": key, "docs": [{"id": "doc-id", "data": document}]}
            for key in keys
        ]
        return web.json_response({"docs_by_park_driver_profile_id": docs})

    return answer


def _routes() -> list[tuple[str, str, Handler]]:
    vehicle = {"park_id_car_id": f"{canned.PARK_ID}_{canned.CAR_ID}", "data": {"permit_num": "P7"}}
    ride = {"id": canned.RIDE_ID, "state": "COMPLETED", "totalPrice": canned.METER_AGOROT}
    return [
        ("GET", "/ping", _json({"status": "ok"})),
        ("POST", "/internal/processing/v1/order-proc/get-fields", _get_fields()),
        ("POST", "/internal/processing/v1/order-proc/set-fields", _bson({})),
        ("POST", "/v1/identity-docs/retrieve_by_park_driver_profile_id", _identity_docs()),
        (
            "POST",
            "/v1/identifications/retrieve",
            _json({"id": canned.PD_ID, "value": '{"number": "123456782"}'}),
        ),
        ("POST", "/v1/vehicles/retrieve", _json({"vehicles": [vehicle]})),
        ("POST", "/v1/setcar/update-lite", _json({})),
        ("POST", "/v2/push", _json({"notification_id": "n-1"})),
        ("POST", "/ride", _new_meter_ride()),
        ("PUT", "/rides/{ride_id}", _json({"status": "OK"})),
        ("GET", "/rides/{ride_id}", _json(ride)),
    ]


def _delayed(handler: Handler, latency_s: float) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(latency_s)
        return await handler(request)

    return answer


def build_app(latency_ms: float = 0.0) -> web.Application:
    app = web.Application()
    for method, path, handler in _routes():
        delayed = latency_ms > 0 and path != "/ping"
        app.router.add_route(
            method, path, _delayed(handler, latency_ms / 1000) if delayed else handler
        )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    web.run_app(
        build_app(args.latency_ms), host="127.0.0.1", port=args.port, access_log=None, print=None
    )


if __name__ == "__main__":
    main()
