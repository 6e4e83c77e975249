"""driver-profiles: a driver's identity documents, keyed by ``<park>_<driver profile>``."""

import copy
from typing import Any

from aiohttp import web

from gateway.plugins.simulator import (
    BadRequest,
    Simulator,
    expect_object,
    expect_query,
    expect_str,
    expect_str_list,
    read_json,
)

RETRIEVE = "/v1/identity-docs/retrieve_by_park_driver_profile_id"


class DriverProfilesSimulator(Simulator):
    name = "driver-profiles"

    def __init__(self) -> None:
        super().__init__()
        self._docs: dict[str, list[dict[str, Any]]] = {}

    def add_docs(self, park_driver_profile_id: str, docs: list[dict[str, Any]]) -> None:
        self._docs[park_driver_profile_id] = copy.deepcopy(docs)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(RETRIEVE, self._retrieve)
        router.add_post("/_sim/docs", self._seed_docs)

    async def _retrieve(self, request: web.Request) -> web.Response:
        expect_query(request, "consumer")
        body = expect_object(await read_json(request))
        ids = expect_str_list(body, "park_driver_profile_id_in_set")
        return web.json_response(
            {
                "docs_by_park_driver_profile_id": [
                    {"park_driver_profile_id": key, "docs": self._docs.get(key, [])} for key in ids
                ]
            }
        )

    async def _seed_docs(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        docs = body.get("docs")
        if not isinstance(docs, list):
            raise BadRequest('"docs" must be a list')
        self.add_docs(expect_str(body, "park_driver_profile_id"), docs)
        return web.json_response({}, status=201)
