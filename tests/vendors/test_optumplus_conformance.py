"""OptumPlus passes the kit; what it cannot do (start rides) is declared, so skipped, not failed."""

from gateway.plugins.simulator import Simulator
from gateway.testing import VendorConformance
from vendors.optumplus.simulator import OptumPlusSimulator
from vendors.optumplus.vendor import OptumPlusVendor


class TestOptumPlusConformance(VendorConformance):
    vendor_class = OptumPlusVendor

    def make_simulator(self, token: str) -> Simulator:
        return OptumPlusSimulator(token)
