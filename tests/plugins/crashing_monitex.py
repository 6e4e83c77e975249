"""Monitex with a plugin bug at finish: one crashes in stop_ride, the other in get_price."""

from collections.abc import Callable

from gateway.plugins import MeterReading, MeterRideFinish, MeterVendor, hookimpl
from vendors.monitex.vendor import MonitexVendor


class StopCrashingMonitex(MonitexVendor):
    name = "stop_crashing_monitex"

    async def stop_ride(self, ride: MeterRideFinish) -> None:
        raise RuntimeError(f"stop crashed on {ride.ride_id}")


class PriceCrashingMonitex(MonitexVendor):
    name = "price_crashing_monitex"

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        raise KeyError("totalPrice")


PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(StopCrashingMonitex)
    register(PriceCrashingMonitex)
