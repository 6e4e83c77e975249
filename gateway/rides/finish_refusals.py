"""The refusal table: each refusal's code and HTTP status, in one place.

Finish-ride's own refusals (docs/design.md §4), and the HTTP surface's answers to hostile or
broken input and to its own faults, on every route (§6). Any non-200 answer of finish-ride
makes the driver app fall back to manual price entry.
"""

from enum import StrEnum


class Refusal(StrEnum):
    INVALID_REQUEST = "invalid_request"
    UNAUTHORIZED = "unauthorized"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_CORE_ERROR = "order_core_error"
    NOT_ENABLED = "not_enabled"
    PRICES_DIFFER = "prices_differ"
    FIXED_PRICE_MISMATCH = "fixed_price_mismatch"
    METER_RIDE_NOT_FOUND = "meter_ride_not_found"
    VENDOR_ERROR = "vendor_error"
    METER_RIDE_NOT_COMPLETED = "meter_ride_not_completed"
    METER_PRICE_REJECTED = "meter_price_rejected"
    DRY_RUN = "dry_run"
    UPSTREAM_TIMEOUT = "upstream_timeout"
    RIDE_LEDGER_UNAVAILABLE = "ride_ledger_unavailable"
    # The HTTP surface's own (§6), in the order they are checked: size, media type, then the
    # body as HTTP (its chunking, its encoding, its arrival).
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    BAD_REQUEST = "bad_request"
    REQUEST_TIMEOUT = "request_timeout"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INTERNAL_ERROR = "internal_error"
    BROKER_UNAVAILABLE = "broker_unavailable"


REFUSAL_STATUS: dict[Refusal, int] = {
    Refusal.INVALID_REQUEST: 400,
    Refusal.UNAUTHORIZED: 401,
    Refusal.ORDER_NOT_FOUND: 404,
    Refusal.ORDER_CORE_ERROR: 502,
    Refusal.NOT_ENABLED: 409,
    Refusal.PRICES_DIFFER: 400,
    Refusal.FIXED_PRICE_MISMATCH: 400,
    Refusal.METER_RIDE_NOT_FOUND: 409,
    Refusal.VENDOR_ERROR: 502,
    Refusal.METER_RIDE_NOT_COMPLETED: 409,
    Refusal.METER_PRICE_REJECTED: 409,
    Refusal.DRY_RUN: 409,
    Refusal.UPSTREAM_TIMEOUT: 504,
    # Whom the meter ride was started for cannot be read (the broker's Redis): not stopped.
    Refusal.RIDE_LEDGER_UNAVAILABLE: 503,
    Refusal.PAYLOAD_TOO_LARGE: 413,
    Refusal.UNSUPPORTED_MEDIA_TYPE: 415,
    Refusal.BAD_REQUEST: 400,
    Refusal.REQUEST_TIMEOUT: 408,
    Refusal.NOT_FOUND: 404,
    Refusal.METHOD_NOT_ALLOWED: 405,
    Refusal.INTERNAL_ERROR: 500,  # the gateway's own fault
    Refusal.BROKER_UNAVAILABLE: 503,  # start-ride: the task could not be enqueued for sure
}


class FinishRideRefused(Exception):
    """A refusal of the table, with the message the caller gets."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message
