"""Vendors that each break one rule of the kit, for test_kit_catches_bugs (not collected itself).

Each class runs only the suite whose rule its vendor breaks.
"""

import asyncio
import logging
from contextlib import suppress
from typing import Any, ClassVar

import aiohttp
from pydantic import ConfigDict

from gateway.plugins import (
    ApiKeyHeader,
    Capability,
    MeterReading,
    MeterRideFinish,
    MeterRideStart,
    Simulator,
    VendorAuth,
    VendorError,
    VendorErrorStatus,
    VendorMalformedResponse,
    VendorRefused,
    VendorSettings,
    to_minor_units,
)
from gateway.testing import (
    AuthenticationSuite,
    IsolationSuite,
    RideSuite,
    SettingsSuite,
    TransportFaultSuite,
)
from vendors.monitex.settings import MonitexSettings
from vendors.monitex.simulator import MonitexSimulator
from vendors.monitex.vendor import MonitexVendor
from vendors.optumplus.simulator import OptumPlusSimulator
from vendors.optumplus.vendor import OptumPlusVendor


class LeakyMonitex(MonitexVendor):
    """Lets an unreadable answer escape as a ValueError instead of a VendorError."""

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        try:
            return await super().get_price(ride)
        except VendorMalformedResponse as error:
            raise ValueError(str(error)) from None


class ChattyMonitex(MonitexVendor):
    """Warms its connection up as soon as it is built."""

    def __init__(self, settings: VendorSettings, http: aiohttp.ClientSession) -> None:
        super().__init__(settings, http)
        self._warm_up = asyncio.get_running_loop().create_task(self._ping())

    async def _ping(self) -> None:
        async with self.http.get(self.settings.url + "/rides/warm-up"):
            pass


class BoastfulOptumPlus(OptumPlusVendor):
    """Claims to start rides but never implemented it."""

    capabilities: ClassVar[frozenset[Capability]] = OptumPlusVendor.capabilities | {
        Capability.START_RIDE
    }


class KeyedMonitex(MonitexVendor):
    """Sends its token as an API key where Monitex's API wants a bearer token."""

    def authentication(self) -> VendorAuth:
        return ApiKeyHeader("X-Api-Key", self.settings.token)


class GrumpyMonitex(MonitexVendor):
    """Refuses every start as if the driver were busy."""

    refusal_codes: ClassVar[frozenset[str]] = frozenset({"driver_busy"})

    async def start_ride(self, ride: MeterRideStart) -> str:
        raise VendorRefused("driver_busy", "the driver has a ride in progress")


class RetryingMonitex(MonitexVendor):
    """Tries its start three times when the API fails it."""

    async def start_ride(self, ride: MeterRideStart) -> str:
        for _ in range(2):
            with suppress(VendorErrorStatus):
                return await super().start_ride(ride)
        return await super().start_ride(ride)


class FloatMonitex(MonitexVendor):
    """Answers the price as a float of the major unit."""

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        reading = await super().get_price(ride)
        price = None if reading.price is None else float(reading.price)
        return MeterReading(state=reading.state, price=price)  # type: ignore[arg-type]


class TellingMonitex(MonitexVendor):
    """Shows its token and the last driver it started in its repr."""

    last_driver = ""

    async def start_ride(self, ride: MeterRideStart) -> str:
        self.last_driver = ride.driver_national_id.reveal()
        return await super().start_ride(ride)

    def __repr__(self) -> str:
        return f"TellingMonitex({self.settings.token.get_secret_value()}, {self.last_driver})"


class IndexingMonitex(MonitexVendor):
    """Reads the start answer's ride id with answer["rideId"]."""

    async def start_ride(self, ride: MeterRideStart) -> str:
        response = await self.api.request(
            "start_ride",
            "POST",
            "/ride",
            json_body={
                "driverId": ride.driver_national_id.reveal(),
                "vehicleLicense": ride.vehicle_permit,
                "priceLimit": float(to_minor_units(ride.price_limit, ride.currency)),
            },
        )
        ride_id: str = response.expect(201, 206).json_object()["rideId"]
        return ride_id


