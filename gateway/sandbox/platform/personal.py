"""personal, the PII vault: resolves a personal-data id to the value it protects."""

import json

from aiohttp import web

from gateway.plugins.simulator import (
    BadRequest,
    Simulator,
    expect_object,
    expect_str,
    json_error,
    read_json,
)

RETRIEVE = "/v1/identifications/retrieve"


class PersonalSimulator(Simulator):
    name = "personal"

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[str, str] = {}

    def add_identification(self, pd_id: str, number: str) -> None:
        # The vault stores a JSON document and hands it out as a string, not as an object.
        self._values[pd_id] = json.dumps({"number": number})

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(RETRIEVE, self._retrieve)
        router.add_post("/_sim/identifications", self._seed_identification)

    async def _retrieve(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        pd_id = expect_str(body, "id")
        if not isinstance(body.get("primary_replica"), bool):
            raise BadRequest('"primary_replica" must be a boolean')
        value = self._values.get(pd_id)
        if value is None:
            return json_error(404, "not_found", "no such identification")
        return web.json_response({"id": pd_id, "value": value})

    async def _seed_identification(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        self.add_identification(expect_str(body, "id"), expect_str(body, "number"))
        return web.json_response({}, status=201)
