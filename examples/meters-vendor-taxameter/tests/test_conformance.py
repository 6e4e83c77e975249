"""Taxameter against the gateway's conformance kit: every check a vendor plugin must pass."""

from typing import Any

from gateway.plugins import Simulator
from gateway.testing import REMOVED, InvalidSetting, VendorConformance

from meters_vendor_taxameter.simulator import TaxameterSimulator
from meters_vendor_taxameter.vendor import TaxameterVendor


class TestTaxameterConformance(VendorConformance):
    vendor_class = TaxameterVendor
    extra_invalid_settings = (
        InvalidSetting("fleet_id", REMOVED),
        InvalidSetting("fleet_id", "berlin/../north"),
    )

    def make_simulator(self, token: str) -> Simulator:
        return TaxameterSimulator(token)

    def vendor_settings(self, url: str, token: str) -> dict[str, Any]:
        return {"url": url, "token": token, "fleet_id": "berlin-north"}
