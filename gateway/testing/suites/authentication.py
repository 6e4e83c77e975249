"""First of all: the vendor authenticates the way its simulator expects, and a wrong credential
is refused as a typed error. Every other check fails confusingly when this one does."""

import pytest

from gateway.plugins.meter_vendor import Capability, MeterVendor
from gateway.plugins.vendor_errors import VendorError
from gateway.testing.suites.subject import (
    ServedSimulator,
    VendorUnderTest,
    WatchedSession,
)

WRONG_TOKEN = "not-the-kit-token"
UNAUTHORIZED = (401, 403)


class AuthenticationSuite(VendorUnderTest):
    async def _first_call(self, vendor: MeterVendor) -> None:
        """The vendor's first call of a finish or a start: the one that meets the auth first."""
        if vendor.can(Capability.START_RIDE):
            await vendor.start_ride(self.ride_start())
        else:
            await vendor.stop_ride(self.ride_finish(None))

    @pytest.mark.asyncio
    async def test_auth_smoke_the_simulators_credentials_are_accepted(
        self, kit_vendor: MeterVendor, kit_simulator: ServedSimulator
    ) -> None:
        await self.succeeds(self._first_call(kit_vendor), "the first call")

        refused = [c for c in kit_simulator.simulator.calls.all() if c.status in UNAUTHORIZED]
        assert not refused, (
            f"the simulator refused {[c.endpoint for c in refused]}: authentication() and the "
            "simulator's guards() must match (the same scheme, header and credential)"
        )

    @pytest.mark.asyncio
    async def test_auth_smoke_a_wrong_credential_is_a_typed_error(
        self, kit_simulator: ServedSimulator, kit_http: WatchedSession
    ) -> None:
        vendor = self.make_vendor(kit_simulator.url, kit_http.session, token=WRONG_TOKEN)

        with pytest.raises(VendorError) as raised:
            await self._first_call(vendor)

        statuses = {call.status for call in kit_simulator.simulator.calls.all()}
        assert statuses & set(UNAUTHORIZED), (
            f"the simulator answered {sorted(s for s in statuses if s)} to a wrong credential: "
            "its guards() must refuse it with 401 or 403"
        )
        leaked = self.secrets_in(f"{raised.value} {raised.value!r}")
        assert not leaked, f"the error of a refused credential gives away {leaked}"
