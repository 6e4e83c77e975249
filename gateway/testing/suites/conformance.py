"""Every suite of the kit in one class: what a vendor package subclasses."""

from gateway.testing.suites.authentication import AuthenticationSuite
from gateway.testing.suites.isolation import IsolationSuite
from gateway.testing.suites.rides import RideSuite
from gateway.testing.suites.settings_checks import SettingsSuite
from gateway.testing.suites.transport_faults import TransportFaultSuite


class VendorConformance(
    AuthenticationSuite, IsolationSuite, SettingsSuite, RideSuite, TransportFaultSuite
):
    """Authentication (first), registration, isolation, settings, rides and transport faults,
    for one vendor."""
