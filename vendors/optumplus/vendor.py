"""OptumPlus (DESIGN §7): no meter ride to start; at the finish our price is submitted."""

from typing import ClassVar

from gateway.money import to_minor_units
from gateway.plugins.meter_vendor import (
    Capability,
    MeterReading,
    MeterRideFinish,
    MeterRideState,
    MeterVendor,
)
from gateway.plugins.vendor_errors import VendorErrorStatus, VendorRequestIncomplete
from gateway.plugins.vendor_http import call_vendor


class OptumPlusVendor(MeterVendor):
    name = "optumplus"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.STOP_RIDE, Capability.GET_PRICE}
    )

    async def stop_ride(self, ride: MeterRideFinish) -> None:
        if not ride.car_number:
            raise VendorRequestIncomplete("the order has no car number to submit the price for")
        response = await call_vendor(
            self.http,
            vendor=self.name,
            operation="submit_price",
            method="POST",
            url=self.settings.url.rstrip("/") + "/submit_price",
            token=self.settings.token,
            timeout_ms=self.settings.timeout_ms,
            json_body={"car_number": ride.car_number, "price": float(to_minor_units(ride.price))},
        )
        if response.status != 200:
            raise VendorErrorStatus(response.status)

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        # The meter takes the price we submitted as final, so there is nothing to ask it.
        return MeterReading(state=MeterRideState.COMPLETED, price=ride.price)
