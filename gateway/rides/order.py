"""The order as the ride flows see it (read from order-core by ``gateway.platform``)."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

CORPORATE_PAYMENT = "corp"
CASH_PAYMENT = "cash"


class OrderIdType(StrEnum):
    EXACT = "exact_id"
    ALIAS = "alias_id"


# order.status values after which nothing happens to the order any more (docs/design.md §3a).
TERMINAL_STATUSES = frozenset({"finished", "cancelled"})

Revision = dict[str, int]
"""order-core's revision of an order, as read and written back unchanged."""


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
