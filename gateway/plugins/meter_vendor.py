"""What a meter vendor is: a typed object with async ride operations and its own settings.

Money is ``Decimal`` in the major unit of the ride's currency everywhere (42.24 ILS, not 4224
agorot); ``gateway.plugins.to_minor_units``/``from_minor_units`` convert at the vendor's wire.
"""

from abc import ABC
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gateway.plugins.vendor_auth import BearerToken, VendorAuth
from gateway.plugins.vendor_errors import VendorCapabilityMissing
from gateway.plugins.vendor_http import VendorHttp
from gateway.settings import DEFAULT_MAX_ANSWER_BYTES


class Capability(StrEnum):
    """What a vendor declares in ``capabilities``: operations it implements, and traits."""

    START_RIDE = "start_ride"
    STOP_RIDE = "stop_ride"
    GET_PRICE = "get_price"
    CANCEL_RIDE = "cancel_ride"
    CLOSE_ENDS_ORPHAN = "close_ends_orphan"
    """No cancel: stopping the ride is how this vendor ends an orphaned ride."""
    IDEMPOTENT_START = "idempotent_start"
    """A second start for the same driver/vehicle answers the ride still open (Monitex)."""


OPERATIONS = frozenset(
    {Capability.START_RIDE, Capability.STOP_RIDE, Capability.GET_PRICE, Capability.CANCEL_RIDE}
)
"""The capabilities that are methods of ``MeterVendor``; the others are traits."""


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
    """What the start-ride task hands ``start_ride`` (docs/design.md §3 steps 4-5)."""

    order_id: str
    """The order's exact id (order-core ``order_id_type=exact_id``); the same for every
    delivery of the task, so a vendor may use it as its idempotency key."""
    driver_national_id: NationalIdNumber
    """The driver's national id number: driver-profiles' identity document of the country's
    ``id_document_type``, read from personal. Masked in logs; ``reveal()`` it for the body."""
    vehicle_permit: str
    """The taxi's permit (licence) number: fleet-vehicles ``data.permit_num``."""
    car_number: str
    """The taxi's plate: order-core ``order.performer.car_number``; "" when the order has none."""
    country: str
    """ISO 3166-1 alpha-2 code of the order's country (its zone mapped by ``[zones]``)."""
    currency: str
    """ISO 4217 code of the prices: ``[countries.CC] currency``, by default the country's."""
    price_limit: Decimal
    """The order's fixed price (``order.fixed_price.price``) in the currency's major unit,
    e.g. ``Decimal("42.24")``: the meter must not charge more."""


@dataclass(frozen=True, slots=True)
class MeterRideFinish:
    """What ``stop_ride``/``get_price`` get (docs/design.md §4 step 3)."""

    order_id: str
    """At finish-ride, the order's id as the driver app names it: its alias id (order-core's read
    by alias answers no exact id); when the gateway closes an orphaned ride
    (``CLOSE_ENDS_ORPHAN``), the exact id ``MeterRideStart.order_id`` had. Match a ride by
    ``ride_id``, the same at start and at finish."""
    ride_id: str | None
    """What ``start_ride`` answered, as stored on the order; None for a finish-only vendor."""
    car_number: str
    """The taxi's plate: ``order.performer.car_number``; "" when the order has none."""
    country: str
    """ISO 3166-1 alpha-2 code of the order's country."""
    currency: str
    """ISO 4217 code of ``price``."""
    price: Decimal
    """The order's fixed price in the currency's major unit (the driver app sent the same)."""
    payment_method: PaymentMethod
    """CASH for cash orders (``payment_tech.type == "cash"``), APP otherwise."""


@dataclass(frozen=True, slots=True)
class MeterReading:
    """The meter's view of a ride, from ``get_price`` or a ``stop_ride`` that prices it."""

    state: MeterRideState
    price: Decimal | None
    """The final price in the currency's major unit; None while the meter has none."""


class VendorSettings(BaseModel):
    """Settings every vendor has; a vendor subclasses this to add its own keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    optional_secrets: ClassVar[frozenset[str]] = frozenset()
    """The ``SecretStr`` fields that may stay empty, by key (a nested one dotted,
    ``"tls.key_password"``): a vendor whose API takes no token names ``"token"`` here. Every
    other secret of a vendor a country routes to must be set, or the
    settings are refused (``check-config``, ``serve`` and ``worker`` alike)."""

    url: str = Field(pattern=r"^https?://")
    token: SecretStr = SecretStr("")
    timeout_ms: int = Field(default=3000, gt=0)
    # A longer answer fails as malformed, read no further (gateway.plugins.exchange).
    max_answer_bytes: int = Field(default=DEFAULT_MAX_ANSWER_BYTES, gt=0)


def setting_values(settings: BaseModel, prefix: str = "") -> dict[str, object]:
    """Every setting's value by its dotted key (``timeout_ms``, ``tls.key_password``), the
    fields of nested models in place of the models."""
    found: dict[str, object] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            found.update(setting_values(value, f"{prefix}{name}."))
        else:
            found[prefix + name] = value
    return found


def secret_settings(settings: BaseModel) -> dict[str, SecretStr]:
    """Every ``SecretStr`` of a vendor's settings by its dotted key (``client_secret``,
    ``tls.key_password``), nested models' too: each is required, masked in the logs and hunted
    by the kit alike, wherever the plugin's model keeps it."""
    return {
        key: value
        for key, value in setting_values(settings).items()
        if isinstance(value, SecretStr)
    }


class MeterVendor(ABC):
    """Base of every vendor plugin.

    A subclass names itself, declares the operations it supports and the
    settings model of its ``[vendors.NAME]`` section, and overrides the
    async methods of the capabilities it declares. It is constructed once per
    process with validated settings and the process's shared HTTP session;
    construction must not do I/O. It calls its API through ``self.api``.
    """

    name: ClassVar[str]
    settings_model: ClassVar[type[VendorSettings]] = VendorSettings
    capabilities: ClassVar[frozenset[Capability]]
    refusal_codes: ClassVar[frozenset[str]] = frozenset()
    """The ``VendorRefused`` codes this vendor raises (``[a-z0-9_]{1,32}``), each its own
    ``vendor_code`` label; an undeclared code is counted as ``other``."""

    def __init__(self, settings: VendorSettings, http: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.http = http
        self.api = VendorHttp(
            http,
            vendor=self.name,
            base_url=settings.url,
            timeout_ms=settings.timeout_ms,
            auth=self.authentication(),
            max_answer_bytes=settings.max_answer_bytes,
        )

    def authentication(self) -> VendorAuth:
        """How ``self.api`` authenticates; by default ``Authorization: Bearer <token>``."""
        return BearerToken(self.settings.token)

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    async def start_ride(self, ride: MeterRideStart) -> str:
        """Start a meter ride with our price as its limit and answer the vendor's ride id.

        Raise ``VendorRefused(code)`` when the vendor says no for a business reason."""
        raise VendorCapabilityMissing(f"{self.name} cannot start rides")

    async def stop_ride(self, ride: MeterRideFinish) -> MeterReading | None:
        """Stop the ride; answer its reading if the stop already tells the final price (then
        ``get_price`` is not called), else None. Stopping a stopped ride changes nothing."""
        raise VendorCapabilityMissing(f"{self.name} cannot stop rides")

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        """The ride's state and, once COMPLETED, its final price."""
        raise VendorCapabilityMissing(f"{self.name} cannot report prices")

    async def cancel_ride(self, ride_id: str) -> None:
        raise VendorCapabilityMissing(f"{self.name} cannot cancel rides")
