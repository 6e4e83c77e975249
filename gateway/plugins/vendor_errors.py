"""Typed failures a vendor raises. Vendors report what went wrong; the core decides what follows.

Messages never carry a driver's national id number or a token: they end up in
logs and, for finish-ride, in the driver app's error body.
"""

import re

from gateway.plugins.exchange import CallFailed

REFUSAL_CODE = re.compile(r"[a-z0-9_]{1,32}")
"""What a vendor's business refusal code looks like; a plugin declares its codes up front."""


class VendorError(CallFailed):
    """Base of every failure a vendor call may surface; ``reason`` is the metric/log label."""

    reason = "vendor_error"
    may_have_taken_effect = False
    """True when the vendor may have carried the request out though its answer never arrived
    whole (sent, then timed out, a 5xx, a cut-off or malformed answer); False when nothing can
    have been done (refused, never sent). A start that may have made a ride is asked again
    (docs/design.md §3a "A start whose answer was lost"); a subclass sets it for its case."""


class VendorTimeout(VendorError):
    reason = "vendor_timeout"
    # The budget covers connecting too, but a timeout cannot tell whether the request was sent.
    may_have_taken_effect = True


class VendorUnreachable(VendorError):
    """No answer: never connected (nothing was sent), or the connection failed after the
    request went out (``answer_lost``: a reset, a cut-off answer)."""

    reason = "vendor_unreachable"

    def __init__(self, message: str = "", *, answer_lost: bool = False) -> None:
        super().__init__(message)
        self.may_have_taken_effect = answer_lost


class VendorErrorStatus(VendorError):
    reason = "vendor_error_status"

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message or f"vendor answered HTTP {status}")
        self.status = status
        # A 4xx says the request was not carried out; a 5xx (or a proxy's 502 page) does not.
        self.may_have_taken_effect = status >= 500


class VendorRateLimited(VendorErrorStatus):
    """The API answered 429 Too Many Requests: nothing was done; ``retry_after_s`` is what its
    ``Retry-After`` asked to wait (None if it said nothing readable).

    Its reason, the call's outcome, is ``vendor_rate_limited``, apart from every other status's
    ``vendor_error_status``; a start it refuses has its own §3 row (the redelivery asks again
    where the vendor's start is idempotent, else the vendor-failure row)."""

    reason = "vendor_rate_limited"

    def __init__(self, retry_after_s: float | None = None, message: str = "") -> None:
        wait = "" if retry_after_s is None else f", retry after {retry_after_s:g} s"
        super().__init__(429, message or f"vendor answered HTTP 429 (rate limited{wait})")
        self.retry_after_s = retry_after_s


class VendorMalformedResponse(VendorError):
    reason = "vendor_malformed_response"
    may_have_taken_effect = True


class VendorMissingRideId(VendorError):
    reason = "vendor_no_ride_id"
    may_have_taken_effect = True


class VendorRideStillPending(VendorError):
    reason = "vendor_ride_pending"
    may_have_taken_effect = True


class VendorRequestIncomplete(VendorError):
    """The order lacks something this vendor's API needs; nothing was sent."""

    reason = "vendor_request_incomplete"


class VendorCapabilityMissing(VendorError):
    """The core asked for something the vendor declared it cannot do."""

    reason = "vendor_capability_missing"


class VendorRefused(VendorError):
    """The vendor understood the request and said no for a business reason (``driver_busy``).

    The start falls back with reason ``vendor_refused``; ``code`` reaches the log line and the
    ``vendor_code`` label of ``meters_vendor_refusals_total`` when the vendor class lists it in
    ``refusal_codes`` (anything else is counted as ``other``).
    """

    reason = "vendor_refused"

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or f"vendor refused: {code}")
        self.code = code
