"""What every suite of the kit stands on: the vendor under test, its simulator, and fixtures."""

import itertools
import re
import socket
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, ClassVar, TypeVar

import aiohttp
import pytest
import pytest_asyncio

from gateway.plugins.meter_vendor import (
    Capability,
    MeterReading,
    MeterRideFinish,
    MeterRideStart,
    MeterVendor,
    NationalIdNumber,
    PaymentMethod,
    VendorSettings,
    secret_settings,
)
from gateway.plugins.simulator import Simulator, run_simulator
from gateway.plugins.vendor_errors import VendorError

KIT_TOKEN = "conformance-kit-token-3e9d"
KIT_NATIONAL_ID_PREFIX = "39"
"""Every national id number the kit sends starts so; secrets_in looks for them."""
KIT_PRICE = Decimal("42.24")
KIT_COUNTRY = "IL"
KIT_CURRENCY = "ILS"
_T = TypeVar("_T")
# Each started ride has its own order, driver, permit and plate, so that a vendor refusing a
# busy driver or reusing a vehicle's open ride sees what production shows it.
_ride_numbers = itertools.count(1)
UNDECLARED_CAPABILITY = "capability not declared"
"""How the reason of every skip for a missing capability starts; the kit's plugin counts them."""
ENDPOINT_NOT_CALLED = "endpoint not called"
"""How the reason of a skip for a fault its operation never met starts; counted alike."""
KIT_URL = "http://127.0.0.1:1"
"""A vendor URL for settings that are only validated, never called."""


@dataclass(frozen=True, slots=True)
class ServedSimulator:
    simulator: Simulator
    url: str


@dataclass(frozen=True, slots=True)
class WatchedSession:
    """An HTTP session that notes every request it starts, even one that never connects."""

    session: aiohttp.ClientSession
    requests: list[str]


