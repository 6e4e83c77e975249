"""What a meter vendor is: a typed object with async ride operations and its own settings."""

from abc import ABC
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gateway.plugins.vendor_errors import VendorCapabilityMissing


class Capability(StrEnum):
    START_RIDE = "start_ride"
    STOP_RIDE = "stop_ride"
    GET_PRICE = "get_price"
    CANCEL_RIDE = "cancel_ride"
    # No cancel: stopping the ride is how this vendor ends an orphaned ride.
    CLOSE_ENDS_ORPHAN = "close_ends_orphan"
    # A second start for the same driver/vehicle answers the ride still open (docs/design.md
    # §3a): such a ride may be another order's, so it is never ended by closing it.
    IDEMPOTENT_START = "idempotent_start"


# Capabilities that say how a vendor behaves instead of naming a method it implements.
BEHAVIOUR_CAPABILITIES = frozenset({Capability.CLOSE_ENDS_ORPHAN, Capability.IDEMPOTENT_START})
# The others: each is the name of the MeterVendor method a vendor declaring it overrides.
OPERATION_CAPABILITIES = tuple(
    capability for capability in Capability if capability not in BEHAVIOUR_CAPABILITIES
)


class MeterRideState(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class PaymentMethod(StrEnum):
    CASH = "CASH"
    APP = "APP"


class NationalIdNumber:
    """A driver's national id number; prints masked so it cannot leak through a log or a trace."""

    __slots__ = ("_number",)

    def __init__(self, number: str) -> None:
        self._number = number

    def reveal(self) -> str:
        """The number itself, only for the request body of the vendor that needs it."""
        return self._number

    def __repr__(self) -> str:
        return "NationalIdNumber('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NationalIdNumber) and other._number == self._number

    def __hash__(self) -> int:
        return hash(self._number)


@dataclass(frozen=True, slots=True)
class MeterRideStart:
    order_id: str
    driver_national_id: NationalIdNumber
    vehicle_permit: str
    price_limit: Decimal


@dataclass(frozen=True, slots=True)
class MeterRideFinish:
    """What a vendor may need to stop a ride and price it; finish-only vendors have no ride_id."""

    order_id: str
    ride_id: str | None
    car_number: str
    price: Decimal
    payment_method: PaymentMethod


@dataclass(frozen=True, slots=True)
class MeterReading:
    state: MeterRideState
    price: Decimal | None


class VendorSettings(BaseModel):
    """Settings every vendor has; a vendor subclasses this to add its own keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://")
    token: SecretStr = SecretStr("")
    timeout_ms: int = Field(default=3000, gt=0)


class MeterVendor(ABC):
    """Base of every vendor plugin.

    A subclass names itself, declares the operations it supports and the
    settings model of its ``[vendors.NAME]`` section, and overrides the
    async methods of the capabilities it declares. It is constructed once per
    process with validated settings and the process's shared HTTP session;
    construction must not do I/O.
    """

    name: ClassVar[str]
    settings_model: ClassVar[type[VendorSettings]] = VendorSettings
    capabilities: ClassVar[frozenset[Capability]]

    def __init__(self, settings: VendorSettings, http: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.http = http

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    async def start_ride(self, ride: MeterRideStart) -> str:
        """Start a meter ride with our price as its limit and answer the vendor's ride id."""
        raise VendorCapabilityMissing(f"{self.name} cannot start rides")

    async def stop_ride(self, ride: MeterRideFinish) -> None:
        raise VendorCapabilityMissing(f"{self.name} cannot stop rides")

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        raise VendorCapabilityMissing(f"{self.name} cannot report prices")

    async def cancel_ride(self, ride_id: str) -> None:
        raise VendorCapabilityMissing(f"{self.name} cannot cancel rides")