class SureMonitex(MonitexVendor):
    """Says nothing was started whatever happened to its start."""

    async def start_ride(self, ride: MeterRideStart) -> str:
        try:
            return await super().start_ride(ride)
        except VendorError as error:
            raise VendorError(f"the start failed: {error.reason}") from None


class BabblingMonitex(MonitexVendor):
    """Logs what it starts a ride with, the token and the driver's id number included."""

    async def start_ride(self, ride: MeterRideStart) -> str:
        logging.getLogger("monitex").info(
            "starting for %s with %s",
            ride.driver_national_id.reveal(),
            self.settings.token.get_secret_value(),
        )
        return await super().start_ride(ride)


class UntypedMonitex(MonitexVendor):
    """Raises its own VendorErrorStatus for whatever status its start is refused with, so a
    429 reaches the gateway as any refused status, not as a rate limit."""

    async def start_ride(self, ride: MeterRideStart) -> str:
        try:
            return await super().start_ride(ride)
        except VendorErrorStatus as error:
            raise VendorErrorStatus(error.status) from None


class ClientSecretMonitexSettings(MonitexSettings):
    client_secret: str


class ClientSecretMonitex(MonitexVendor):
    """Keeps a client secret, beside its token, as a plain string."""

    settings_model = ClientSecretMonitexSettings


class PlainMonitexSettings(MonitexSettings):
    token: str  # type: ignore[assignment]


class PlainMonitex(MonitexVendor):
    """Keeps its token as a plain string, shown wherever its settings are."""

    settings_model = PlainMonitexSettings


class LaxMonitexSettings(MonitexSettings):
    model_config = ConfigDict(extra="ignore")


class LaxMonitex(MonitexVendor):
    """Lets a misspelt settings key pass silently."""

    settings_model = LaxMonitexSettings


class _OnMonitexSimulator:
    def make_simulator(self, token: str) -> Simulator:
        return MonitexSimulator(token)


class TestLeakyMonitex(_OnMonitexSimulator, TransportFaultSuite):
    vendor_class = LeakyMonitex


class TestChattyMonitex(_OnMonitexSimulator, IsolationSuite):
    vendor_class = ChattyMonitex


class TestBoastfulOptumPlus(IsolationSuite):
    vendor_class = BoastfulOptumPlus

    def make_simulator(self, token: str) -> Simulator:
        return OptumPlusSimulator(token)


class TestLaxMonitex(_OnMonitexSimulator, SettingsSuite):
    vendor_class = LaxMonitex


class TestRetryingMonitex(_OnMonitexSimulator, TransportFaultSuite):
    vendor_class = RetryingMonitex


class TestFloatMonitex(_OnMonitexSimulator, RideSuite):
    vendor_class = FloatMonitex


class TestTellingMonitex(_OnMonitexSimulator, RideSuite):
    vendor_class = TellingMonitex


class TestIndexingMonitex(_OnMonitexSimulator, TransportFaultSuite):
    vendor_class = IndexingMonitex


class TestSureMonitex(_OnMonitexSimulator, TransportFaultSuite):
    vendor_class = SureMonitex


class TestPlainMonitex(_OnMonitexSimulator, SettingsSuite):
    vendor_class = PlainMonitex


class TestBabblingMonitex(_OnMonitexSimulator, RideSuite):
    vendor_class = BabblingMonitex


class TestUntypedMonitex(_OnMonitexSimulator, TransportFaultSuite):
    vendor_class = UntypedMonitex


class TestClientSecretMonitex(_OnMonitexSimulator, SettingsSuite):
    vendor_class = ClientSecretMonitex

    def vendor_settings(self, url: str, token: str) -> dict[str, Any]:
        return {"url": url, "token": token, "client_secret": "kit-client-secret"}


class TestKeyedMonitex(_OnMonitexSimulator, AuthenticationSuite):
    vendor_class = KeyedMonitex


class TestGrumpyMonitex(_OnMonitexSimulator, RideSuite):
    vendor_class = GrumpyMonitex
