"""start-ride's dependency graph walked by a bare aiohttp client: the practical lower bound.

The same nine exchanges in the same order (fleet-vehicles alongside the two identity ones), no
checks, metrics or logging: what one task must wait for on this machine's loopback.
"""

import asyncio
import time
from typing import Any

import aiohttp
import bson

from bench import canned
from gateway.platform.order import ORDER_FIELDS

GET_FIELDS = "/internal/processing/v1/order-proc/get-fields"
SET_FIELDS = "/internal/processing/v1/order-proc/set-fields"
BSON_HEADERS = {"Content-Type": "application/bson"}


async def bare_graph_durations(url: str, runs: int) -> list[float]:
    """Seconds per walk of the graph, after one walk that opens the connections."""
    async with aiohttp.ClientSession(url) as http:
        await walk(http)
        durations = []
        for _ in range(runs):
            started = time.perf_counter()
            await walk(http)
            durations.append(time.perf_counter() - started)
    return durations


async def walk(http: aiohttp.ClientSession) -> None:
    exact = {"order_id": canned.ORDER_ID, "order_id_type": "exact_id"}
    await _bson(http, GET_FIELDS, exact, {"fields": list(ORDER_FIELDS)})
    await asyncio.gather(_national_id(http), _json(http, "POST", "/v1/vehicles/retrieve", {}))
    await _json(http, "POST", "/ride", {"driverId": "1", "vehicleLicense": "P", "priceLimit": 1.0})
    revision = await _bson(http, GET_FIELDS, exact, {"fields": ["revision"]})
    await _bson(http, SET_FIELDS, exact, {"update": {}, "revision": revision["revision"]})
    await _json(http, "POST", "/v1/setcar/update-lite", {"changes": []})
    await _json(http, "POST", "/v2/push", {"intent": "ForcePollingOrder"})


async def _national_id(http: aiohttp.ClientSession) -> None:
    driver = f"{canned.PARK_ID}_{canned.driver_of(canned.ORDER_ID)}"
    await _json(
        http,
        "POST",
        "/v1/identity-docs/retrieve_by_park_driver_profile_id",
        {"park_driver_profile_id_in_set": [driver]},
    )
    await _json(http, "POST", "/v1/identifications/retrieve", {"id": canned.PD_ID})


async def _bson(
    http: aiohttp.ClientSession, path: str, params: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    async with http.post(
        path, params=params, data=bson.encode(body), headers=BSON_HEADERS
    ) as response:
        answer: dict[str, Any] = bson.decode(await response.read())
        return answer


async def _json(http: aiohttp.ClientSession, method: str, path: str, body: Any) -> Any:
    async with http.request(method, path, json=body) as response:
        return await response.json()
