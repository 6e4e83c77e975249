"""The conformance kit for meter vendor plugins: abstract pytest suites a vendor package subclasses.

A vendor package writes one test class::

    from gateway.testing import VendorConformance

    class TestAcmeConformance(VendorConformance):
        vendor_class = AcmeVendor

        def simulator_for(self, settings: VendorSettings) -> Simulator:
            return AcmeSimulator(settings)

        def vendor_settings(self, url: str, token: str) -> dict[str, Any]:
            return {"url": url, "token": token}

and pytest runs every check of the kit against it (docs/vendor-guide.md explains each one).

The kit is opt-in: install ``meters-integration-api[kit]`` and load its pytest plugin with
``-p gateway.testing.plugin`` (in ``addopts``) or ``pytest_plugins = ["gateway.testing.plugin"]``
in the top ``conftest.py``; installing the gateway alone never changes anyone's pytest run.
"""

from gateway.testing.suites.authentication import AuthenticationSuite
from gateway.testing.suites.conformance import VendorConformance
from gateway.testing.suites.isolation import IsolationSuite
from gateway.testing.suites.registration import RegistrationSuite
from gateway.testing.suites.rides import RideSuite
from gateway.testing.suites.settings_checks import REMOVED, InvalidSetting, SettingsSuite
from gateway.testing.suites.subject import VendorUnderTest
from gateway.testing.suites.transport_faults import TransportFaultSuite

__all__ = [
    "REMOVED",
    "AuthenticationSuite",
    "InvalidSetting",
    "IsolationSuite",
    "RegistrationSuite",
    "RideSuite",
    "SettingsSuite",
    "TransportFaultSuite",
    "VendorConformance",
    "VendorUnderTest",
]
