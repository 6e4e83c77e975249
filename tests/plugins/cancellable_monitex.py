"""Monitex as it would be if it could cancel rides: the cancel is recorded, not sent anywhere."""

from collections.abc import Callable
from typing import ClassVar

from gateway.plugins import Capability, MeterVendor, hookimpl
from vendors.monitex.vendor import MonitexVendor


class CancellableMonitex(MonitexVendor):
    name = "cancellable_monitex"
    capabilities: ClassVar[frozenset[Capability]] = MonitexVendor.capabilities | {
        Capability.CANCEL_RIDE
    }
    cancelled: ClassVar[list[str]] = []

    async def cancel_ride(self, ride_id: str) -> None:
        self.cancelled.append(ride_id)


PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(CancellableMonitex)
