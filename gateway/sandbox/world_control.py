"""The control API of a whole simulated world, beside each simulator's own ``/_sim/`` API.

One call seeds a complete ride in every platform simulator, as ``SimulatedWorld.seed_ride``
does for the sandbox, so operators rehearsing the production topology need no script to keep
the ids of five services consistent.
"""

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from gateway.plugins.simulator import control_json, json_error
from gateway.sandbox.world import RideSeed, SimulatedWorld

RIDES = "/_sim/rides"
SIMULATORS = "/_sim/simulators"
_NULLABLE_STRINGS = {"national_id", "permit", "external_meter_ride_id"}
_PRICE = "fixed_price"


def world_control_app(world: SimulatedWorld, urls: Mapping[str, str]) -> web.Application:
    """``POST /_sim/rides`` seeds a ride (RideSeed's fields as JSON); ``GET /_sim/simulators``
    lists every simulator's base URL by settings section."""

    async def seed_ride(request: web.Request) -> web.Response:
        try:
            ride = ride_seed_from_json(json.loads(await request.read()))
        except ValueError as error:
            return json_error(400, "bad_ride", str(error))
        world.seed_ride(ride)
        seeded = dataclasses.asdict(ride)
        del seeded["national_id"]  # fake, yet a national id number is never echoed
        return control_json({**seeded, "driver_headers": ride.driver_headers()}, status=201)

    async def simulators(_: web.Request) -> web.Response:
        return control_json(dict(urls))

    app = web.Application()
    app.router.add_post(RIDES, seed_ride)
    app.router.add_get(SIMULATORS, simulators)
    return app


def ride_seed_from_json(data: Any) -> RideSeed:
    """A RideSeed from JSON; ValueError names a missing, unknown or mistyped key."""
    if not isinstance(data, dict):
        raise ValueError("a ride is a JSON object")
    known = {field.name for field in dataclasses.fields(RideSeed)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown ride keys: {sorted(unknown)}; known: {sorted(known)}")
    for key in ("order_id", "alias_id"):
        if key not in data:
            raise ValueError(f'"{key}" is required')
    for key, value in data.items():
        _check_field(key, value)
    return RideSeed(**data)


def _check_field(key: str, value: Any) -> None:
    if key == _PRICE:
        # bool is an int subclass, but `true` is never a price.
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            return
        raise ValueError(f'"{key}" must be a number or null')
    if (isinstance(value, str) and value) or (value is None and key in _NULLABLE_STRINGS):
        return
    nullable = " or null" if key in _NULLABLE_STRINGS else ""
    raise ValueError(f'"{key}" must be a non-empty string{nullable}')
