"""Every suite of the kit in one class: what a vendor package subclasses."""

from gateway.testing.suites.isolation import IsolationSuite
from gateway.testing.suites.rides import RideSuite
from gateway.testing.suites.settings_checks import SettingsSuite
from gateway.testing.suites.transport_faults import TransportFaultSuite


class VendorConformance(IsolationSuite, SettingsSuite, RideSuite, TransportFaultSuite):
    """Registration, settings, rides, transport faults and isolation, for one vendor."""
