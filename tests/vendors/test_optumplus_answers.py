"""OptumPlus's client (docs/design.md §7) where the gateway never takes it: a price read
without a stop, and a stop the order cannot make."""

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from gateway.plugins import (
    MeterReading,
    MeterRideFinish,
    MeterRideState,
    PaymentMethod,
    VendorRequestIncomplete,
    VendorSettings,
)
from vendors.optumplus.vendor import OptumPlusVendor


def finish(car_number: str) -> MeterRideFinish:
    return MeterRideFinish(
        order_id="alias-lv-1",
        ride_id=None,
        car_number=car_number,
        country="LV",
        currency="EUR",
        price=Decimal("42.24"),
        payment_method=PaymentMethod.APP,
    )


@pytest.fixture
async def vendor() -> AsyncIterator[OptumPlusVendor]:
    # Nothing here reaches the network: the URL names a port nobody listens on.
    settings = VendorSettings(url="http://127.0.0.1:9", token="optumplus-secret-token-9c1e")
    async with aiohttp.ClientSession() as http:
        yield OptumPlusVendor(settings, http)


async def test_the_price_read_is_the_price_submitted(vendor: OptumPlusVendor) -> None:
    assert await vendor.get_price(finish("LV-1234")) == MeterReading(
        state=MeterRideState.COMPLETED, price=Decimal("42.24")
    )


async def test_an_order_without_a_car_number_cannot_be_submitted(
    vendor: OptumPlusVendor,
) -> None:
    with pytest.raises(
        VendorRequestIncomplete, match=r"^the order has no car number to submit the price for$"
    ):
        await vendor.stop_ride(finish(""))
