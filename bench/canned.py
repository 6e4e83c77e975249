"""The one ride every benchmark plays: its ids, the request the driver app sends, the answers."""

from typing import Any

ORDER_ID = "bench-order-1"
ALIAS_ID = "bench-alias-1"
RIDE_ID = "bench-ride-1"
PARK_ID = "park1"
DRIVER_PROFILE_ID = "driver1"
CAR_ID = "car1"
PD_ID = "pd-park1-driver1"
FIXED_PRICE = 42.24
METER_AGOROT = 4224
ID_DOCUMENT_TYPE = "national_id_isr"
MONITEX_TOKEN = "bench-monitex-token"

FINISH_RIDE_BODY = {"order_id": ALIAS_ID, "user_price": FIXED_PRICE, "driver_price": FIXED_PRICE}
FINISH_RIDE_HEADERS = {
    "Content-Type": "application/json",
    "X-YaTaxi-Park-Id": PARK_ID,
    "X-YaTaxi-Driver-Profile-Id": DRIVER_PROFILE_ID,
    "X-Request-Application": "taximeter",
    "X-Request-Application-Version": "9.80",
}
REVISION = {"order.version": 3, "processing.version": 7}


def driver_of(order_id: str) -> str:
    """The driver performing an order read by its exact id (bench.standin)."""
    return f"driver-of-{order_id}"


def order_document(
    *, with_meter_ride: bool, driver_profile_id: str = DRIVER_PROFILE_ID
) -> dict[str, Any]:
    """The order as order-core keeps it; finish-ride needs the meter ride id, start-ride not."""
    order: dict[str, Any] = {
        "nz": "tel_aviv",
        "fixed_price": {"price": FIXED_PRICE},
        "performer": {
            "db_id": PARK_ID,
            "uuid": driver_profile_id,
            "car_id": CAR_ID,
            "car_number": "12-345-67",
            "tariff": {"class": "econom"},
        },
        "application": "taximeter",
    }
    if with_meter_ride:
        order["external_meter_ride_id"] = RIDE_ID
    return {
        "order": order,
        "payment_tech": {"type": "cash"},
        "performer": {"alias_id": ALIAS_ID},
        "candidates": {"taximeter_version": "9.80"},
    }
