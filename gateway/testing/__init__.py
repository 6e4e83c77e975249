"""The conformance kit for meter vendor plugins: abstract pytest suites a vendor package subclasses.

A vendor package writes one test class::

    from gateway.testing import VendorConformance

    class TestAcmeConformance(VendorConformance):
        vendor_class = AcmeVendor
        simulator_factory = AcmeSimulator

        def vendor_settings(self, url: str, token: str) -> dict[str, Any]:
            return {"url": url, "token": token}

and pytest runs every check of the kit against it (docs/vendor-guide.md explains each one).
"""

import pytest

# The suites' asserts are the kit's whole message to an integrator, so pytest must rewrite them
# into explaining ones; that only works if it is told before they are imported.
pytest.register_assert_rewrite("gateway.testing.suites")

from gateway.testing.suites.conformance import VendorConformance  # noqa: E402
from gateway.testing.suites.isolation import IsolationSuite  # noqa: E402
from gateway.testing.suites.registration import RegistrationSuite  # noqa: E402
from gateway.testing.suites.rides import RideSuite  # noqa: E402
from gateway.testing.suites.settings_checks import REMOVED, InvalidSetting, SettingsSuite  # noqa: E402
from gateway.testing.suites.subject import VendorUnderTest  # noqa: E402
from gateway.testing.suites.transport_faults import TransportFaultSuite  # noqa: E402

__all__ = [
    "REMOVED",
    "InvalidSetting",
    "IsolationSuite",
    "RegistrationSuite",
    "RideSuite",
    "SettingsSuite",
    "TransportFaultSuite",
    "VendorConformance",
    "VendorUnderTest",
]
