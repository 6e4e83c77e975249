"""Every code the gateway's HTTP answers carry, and its status, in one place.

Both endpoints and the worker host's probes answer from here: finish-ride's refusals
(docs/design.md §4, decided by the core's ``gateway.rides.finish_policy``), and the HTTP
surface's answers to hostile or broken input and to its own faults, on every route (§6).
Any non-200 answer of finish-ride makes the driver app fall back to manual price entry.
"""

from enum import StrEnum

from gateway.rides.finish_policy import FinishRefusal


class Refusal(StrEnum):
    # The HTTP surface checks these before finish-ride's flow runs (§4, §6).
    INVALID_REQUEST = "invalid_request"
    UNAUTHORIZED = "unauthorized"
    # Finish-ride's own: the core names them, so each is spelled once.
    ORDER_NOT_FOUND = FinishRefusal.ORDER_NOT_FOUND.value
    ORDER_CORE_ERROR = FinishRefusal.ORDER_CORE_ERROR.value
    NOT_ENABLED = FinishRefusal.NOT_ENABLED.value
    PRICES_DIFFER = FinishRefusal.PRICES_DIFFER.value
    FIXED_PRICE_MISMATCH = FinishRefusal.FIXED_PRICE_MISMATCH.value
    METER_RIDE_NOT_FOUND = FinishRefusal.METER_RIDE_NOT_FOUND.value
    VENDOR_ERROR = FinishRefusal.VENDOR_ERROR.value
    METER_RIDE_NOT_COMPLETED = FinishRefusal.METER_RIDE_NOT_COMPLETED.value
    METER_PRICE_REJECTED = FinishRefusal.METER_PRICE_REJECTED.value
    DRY_RUN = FinishRefusal.DRY_RUN.value
    UPSTREAM_TIMEOUT = FinishRefusal.UPSTREAM_TIMEOUT.value
    RIDE_LEDGER_UNAVAILABLE = FinishRefusal.RIDE_LEDGER_UNAVAILABLE.value
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

    @classmethod
    def of_finish(cls, refusal: FinishRefusal) -> "Refusal":
        """The catalog's entry of a refusal the finish-ride core decided."""
        return cls(refusal.value)


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
