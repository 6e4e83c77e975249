"""Monitex with a plugin bug: one crashes in start_ride, one in stop_ride, one in get_price."""

from collections.abc import Callable

from gateway.plugins import MeterReading, MeterRideFinish, MeterRideStart, MeterVendor, hookimpl
from vendors.monitex.vendor import MonitexVendor


class StartCrashingMonitex(MonitexVendor):
    name = "start_crashing_monitex"

    async def start_ride(self, ride: MeterRideStart) -> str:
        raise RuntimeError(f"start crashed for {ride.driver_national_id.reveal()}")


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
    register(StartCrashingMonitex)
    register(StopCrashingMonitex)
    register(PriceCrashingMonitex)
