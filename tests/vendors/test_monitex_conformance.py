"""Monitex passes the vendor conformance kit, as a third-party vendor package would run it."""

from typing import Any

from gateway.plugins.simulator import Simulator
from gateway.testing import InvalidSetting, TransportFaultSuite, VendorConformance
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


class TestPendingMonitexConformance(TransportFaultSuite):
    """Monitex's start answered 206 and polled until running: every fault on the poll too, a
    429 included, which must not read as a start that made no ride."""

    vendor_class = MonitexVendor

    def make_simulator(self, token: str) -> Simulator:
        return MonitexSimulator(token, start_pending_polls=1)

    def vendor_settings(self, url: str, token: str) -> dict[str, Any]:
        return {"url": url, "token": token, "pending_polls": 2, "pending_poll_interval_ms": 10}
