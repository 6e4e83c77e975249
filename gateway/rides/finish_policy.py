"""The finish-ride refusal table (docs/design.md §4), the one place that decides which code each
situation of the flow is refused with.

The codes are wire names the driver app and the dashboards rely on; their HTTP statuses belong
to the HTTP surface (``gateway.http.error_catalog``). Any refusal makes the driver app fall
back to manual price entry.
"""

from enum import Enum, StrEnum


class FinishSituation(Enum):
    """A situation in which the finish-ride flow refuses to answer a price."""

    ORDER_NOT_FOUND = "order-core has no such order, or another driver performs it"
    ORDER_CORE_TIMEOUT = "order-core did not answer in time"
    ORDER_CORE_ERROR = "order-core failed otherwise"
    NOT_ELIGIBLE = "corporate order, no vendor for the zone or country, driver outside rollout"
    PRICES_DIFFER = "the request's user price differs from its driver price"
    FIXED_PRICE_MISMATCH = "the request's price differs from the order's fixed price"
    NO_METER_RIDE = "the vendor starts rides, but the order holds no ride id"
    RIDE_OF_ANOTHER_PERFORMER = "the order's ride was started for another driver or car (§3a)"
    RIDE_LEDGER_UNAVAILABLE = "whom the order's ride was started for cannot be read (§3a)"
    VENDOR_TIMEOUT = "a vendor call timed out"
    VENDOR_ERROR = "the vendor answered an error status or a malformed body, or was unreachable"
    VENDOR_CRASHED = "the vendor plugin raised"
    METER_RIDE_NOT_COMPLETED = "the meter ride is not COMPLETED after the stop"
    COMPLETED_WITHOUT_PRICE = "the meter ride is COMPLETED but has no price"
    PRICE_OUTSIDE_BAND = "the meter price is outside the country's plausibility band"
    DRY_RUN = "dry run: the vendor was asked, the app keeps its own price"
    DEADLINE_PASSED = "the whole request passed server.finish_ride_deadline_ms"


class FinishRefusal(StrEnum):
    """A finish-ride refusal code, as the driver app receives it."""

    ORDER_NOT_FOUND = "order_not_found"
    ORDER_CORE_ERROR = "order_core_error"
    NOT_ENABLED = "not_enabled"
    PRICES_DIFFER = "prices_differ"
    FIXED_PRICE_MISMATCH = "fixed_price_mismatch"
    METER_RIDE_NOT_FOUND = "meter_ride_not_found"
    RIDE_LEDGER_UNAVAILABLE = "ride_ledger_unavailable"
    VENDOR_ERROR = "vendor_error"
    METER_RIDE_NOT_COMPLETED = "meter_ride_not_completed"
    METER_PRICE_REJECTED = "meter_price_rejected"
    DRY_RUN = "dry_run"
    UPSTREAM_TIMEOUT = "upstream_timeout"


FINISH_RIDE_POLICY: dict[FinishSituation, FinishRefusal] = {
    FinishSituation.ORDER_NOT_FOUND: FinishRefusal.ORDER_NOT_FOUND,
    FinishSituation.ORDER_CORE_TIMEOUT: FinishRefusal.UPSTREAM_TIMEOUT,
    FinishSituation.ORDER_CORE_ERROR: FinishRefusal.ORDER_CORE_ERROR,
    FinishSituation.NOT_ELIGIBLE: FinishRefusal.NOT_ENABLED,
    FinishSituation.PRICES_DIFFER: FinishRefusal.PRICES_DIFFER,
    FinishSituation.FIXED_PRICE_MISMATCH: FinishRefusal.FIXED_PRICE_MISMATCH,
    FinishSituation.NO_METER_RIDE: FinishRefusal.METER_RIDE_NOT_FOUND,
    # Answered as a missing ride: stopping it would answer the first driver's meter.
    FinishSituation.RIDE_OF_ANOTHER_PERFORMER: FinishRefusal.METER_RIDE_NOT_FOUND,
    # Not stopped while whom it belongs to is unknown; a retry may find the broker's Redis.
    FinishSituation.RIDE_LEDGER_UNAVAILABLE: FinishRefusal.RIDE_LEDGER_UNAVAILABLE,
    FinishSituation.VENDOR_TIMEOUT: FinishRefusal.UPSTREAM_TIMEOUT,
    FinishSituation.VENDOR_ERROR: FinishRefusal.VENDOR_ERROR,
    FinishSituation.VENDOR_CRASHED: FinishRefusal.VENDOR_ERROR,  # a plugin's bug is its failure
    FinishSituation.METER_RIDE_NOT_COMPLETED: FinishRefusal.METER_RIDE_NOT_COMPLETED,
    FinishSituation.COMPLETED_WITHOUT_PRICE: FinishRefusal.VENDOR_ERROR,
    FinishSituation.PRICE_OUTSIDE_BAND: FinishRefusal.METER_PRICE_REJECTED,
    FinishSituation.DRY_RUN: FinishRefusal.DRY_RUN,
    FinishSituation.DEADLINE_PASSED: FinishRefusal.UPSTREAM_TIMEOUT,
}
