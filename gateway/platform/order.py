"""The order as this service reads it from order-proc."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from gateway.money import price_from_float

CORPORATE_PAYMENT = "corp"
CASH_PAYMENT = "cash"


class OrderIdType(StrEnum):
    EXACT = "exact_id"
    ALIAS = "alias_id"


# order.status values after which nothing happens to the order any more (docs/design.md §3a).
TERMINAL_STATUSES = frozenset({"finished", "cancelled"})

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

Revision = dict[str, int]


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    zone: str | None
    status: str | None
    fixed_price: Decimal | None
    park_id: str | None
    driver_profile_id: str | None
    car_id: str | None
    car_number: str | None
    alias_id: str | None
    payment_type: str | None
    external_meter_ride_id: str | None

    @property
    def is_corporate(self) -> bool:
        return self.payment_type == CORPORATE_PAYMENT

    @property
    def is_active(self) -> bool:
        """False once the order is finished or cancelled: no meter must start for it."""
        return self.status not in TERMINAL_STATUSES

    @property
    def is_cash(self) -> bool:
        return self.payment_type == CASH_PAYMENT

    def performed_by(self, park_id: str, driver_profile_id: str) -> bool:
        return self.park_id == park_id and self.driver_profile_id == driver_profile_id

    @classmethod
    def from_document(cls, order_id: str, document: dict[str, Any]) -> "Order":
        def text(path: str) -> str | None:
            value = _dig(document, path)
            return value if isinstance(value, str) and value else None

        raw_price = _dig(document, "order.fixed_price.price")
        fixed_price = (
            price_from_float(raw_price)
            if isinstance(raw_price, int | float) and not isinstance(raw_price, bool)
            else None
        )
        return cls(
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
