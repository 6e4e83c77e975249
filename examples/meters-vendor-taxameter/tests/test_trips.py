"""What the kit cannot know about Taxameter: its wire format, fares, trip reuse and refusals."""

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
import pytest_asyncio
from gateway.plugins import (
    MeterReading,
    MeterRideFinish,
    MeterRideStart,
    MeterRideState,
    NationalIdNumber,
    PaymentMethod,
    VendorError,
    VendorRefused,
    run_simulator,
)

from meters_vendor_taxameter.settings import TaxameterSettings
from meters_vendor_taxameter.simulator import TaxameterSimulator
from meters_vendor_taxameter.vendor import TaxameterVendor

API_KEY = "taxameter-test-key"
START = MeterRideStart(
    order_id="order-de-1",
    driver_national_id=NationalIdNumber("T22000129"),
    vehicle_permit="B-KONZ-7",
    car_number="B-TX-100",
    country="DE",
    currency="EUR",
    price_limit=Decimal("42.24"),
)


def finish(trip_id: str, payment: PaymentMethod = PaymentMethod.CASH) -> MeterRideFinish:
    return MeterRideFinish(
        order_id="order-de-1",
        ride_id=trip_id,
        car_number="B-TX-100",
        country="DE",
        currency="EUR",
        price=Decimal("42.24"),
        payment_method=payment,
    )


@pytest_asyncio.fixture
async def simulator() -> AsyncIterator[tuple[TaxameterSimulator, TaxameterVendor]]:
    sim = TaxameterSimulator(API_KEY)
    async with run_simulator(sim) as url, aiohttp.ClientSession() as http:
        settings = TaxameterSettings.model_validate(
            {"url": url, "token": API_KEY, "fleet_id": "berlin-north"}
        )
        yield sim, TaxameterVendor(settings, http)


@pytest.mark.asyncio
async def test_start_sends_the_trip_with_the_fare_cap_in_euros_and_the_api_key(
    simulator: tuple[TaxameterSimulator, TaxameterVendor],
) -> None:
    sim, vendor = simulator

    trip_id = await vendor.start_ride(START)

    [call] = sim.calls.all()
    assert call.path == "/fleets/berlin-north/trips"
    assert call.headers["x-taxameter-key"] == API_KEY
    assert "authorization" not in call.headers
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
async def test_a_busy_driver_is_a_business_refusal(
    simulator: tuple[TaxameterSimulator, TaxameterVendor],
) -> None:
    _, vendor = simulator
    await vendor.start_ride(START)
    another_order = MeterRideStart(
        order_id="order-de-2",
        driver_national_id=START.driver_national_id,
        vehicle_permit=START.vehicle_permit,
        car_number=START.car_number,
        country="DE",
        currency="EUR",
        price_limit=START.price_limit,
    )

    with pytest.raises(VendorRefused) as refused:
        await vendor.start_ride(another_order)

    assert refused.value.code == "driver_busy"
    assert refused.value.code in TaxameterVendor.refusal_codes


@pytest.mark.asyncio
async def test_closing_answers_the_meter_fare_as_the_final_price(
    simulator: tuple[TaxameterSimulator, TaxameterVendor],
) -> None:
    sim, vendor = simulator
    trip_id = await vendor.start_ride(START)
    sim.set_fare("B-KONZ-7", Decimal("40.04"))

    reading = await vendor.stop_ride(finish(trip_id, PaymentMethod.APP))

    assert reading == MeterReading(MeterRideState.COMPLETED, Decimal("40.04"))
    assert sim.calls.to("POST /fleets/{fleet}/trips/{trip}/close")[0].body == {"payment": "app"}
    assert await vendor.get_price(finish(trip_id)) == reading


@pytest.mark.asyncio
async def test_a_cancelled_trip_has_no_price(
    simulator: tuple[TaxameterSimulator, TaxameterVendor],
) -> None:
    _, vendor = simulator
    trip_id = await vendor.start_ride(START)
    await vendor.cancel_ride(trip_id)

    with pytest.raises(VendorError, match="cancelled"):
        await vendor.get_price(finish(trip_id))
