"""Whole rides against the vendor's simulator: start, stop, price, and a stop repeated."""

import pytest

from gateway.money import CENT
from gateway.plugins.meter_vendor import Capability, MeterRideState, MeterVendor
from gateway.testing.suites.subject import ServedSimulator, VendorUnderTest


class RideSuite(VendorUnderTest):
    @pytest.mark.asyncio
    async def test_start_answers_a_ride_id(
        self, kit_vendor: MeterVendor, kit_simulator: ServedSimulator
    ) -> None:
        self.require(Capability.START_RIDE)

        ride_id = await kit_vendor.start_ride(self.ride_start())

        assert isinstance(ride_id, str)
        assert ride_id, "the ride id is stored on the order"
        assert len(kit_simulator.simulator.calls) > 0, "the start reached the vendor's API"

    @pytest.mark.asyncio
    async def test_started_ride_is_not_completed_before_its_stop(
        self, kit_vendor: MeterVendor
    ) -> None:
        self.require(Capability.START_RIDE)
        ride = await self.started_ride(kit_vendor)

        reading = await kit_vendor.get_price(ride)

        assert reading.state is not MeterRideState.COMPLETED

    @pytest.mark.asyncio
    async def test_stopped_ride_is_completed_at_its_price(self, kit_vendor: MeterVendor) -> None:
        ride = await self.started_ride(kit_vendor)

        await kit_vendor.stop_ride(ride)
        reading = await kit_vendor.get_price(ride)

        assert reading.state is MeterRideState.COMPLETED
        assert reading.price == self.expected_price(ride)
        assert reading.price.quantize(CENT) == reading.price, "prices are in cents at most"

    @pytest.mark.asyncio
    async def test_stopping_twice_keeps_the_final_price(self, kit_vendor: MeterVendor) -> None:
        # The driver app may send finish-ride again after a lost answer: the stop is repeated.
        ride = await self.started_ride(kit_vendor)
        await kit_vendor.stop_ride(ride)
        first = await kit_vendor.get_price(ride)

        await kit_vendor.stop_ride(ride)
        again = await kit_vendor.get_price(ride)

        assert again == first

    @pytest.mark.asyncio
    async def test_started_ride_can_be_cancelled(self, kit_vendor: MeterVendor) -> None:
        self.require(Capability.CANCEL_RIDE)
        ride = await self.started_ride(kit_vendor)

        await self.perform(Capability.CANCEL_RIDE, kit_vendor, ride)
