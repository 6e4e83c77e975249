"""Typed failures a vendor raises. Vendors report what went wrong; the core decides what follows.

Messages never carry a driver's national id number or a token: they end up in
logs and, for finish-ride, in the driver app's error body.
"""

import re

from gateway.http_exchange import CallFailed

REFUSAL_CODE = re.compile(r"[a-z0-9_]{1,32}")
"""What a vendor's business refusal code looks like; a plugin declares its codes up front."""


class VendorError(CallFailed):
    """Base of every failure a vendor call may surface; ``reason`` is the metric/log label."""

    reason = "vendor_error"


class VendorTimeout(VendorError):
    reason = "vendor_timeout"


class VendorUnreachable(VendorError):
    reason = "vendor_unreachable"


class VendorErrorStatus(VendorError):
    reason = "vendor_error_status"

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message or f"vendor answered HTTP {status}")
        self.status = status


class VendorMalformedResponse(VendorError):
    reason = "vendor_malformed_response"


class VendorMissingRideId(VendorError):
    reason = "vendor_no_ride_id"


class VendorRideStillPending(VendorError):
    reason = "vendor_ride_pending"


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
