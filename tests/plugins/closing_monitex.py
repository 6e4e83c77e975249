"""Monitex variants without a cancel that end an orphaned ride by closing it (docs/design.md
§7a ``close_ends_orphan``): one whose start is not idempotent, one whose start is."""

from collections.abc import Callable
from typing import ClassVar

from gateway.plugins import Capability, MeterRideFinish, MeterRideStart, MeterVendor, hookimpl
from vendors.monitex.vendor import MonitexVendor

PLUGIN_API_MAJOR = 1


class ClosingMonitex(MonitexVendor):
    name = "closing_monitex"
    capabilities: ClassVar[frozenset[Capability]] = (
        MonitexVendor.capabilities - {Capability.IDEMPOTENT_START}
    ) | {Capability.CLOSE_ENDS_ORPHAN}
    started: ClassVar[list[MeterRideStart]] = []
    closed: ClassVar[list[MeterRideFinish]] = []
    """What each start and stop was handed, for a test to compare whole."""

    async def start_ride(self, ride: MeterRideStart) -> str:
        self.started.append(ride)
        return await super().start_ride(ride)

    async def stop_ride(self, ride: MeterRideFinish) -> None:
        self.closed.append(ride)
        await super().stop_ride(ride)


class IdempotentClosingMonitex(MonitexVendor):
    name = "idempotent_closing_monitex"
    capabilities: ClassVar[frozenset[Capability]] = MonitexVendor.capabilities | {
        Capability.CLOSE_ENDS_ORPHAN,
        Capability.IDEMPOTENT_START,
    }


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(ClosingMonitex)
    register(IdempotentClosingMonitex)
