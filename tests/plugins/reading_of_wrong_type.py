"""OptumPlus with a bug: its price reading is not a MeterReading."""

from collections.abc import Callable
from typing import Any

from gateway.plugins import MeterRideFinish, MeterVendor, hookimpl
from vendors.optumplus.vendor import OptumPlusVendor


class WrongReadingOptumPlus(OptumPlusVendor):
    name = "wrong_reading_optumplus"

    async def stop_ride(self, ride: MeterRideFinish) -> Any:
        await super().stop_ride(ride)
        return {"price": ride.price}


PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(WrongReadingOptumPlus)
