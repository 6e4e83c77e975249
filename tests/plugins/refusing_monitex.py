"""Monitex as it would be if it refused starts for a business reason (the driver is busy)."""

from collections.abc import Callable

from gateway.plugins.hookspecs import hookimpl
from gateway.plugins.meter_vendor import MeterRideStart, MeterVendor
from gateway.plugins.vendor_errors import VendorError
from vendors.monitex.vendor import MonitexVendor


class DriverBusy(VendorError):
    """A business refusal: the ``vendor_refused`` reason of docs/design.md §7a."""

    reason = "vendor_refused"
    code = "driver_busy"


class RefusingMonitex(MonitexVendor):
    name = "refusing_monitex"

    async def start_ride(self, ride: MeterRideStart) -> str:
        raise DriverBusy("the driver has another ride")


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(RefusingMonitex)
