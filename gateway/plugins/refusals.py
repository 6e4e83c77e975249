"""A vendor's business refusal, as the code label bounded to what the vendor declared."""

from gateway.plugins.meter_vendor import MeterVendor
from gateway.plugins.vendor_errors import VendorRefused

UNDECLARED_CODE = "other"


def refusal_code(vendor: MeterVendor, refusal: VendorRefused) -> str:
    """The refusal's code as labelled: declared in ``refusal_codes``, else ``other`` (a vendor's
    free text must not grow the metric's label set)."""
    return refusal.code if refusal.code in vendor.refusal_codes else UNDECLARED_CODE
