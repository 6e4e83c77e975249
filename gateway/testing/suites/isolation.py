"""Registering and constructing the vendor does no I/O; what it cannot do, it refuses at once."""

import asyncio
import socket
from typing import NoReturn

import pytest

from gateway.bootstrap.registry import catalog_from_entry_points
from gateway.plugins.meter_vendor import OPERATIONS, MeterVendor
from gateway.plugins.vendor_errors import VendorCapabilityMissing
from gateway.testing.suites.registration import RegistrationSuite
from gateway.testing.suites.subject import ServedSimulator, WatchedSession


def _refuse_io(*_: object, **__: object) -> NoReturn:
    raise AssertionError("the plugin reached for the network while registering")


class IsolationSuite(RegistrationSuite):
    def test_registration_does_no_io(self, monkeypatch: pytest.MonkeyPatch) -> None:
        entry_point = self.entry_point()
        for name in ("connect", "connect_ex"):
            monkeypatch.setattr(socket.socket, name, _refuse_io)
        monkeypatch.setattr(socket, "getaddrinfo", _refuse_io)

        catalog = catalog_from_entry_points([entry_point])

        assert catalog.failures == []
        assert catalog.vendors == {self.vendor_name: self.vendor_class}

    @pytest.mark.asyncio
    async def test_construction_does_no_io(
        self, kit_simulator: ServedSimulator, kit_http: WatchedSession
    ) -> None:
        self.make_vendor(kit_simulator.url, kit_http.session)
        # Long enough for any task the constructor may have spawned to reach the network.
        await asyncio.sleep(0.05)

        assert kit_http.requests == []
        assert len(kit_simulator.simulator.calls) == 0

    @pytest.mark.asyncio
    async def test_undeclared_capabilities_are_refused_without_io(
        self, kit_vendor: MeterVendor, kit_http: WatchedSession
    ) -> None:
        ride = self.ride_finish("kit-ride-1")
        for capability in sorted(OPERATIONS - self.vendor_class.capabilities):
            try:
                await self.perform(capability, kit_vendor, ride)
            except VendorCapabilityMissing:
                continue
            pytest.fail(
                f"{capability} is not declared, yet it did not raise VendorCapabilityMissing"
            )

        assert kit_http.requests == []
