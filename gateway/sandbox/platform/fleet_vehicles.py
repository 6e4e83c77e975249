"""fleet-vehicles: car records keyed by ``<park>_<car>``, returned through a projection."""

import copy
from typing import Any

from aiohttp import web

from gateway.plugins.simulator import (
    Simulator,
    expect_object,
    expect_query,
    expect_str,
    expect_str_list,
    read_json,
)
from gateway.sandbox.platform import project

RETRIEVE = "/v1/vehicles/retrieve"


class FleetVehiclesSimulator(Simulator):
    name = "fleet-vehicles"

    def __init__(self) -> None:
        super().__init__()
        self._vehicles: dict[str, dict[str, Any] | None] = {}

    def add_vehicle(self, park_id_car_id: str, data: dict[str, Any] | None) -> None:
        """``data=None`` is a car the service knows but holds no data for."""
        self._vehicles[park_id_car_id] = copy.deepcopy(data)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(RETRIEVE, self._retrieve)
        router.add_post("/_sim/vehicles", self._seed_vehicle)

    async def _retrieve(self, request: web.Request) -> web.Response:
        expect_query(request, "consumer")
        body = expect_object(await read_json(request))
        ids = expect_str_list(body, "id_in_set")
        projection = expect_str_list(body, "projection")
        return web.json_response({"vehicles": [self._vehicle(key, projection) for key in ids]})

    def _vehicle(self, key: str, projection: list[str]) -> dict[str, Any]:
        data = self._vehicles.get(key)
        if data is None:
            return {"park_id_car_id": key}
        # Projection paths address the whole record (``data.permit_num``), not the data alone.
        projected = project({"data": data}, projection)
        return {"park_id_car_id": key, "data": projected.get("data", {})}

    async def _seed_vehicle(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        data = body.get("data")
        self.add_vehicle(
            expect_str(body, "park_id_car_id"),
            None if data is None else expect_object(data, "data"),
        )
        return web.json_response({}, status=201)
