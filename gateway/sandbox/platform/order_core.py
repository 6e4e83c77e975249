"""order-core's order-proc: nested order documents, read by projection, written under a revision.

Bodies are BSON both ways; errors are JSON ``{"code", "message"}`` like the real service's.
"""

import copy
from dataclasses import dataclass
from typing import Any

import bson
from aiohttp import web
from bson.errors import InvalidBSON

from gateway.plugins.simulator import (
    BadRequest,
    Simulator,
    control_json,
    expect_object,
    expect_query,
    expect_str,
    expect_str_list,
    json_error,
    read_json,
)
from gateway.sandbox.platform import project

GET_FIELDS = "/internal/processing/v1/order-proc/get-fields"
SET_FIELDS = "/internal/processing/v1/order-proc/set-fields"
BSON = "application/bson"
REVISION_ONLY = ["revision"]
# The revision is kept beside the document, so these are the only counters $inc can move.
REVISION_COUNTERS = ("order.version", "processing.version")


@dataclass(slots=True)
class StoredOrder:
    document: dict[str, Any]
    revision: dict[str, int]


class OrderCoreSimulator(Simulator):
    name = "order-core"

    def __init__(self) -> None:
        super().__init__()
        self._orders: dict[str, StoredOrder] = {}

    def add_order(
        self,
        order_id: str,
        document: dict[str, Any],
        order_version: int = 1,
        processing_version: int = 1,
    ) -> None:
        self._orders[order_id] = StoredOrder(
            document=copy.deepcopy(document),
            revision={"order.version": order_version, "processing.version": processing_version},
        )

    def order(self, order_id: str) -> dict[str, Any]:
        """A copy of the order's current document; KeyError if there is no such order."""
        return copy.deepcopy(self._orders[order_id].document)

    def update_order(self, order_id: str, changes: dict[str, Any]) -> None:
        """Set fields by dotted path, as order-core's own writers do (the order moves on its
        revision); KeyError if there is no such order."""
        stored = self._orders[order_id]
        for path, value in changes.items():
            _assign(stored.document, path, value)
        stored.revision["order.version"] += 1

    def revision(self, order_id: str) -> dict[str, int]:
        return dict(self._orders[order_id].revision)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(GET_FIELDS, self._get_fields)
        router.add_post(SET_FIELDS, self._set_fields)
        router.add_post("/_sim/orders", self._seed_order)
        router.add_get("/_sim/orders/{order_id}", self._show_order)
        router.add_post("/_sim/orders/{order_id}/reassign", self._reassign_order)

    async def _get_fields(self, request: web.Request) -> web.Response:
        fields = expect_str_list(await _read_bson(request), "fields")
        stored = self._find(request)
        if stored is None:
            return _no_such_order()
        if fields == REVISION_ONLY:
            return _bson_response({"revision": stored.revision})
        return _bson_response(
            {"document": project(stored.document, fields), "revision": stored.revision}
        )

    async def _set_fields(self, request: web.Request) -> web.Response:
        body = await _read_bson(request)
        update = expect_object(body.get("update"), "update")
        revision = expect_object(body.get("revision"), "revision")
        if set(update) - {"$set", "$inc"}:
            raise BadRequest("update supports only $set and $inc")
        assignments = expect_object(update.get("$set", {}), "$set")
        increments = _revision_increments(expect_object(update.get("$inc", {}), "$inc"))
        stored = self._find(request)
        if stored is None:
            return _no_such_order()
        if revision != stored.revision:
            return json_error(409, "race_condition", "the order changed since that revision")
        # Applied to a copy so that a path refused half-way leaves the order as it was.
        document = copy.deepcopy(stored.document)
        for path, value in assignments.items():
            _assign(document, path, value)
        stored.document = document
        for key, step in increments.items():
            stored.revision[key] += step
        return _bson_response({})

    def _find(self, request: web.Request) -> StoredOrder | None:
        order_id = expect_query(request, "order_id")
        id_type = expect_query(request, "order_id_type")
        if id_type == "exact_id":
            return self._orders.get(order_id)
        if id_type == "alias_id":
            return next(
                (
                    stored
                    for stored in self._orders.values()
                    if project(stored.document, ["performer.alias_id"])
                    == {"performer": {"alias_id": order_id}}
                ),
                None,
            )
        raise BadRequest("order_id_type must be exact_id or alias_id")

    async def _seed_order(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        order_id = expect_str(body, "order_id")
        self.add_order(order_id, expect_object(body.get("document"), "document"))
        return self._show(order_id, status=201)

    async def _reassign_order(self, request: web.Request) -> web.Response:
        """The order moves to another driver and car, as order-core moves it: everything else,
        ``order.external_meter_ride_id`` included, stays."""
        order_id = request.match_info["order_id"]
        if order_id not in self._orders:
            return _no_such_order()
        body = expect_object(await read_json(request))
        self.update_order(
            order_id,
            {
                "order.performer.db_id": expect_str(body, "park_id"),
                "order.performer.uuid": expect_str(body, "driver_profile_id"),
                "order.performer.car_id": expect_str(body, "car_id"),
            },
        )
        return self._show(order_id)

    async def _show_order(self, request: web.Request) -> web.Response:
        return self._show(request.match_info["order_id"])

    def _show(self, order_id: str, status: int = 200) -> web.Response:
        stored = self._orders.get(order_id)
        if stored is None:
            return _no_such_order()
        return control_json(
            {"order_id": order_id, "document": stored.document, "revision": stored.revision},
            status=status,
        )


def _revision_increments(increments: dict[str, Any]) -> dict[str, int]:
    for key, step in increments.items():
        if key not in REVISION_COUNTERS:
            raise BadRequest(f"$inc supports only the revision counters, not {key}")
        if isinstance(step, bool) or not isinstance(step, int):
            raise BadRequest(f"$inc of {key} must be an integer")
    return increments


def _assign(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = document
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise BadRequest(f"cannot $set {path}: {key} is not a document")
    node[leaf] = value


async def _read_bson(request: web.Request) -> dict[str, Any]:
    try:
        body: dict[str, Any] = bson.decode(await request.read())
    except InvalidBSON as error:
        raise BadRequest("body is not a BSON document") from error
    return body


def _bson_response(document: dict[str, Any]) -> web.Response:
    return web.Response(body=bson.encode(document), content_type=BSON)


def _no_such_order() -> web.Response:
    return json_error(404, "no_such_order", "no such order")
