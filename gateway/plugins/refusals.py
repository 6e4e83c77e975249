"""Counting a vendor's business refusals by a code label bounded to what the vendor declared."""

from gateway.metrics import VENDOR_REFUSALS
from gateway.plugins.meter_vendor import MeterVendor
from gateway.plugins.vendor_errors import VendorRefused

UNDECLARED_CODE = "other"


def count_refusal(vendor: MeterVendor, refusal: VendorRefused) -> str:
    """Count the refusal; answer its code as labelled: declared in ``refusal_codes``, else
    ``other`` (a vendor's free text must not grow the metric's label set)."""
    code = refusal.code if refusal.code in vendor.refusal_codes else UNDECLARED_CODE
    VENDOR_REFUSALS.labels(vendor.name, code).inc()
    return code
