"""OptumPlus (docs/design.md §7): no meter ride to start; at the finish our price is submitted."""

from typing import ClassVar

from gateway.plugins import (
    Capability,
    MeterReading,
    MeterRideFinish,
    MeterRideState,
    MeterVendor,
    VendorRequestIncomplete,
    to_minor_units,
)


class OptumPlusVendor(MeterVendor):
    name = "optumplus"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.STOP_RIDE, Capability.GET_PRICE}
    )

    async def stop_ride(self, ride: MeterRideFinish) -> MeterReading:
        if not ride.car_number:
            raise VendorRequestIncomplete("the order has no car number to submit the price for")
        price = float(to_minor_units(ride.price, ride.currency))
        response = await self.api.request(
            "submit_price",
            "POST",
            "/submit_price",
            json_body={"car_number": ride.car_number, "price": price},
        )
        response.expect(200)
        # The meter takes the price we submitted as final: the stop is the reading.
        return self._submitted(ride)

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        # Nothing to ask the meter: the price submitted is final.
        return self._submitted(ride)

    @staticmethod
    def _submitted(ride: MeterRideFinish) -> MeterReading:
        return MeterReading(state=MeterRideState.COMPLETED, price=ride.price)