class VendorUnderTest:
    """The vendor a suite checks. A vendor package's test class sets ``vendor_class`` and
    overrides ``simulator_for`` (or, as in 1.0, ``make_simulator``) and ``vendor_settings``;
    the rest has working defaults."""

    vendor_class: ClassVar[type[MeterVendor]]
    entry_point_name: ClassVar[str | None] = None
    """The name of the plugin's entry point; None: the vendor's own name."""
    repeatable_endpoints: ClassVar[frozenset[str]] = frozenset()
    """Endpoints other than ``GET`` ones that one operation may call more than once (a poll
    sent as ``POST /rides/{id}/status``); every other call is sent at most once."""

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """The suites' parametrizations; each suite adds its own and calls ``super()``."""

    def simulator_for(self, settings: VendorSettings) -> Simulator:
        """A fresh simulator of the vendor's API for a vendor configured with ``settings`` (the
        vendor's validated settings model: it may check the client id and secret they hold);
        by default ``make_simulator`` with their token, as in 1.0."""
        return self.make_simulator(settings.token.get_secret_value())

    def make_simulator(self, token: str) -> Simulator:
        """A fresh simulator of the vendor's API that accepts ``token`` (1.0; since 1.1
        ``simulator_for(settings)`` is handed every setting)."""
        raise NotImplementedError(
            f"{type(self).__name__} must override simulator_for(settings) or make_simulator(token)"
        )

    def kit_settings(self) -> VendorSettings:
        """The vendor's validated settings as the kit configures it, at a URL nothing is asked
        at: a simulator is built before it listens, and does not read its own URL."""
        return self.vendor_class.settings_model.model_validate(
            self.vendor_settings(KIT_URL, KIT_TOKEN)
        )

    def vendor_settings(self, url: str, token: str) -> dict[str, Any]:
        """The vendor's settings section, as a TOML file gives it, for its API at ``url``."""
        return {"url": url, "token": token}

    def ride_start(self) -> MeterRideStart:
        """A start of a new ride: its own order, driver, permit and plate each time."""
        number = next(_ride_numbers)
        return MeterRideStart(
            order_id=f"kit-order-{number}",
            driver_national_id=NationalIdNumber(f"{KIT_NATIONAL_ID_PREFIX}{number:07d}"),
            vehicle_permit=f"KIT-PERMIT-{number}",
            car_number=f"KIT-CAR-{number}",
            country=KIT_COUNTRY,
            currency=KIT_CURRENCY,
            price_limit=KIT_PRICE,
        )

    def ride_finish(
        self, ride_id: str | None, start: MeterRideStart | None = None
    ) -> MeterRideFinish:
        """The finish of the ride ``start`` began (a new order's if None)."""
        start = start or self.ride_start()
        return MeterRideFinish(
            order_id=start.order_id,
            ride_id=ride_id,
            car_number=start.car_number,
            country=start.country,
            currency=start.currency,
            price=start.price_limit,
            payment_method=PaymentMethod.CASH,
        )

    def expected_price(self, ride: MeterRideFinish) -> Decimal:
        """The final price the simulator, left alone, reports for the ride: by default the
        order's own price (a meter that was not told otherwise charges the price limit)."""
        return ride.price

    @property
    def vendor_name(self) -> str:
        return self.vendor_class.name

    def require(self, capability: Capability) -> None:
        """Skip the test, visibly, when the vendor declares it cannot do this."""
        if capability not in self.vendor_class.capabilities:
            pytest.skip(
                f"{UNDECLARED_CAPABILITY}: {self.vendor_name} does not declare {capability.value}"
            )

    def make_vendor(
        self,
        url: str,
        http: aiohttp.ClientSession,
        *,
        timeout_ms: int | None = None,
        token: str = KIT_TOKEN,
    ) -> MeterVendor:
        tree = self.vendor_settings(url, token)
        if timeout_ms is not None:
            tree = {**tree, "timeout_ms": timeout_ms}
        settings = self.vendor_class.settings_model.model_validate(tree)
        return self.vendor_class(settings, http)

    def kit_secrets(self) -> list[str]:
        """The secrets the kit hands the vendor: the token and every ``SecretStr`` of its
        settings (a client secret, an API key, a certificate's password)."""
        settings = self.kit_settings()
        secrets = secret_settings(settings).values()
        found = {KIT_TOKEN, *(secret.get_secret_value() for secret in secrets)}
        return sorted(secret for secret in found if secret)

    def secrets_in(self, text: str) -> list[str]:
        """Which of the kit's secrets (every secret setting, a driver's national id) the text
        gives away."""
        found = [secret for secret in self.kit_secrets() if secret in text]
        return found + re.findall(rf"{KIT_NATIONAL_ID_PREFIX}\d{{7}}", text)

    async def ready_for(self, operation: Capability, vendor: MeterVendor) -> MeterRideFinish:
        """A ride brought, fault-free, to where the operation applies: started (if the vendor
        starts rides), and stopped before its price is read."""
        ride = await self.started_ride(vendor)
        if operation is Capability.GET_PRICE:
            await self.succeeds(vendor.stop_ride(ride), "stop_ride")
        return ride

    def checked_reading(self, reading: object, what: str) -> MeterReading:
        """The reading, if it is one whose price is a ``Decimal`` (or None)."""
        assert isinstance(reading, MeterReading), (
            f"{what} answered {type(reading).__name__}, not a MeterReading"
        )
        assert reading.price is None or type(reading.price) is Decimal, (
            f"{what} answered a price of type {type(reading.price).__name__} "
            f"({reading.price!r}): money is a Decimal in the major unit, never a float "
            "(42.5 as a float equals Decimal('42.5') but 42.24 does not)"
        )
        return reading

    async def started_ride(self, vendor: MeterVendor) -> MeterRideFinish:
        """A new ride ready to be stopped: started at the vendor if it starts rides at all."""
        start = self.ride_start()
        ride_id = None
        if vendor.can(Capability.START_RIDE):
            ride_id = await self.succeeds(vendor.start_ride(start), "start_ride")
        return self.ride_finish(ride_id, start)

    async def finished(self, vendor: MeterVendor, ride: MeterRideFinish) -> MeterReading:
        """What finish-ride reads: the stop's own reading, else ``get_price`` after the stop."""
        reading = await self.succeeds(vendor.stop_ride(ride), "stop_ride")
        if reading is not None:
            return self.checked_reading(reading, "stop_ride")
        return self.checked_reading(
            await self.succeeds(vendor.get_price(ride), "get_price"), "get_price"
        )

    async def succeeds(self, call: Awaitable[_T], what: str) -> _T:
        """The call's answer; a VendorError fails the test naming the error that happened."""
        try:
            return await call
        except VendorError as error:
            pytest.fail(
                f"{what} against the fault-free simulator raised {type(error).__name__} "
                f"({error.reason}): {error}",
                pytrace=False,
            )

    async def perform(
        self, operation: Capability, vendor: MeterVendor, ride: MeterRideFinish
    ) -> str | MeterReading | None:
        """Ask the vendor to do one operation on the ride; answers what the vendor answers."""
        if operation is Capability.START_RIDE:
            return await vendor.start_ride(self.ride_start())
        if operation is Capability.GET_PRICE:
            return await vendor.get_price(ride)
        if operation is Capability.STOP_RIDE:
            return await vendor.stop_ride(ride)
        assert operation is Capability.CANCEL_RIDE, f"{operation} is a trait, not an operation"
        assert ride.ride_id is not None, "a vendor that cancels rides also starts them"
        await vendor.cancel_ride(ride.ride_id)
        return None

    @pytest_asyncio.fixture
    async def kit_simulator(self) -> AsyncIterator[ServedSimulator]:
        simulator = self.simulator_for(self.kit_settings())
        async with run_simulator(simulator) as url:
            yield ServedSimulator(simulator, url)

    @pytest_asyncio.fixture
    async def kit_http(self) -> AsyncIterator[WatchedSession]:
        requests: list[str] = []

        async def note(
            _: aiohttp.ClientSession,
            __: SimpleNamespace,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            requests.append(f"{params.method} {params.url}")

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(note)
        async with aiohttp.ClientSession(trace_configs=[trace]) as session:
            yield WatchedSession(session, requests)

    @pytest.fixture
    def kit_vendor(self, kit_simulator: ServedSimulator, kit_http: WatchedSession) -> MeterVendor:
        return self.make_vendor(kit_simulator.url, kit_http.session)


def unreachable_url() -> str:
    """A local URL nothing listens on, so connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
