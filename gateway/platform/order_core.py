"""order-core's order-proc: read an order and its revision, store the meter ride id (BSON)."""

from typing import Any

import bson

from gateway.platform.order import ORDER_FIELDS, order_from_document
from gateway.platform.upstream_http import UpstreamClient, expect_dict
from gateway.rides.errors import (
    OrderNotFound,
    OrderRevisionChanged,
    UpstreamErrorStatus,
    UpstreamMalformedResponse,
)
from gateway.rides.order import Order, OrderIdType, Revision

GET_FIELDS = "/internal/processing/v1/order-proc/get-fields"
SET_FIELDS = "/internal/processing/v1/order-proc/set-fields"


class OrderCoreClient(UpstreamClient):
    service = "order_core"
    content_type = "application/bson"

    def _encode(self, body: Any) -> bytes:
        return bson.encode(body)

    def _decode(self, raw: bytes) -> Any:
        return bson.decode(raw)

    async def get_order(self, order_id: str, id_type: OrderIdType) -> Order:
        answer = await self._get_fields("get_order", order_id, id_type, list(ORDER_FIELDS))
        document = expect_dict(self.service, answer.get("document"), "document")
        return order_from_document(order_id, document)

    async def get_revision(self, order_id: str) -> Revision:
        answer = await self._get_fields("get_revision", order_id, OrderIdType.EXACT, ["revision"])
        revision = expect_dict(self.service, answer.get("revision"), "revision")
        if not all(isinstance(value, int) for value in revision.values()):
            raise UpstreamMalformedResponse(self.service, "revision holds non-integers")
        return revision

    async def set_external_meter_ride_id(
        self, order_id: str, ride_id: str, revision: Revision
    ) -> None:
        body = {
            "update": {
                "$set": {"order.external_meter_ride_id": ride_id},
                "$inc": {"order.version": 1},
            },
            "revision": revision,
        }
        try:
            await self._post(
                "set_fields",
                SET_FIELDS,
                body,
                {"order_id": order_id, "order_id_type": OrderIdType.EXACT.value},
                decode_answer=False,
            )
        except UpstreamErrorStatus as error:
            if error.status == 409:
                raise OrderRevisionChanged(self.service, 409, error.code) from error
            raise

    async def _get_fields(
        self, operation: str, order_id: str, id_type: OrderIdType, fields: list[str]
    ) -> dict[str, Any]:
        params = {"order_id": order_id, "order_id_type": id_type.value}
        try:
            answer = await self._post(operation, GET_FIELDS, {"fields": fields}, params)
        except UpstreamErrorStatus as error:
            if error.status == 404:
                raise OrderNotFound(self.service, 404, error.code) from error
            raise
        return expect_dict(self.service, answer, "answer")
