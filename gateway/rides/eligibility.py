"""Whether the smart-meter flow applies to an order at all (both flows ask the same question)."""

from enum import StrEnum

from gateway.rides.order import Order
from gateway.rides.routing import MeterRoute, VendorRouter


class NotEligible(StrEnum):
    """Why an order stays out of the meter flow; the value is the metric and log reason."""

    CORPORATE_ORDER = "corporate_order"
    NO_VENDOR_FOR_ZONE = "no_vendor_for_zone"
    DRIVER_NOT_IN_ROLLOUT = "driver_not_in_rollout"


def meter_route(order: Order, router: VendorRouter) -> MeterRoute | NotEligible:
    if order.is_corporate:
        return NotEligible.CORPORATE_ORDER
    route = router.route(order.zone)
    if route is None:
        return NotEligible.NO_VENDOR_FOR_ZONE
    if not route.country_settings.includes_driver(order.park_id, order.driver_profile_id):
        return NotEligible.DRIVER_NOT_IN_ROLLOUT
    return route
