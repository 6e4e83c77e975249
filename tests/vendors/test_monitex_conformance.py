"""Monitex passes the vendor conformance kit, as a third-party vendor package would run it."""

from typing import Any

from gateway.plugins.simulator import Simulator
from gateway.testing import InvalidSetting, VendorConformance
from vendors.monitex.simulator import MonitexSimulator
from vendors.monitex.vendor import MonitexVendor


class TestMonitexConformance(VendorConformance):
    vendor_class = MonitexVendor
    extra_invalid_settings = (
        InvalidSetting("pending_polls", -1),
        InvalidSetting("pending_poll_interval_ms", "fast"),
    )

    def make_simulator(self, token: str) -> Simulator:
        return MonitexSimulator(token)

    def vendor_settings(self, url: str, token: str) -> dict[str, Any]:
        return {"url": url, "token": token, "pending_polls": 2, "pending_poll_interval_ms": 10}
