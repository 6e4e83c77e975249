"""Monitex as a vendor that refuses starts for business reasons would be: it says no with the
code the test sets, before calling anything."""

from collections.abc import Callable
from typing import ClassVar

from gateway.plugins import MeterRideStart, MeterVendor, VendorRefused, hookimpl
from vendors.monitex.vendor import MonitexVendor

PLUGIN_API_MAJOR = 1


class RefusingMonitex(MonitexVendor):
    name = "refusing_monitex"
    refusal_codes: ClassVar[frozenset[str]] = frozenset({"driver_busy", "vehicle_blocked"})
    refuse_with: ClassVar[str] = "driver_busy"

    async def start_ride(self, ride: MeterRideStart) -> str:
        raise VendorRefused(self.refuse_with, "the vendor said no")


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(RefusingMonitex)
