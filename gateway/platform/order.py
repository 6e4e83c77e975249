"""The order as order-core's order-proc keeps it: the fields read, and the ride flows' Order."""

from typing import Any

from gateway.money import price_from_float
from gateway.rides.order import Order

ORDER_FIELDS = (
    "order.nz",
    "order.status",
    "order.fixed_price.price",
    "order.performer.db_id",
    "order.performer.uuid",
    "order.performer.car_id",
    "order.performer.car_number",
    "order.performer.tariff.class",
    "order.application",
    "order.external_meter_ride_id",
    "payment_tech.type",
    "performer.alias_id",
    "candidates.taximeter_version",
)


def order_from_document(order_id: str, document: dict[str, Any]) -> Order:
    def text(path: str) -> str | None:
        value = _dig(document, path)
        return value if isinstance(value, str) and value else None

    raw_price = _dig(document, "order.fixed_price.price")
    fixed_price = (
        price_from_float(raw_price)
        if isinstance(raw_price, int | float) and not isinstance(raw_price, bool)
        else None
    )
    return Order(
        order_id=order_id,
        zone=text("order.nz"),
        status=text("order.status"),
        fixed_price=fixed_price,
        park_id=text("order.performer.db_id"),
        driver_profile_id=text("order.performer.uuid"),
        car_id=text("order.performer.car_id"),
        car_number=text("order.performer.car_number"),
        alias_id=text("performer.alias_id"),
        payment_type=text("payment_tech.type"),
        external_meter_ride_id=text("order.external_meter_ride_id"),
    )


def _dig(document: dict[str, Any], dotted_path: str) -> Any:
    value: Any = document
    for part in dotted_path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
