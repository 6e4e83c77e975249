"""OptumPlus with a bug: its price reading is not a MeterReading."""

from collections.abc import Callable
from typing import Any

from gateway.plugins.hookspecs import hookimpl
from gateway.plugins.meter_vendor import MeterRideFinish, MeterVendor
from vendors.optumplus.vendor import OptumPlusVendor


class WrongReadingOptumPlus(OptumPlusVendor):
    name = "wrong_reading_optumplus"

    async def get_price(self, ride: MeterRideFinish) -> Any:
        return {"price": ride.price}


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(WrongReadingOptumPlus)
