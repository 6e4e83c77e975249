"""What the kit cannot know about Taxameter: its wire format, fares and trip reuse."""

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
import pytest_asyncio
from gateway.plugins.meter_vendor import (
    MeterRideFinish,
    MeterRideStart,
    MeterRideState,
    NationalIdNumber,
    PaymentMethod,
)
from gateway.plugins.vendor_errors import VendorError
from gateway.sandbox.simulator import run_simulator

from meters_vendor_taxameter.settings import TaxameterSettings
from meters_vendor_taxameter.simulator import TaxameterSimulator
from meters_vendor_taxameter.vendor import TaxameterVendor

TOKEN = "taxameter-test-token"
START = MeterRideStart(
    order_id="order-de-1",
    driver_national_id=NationalIdNumber("T22000129"),
    vehicle_permit="B-KONZ-7",
    price_limit=Decimal("42.24"),
)


def finish(trip_id: str, payment: PaymentMethod = PaymentMethod.CASH) -> MeterRideFinish:
    return MeterRideFinish("order-de-1", trip_id, "B-TX-100", Decimal("42.24"), payment)


@pytest_asyncio.fixture
async def simulator() -> AsyncIterator[tuple[TaxameterSimulator, TaxameterVendor]]:
    sim = TaxameterSimulator(TOKEN)
    async with run_simulator(sim) as url, aiohttp.ClientSession() as http:
        settings = TaxameterSettings(url=url, token=TOKEN, fleet_id="berlin-north")
        yield sim, TaxameterVendor(settings, http)


@pytest.mark.asyncio
async def test_start_sends_the_trip_with_the_fare_cap_in_euros(
    simulator: tuple[TaxameterSimulator, TaxameterVendor],
) -> None:
    sim, vendor = simulator

    trip_id = await vendor.start_ride(START)

    [call] = sim.calls.all()
    assert call.path == "/fleets/berlin-north/trips"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.body == {
        "reference": "order-de-1",
        "driverIdNumber": "T22000129",
        "concession": "B-KONZ-7",
        "fareCap": "42.24",
    }
    assert sim.trips[trip_id].status == "RUNNING"


@pytest.mark.asyncio
async def test_a_redelivered_start_gets_the_same_trip(
    simulator: tuple[TaxameterSimulator, TaxameterVendor],
) -> None:
    sim, vendor = simulator

    assert await vendor.start_ride(START) == await vendor.start_ride(START)
    assert len(sim.trips) == 1


@pytest.mark.asyncio
async def test_the_meter_fare_is_the_final_price(
    simulator: tuple[TaxameterSimulator, TaxameterVendor],
) -> None:
    sim, vendor = simulator
    trip_id = await vendor.start_ride(START)
    sim._fares["B-KONZ-7"] = Decimal("40.04")

    await vendor.stop_ride(finish(trip_id, PaymentMethod.APP))
    reading = await vendor.get_price(finish(trip_id))

    assert (reading.state, reading.price) == (MeterRideState.COMPLETED, Decimal("40.04"))
    assert sim.calls.to("POST /fleets/{fleet}/trips/{trip}/close")[0].body == {"payment": "app"}


@pytest.mark.asyncio
async def test_a_cancelled_trip_has_no_price(
    simulator: tuple[TaxameterSimulator, TaxameterVendor],
) -> None:
    _, vendor = simulator
    trip_id = await vendor.start_ride(START)
    await vendor.cancel_ride(trip_id)

    with pytest.raises(VendorError, match="cancelled"):
        await vendor.get_price(finish(trip_id))
