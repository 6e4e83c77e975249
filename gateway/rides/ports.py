"""What the ride flows need from the world, named by the core (README "Architecture").

The flows take one ``RidePorts`` and call nothing else: the platform services (order-core, the
driver's identity, the vehicle, the driver app), the coordination stores (the order lease, the
ride ledger, the finish replay, the finishes that came first) and the vendor router.
``gateway.platform`` and ``gateway.coordination`` implement the ports; the process's bootstrap
builds them and hands them in. The values the ports take and answer live here too, so an
adapter imports the core and never the other way round.

A platform port fails with ``gateway.rides.errors.UpstreamError``; a coordination port with the
failure its method names (``LeaseUnavailable``, ``LeaseLost``, ``LedgerUnavailable``).
"""

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from gateway.plugins.meter_vendor import NationalIdNumber
from gateway.rides.order import Order, OrderIdType, Revision
from gateway.rides.routing import VendorRouter
from gateway.settings import Settings

# The platform services (docs/design.md §5).


class OrderCore(Protocol):
    async def get_order(self, order_id: str, id_type: OrderIdType) -> Order:
        """The order; ``OrderNotFound`` when order-core has none by that id."""

    async def get_revision(self, order_id: str) -> Revision: ...

    async def set_external_meter_ride_id(
        self, order_id: str, ride_id: str, revision: Revision
    ) -> None:
        """Store the ride id; ``OrderRevisionChanged`` when the order moved on since
        ``revision`` was read."""


class Identity(Protocol):
    async def national_id_number(
        self, park_id: str, driver_profile_id: str, id_document_type: str
    ) -> NationalIdNumber:
        """The driver's national id number, from the document of that type."""


class Vehicles(Protocol):
    async def permit_number(self, park_id: str, car_id: str) -> str: ...


class DriverApp(Protocol):
    async def set_external_meter_run(
        self, alias_id: str, park_id: str, driver_profile_id: str, *, running: bool
    ) -> None:
        """setcar: whether the app shows the external meter running (else manual entry)."""

    async def force_polling_order(self, park_id: str, driver_profile_id: str) -> None:
        """The push that makes the app read its order again."""


# The order lease (§3a): one start-ride run per order at a time.


class LeaseUnavailable(Exception):
    """The lease could not be taken because its store failed: nobody knows who runs the order."""


class LeaseLost(Exception):
    """The run could not renew its lease; another run may hold the order now."""


class Lease:
    """A held lease; ``ensure_held`` before each side effect.

    A lease in a shared store is held only until its expiry unless a renewal is known to have
    landed, so it is counted held until ``valid_until`` (monotonic seconds): the moment the last
    confirmed write or renewal was *sent*, plus the expiry. A renewal that hangs, or an event
    loop held up, therefore cannot let a run go on after another may have taken the order.
    """

    def __init__(self, valid_until: float = math.inf) -> None:
        self._lost: str | None = None
        self._valid_until = valid_until

    def ensure_held(self) -> None:
        if self._lost is None and time.monotonic() >= self._valid_until:
            self._lost = "the lease expired before a renewal was confirmed"
        if self._lost is not None:
            raise LeaseLost(self._lost)

    def renewed(self, valid_until: float) -> None:
        self._valid_until = valid_until

    def lose(self, why: str) -> None:
        self._lost = why


class OrderLease(ABC):
    @abstractmethod
    def hold(self, order_id: str) -> AbstractAsyncContextManager[Lease | None]:
        """Hold the order's lease for the block; yields None when another run holds it.

        Raises LeaseUnavailable when the lease's store cannot be reached.
        """


# The ride ledger (§3a): which order each vendor ride id belongs to.


class LedgerUnavailable(Exception):
    """The ledger could not be read or written (or the claim was not replicated): nothing is
    known about the ride, so the run must stop where it is and leave the decision to its
    redelivery."""


@dataclass(frozen=True, slots=True)
class RidePerformer:
    """Whom a meter ride was started for: the driver (park and profile ids) and the car."""

    park_id: str
    driver_profile_id: str
    car_id: str


@dataclass(frozen=True, slots=True)
class RideRecord:
    """What the ledger holds for a ride: the order it belongs to and whom it was started for."""

    holder: str
    performer: RidePerformer


@dataclass(frozen=True, slots=True)
class RideClaim:
    holder: str
    """The exact order id the ride belongs to."""
    new: bool
    """This claim made the entry (False: it was there already, whoever made it)."""

    def belongs_to(self, order_id: str) -> bool:
        return self.holder == order_id


class RideLedger(ABC):
    @abstractmethod
    async def claim(
        self, vendor: str, ride_id: str, order_id: str, performer: RidePerformer
    ) -> RideClaim:
        """Claim the ride for the order unless some order holds it; answer who holds it.

        An unsettled start marked on the performer's driver takes the claim instead of
        ``order_id`` (the ride may be the one that start made), and the mark is gone.
        """

    @abstractmethod
    async def record_of(self, vendor: str, ride_id: str) -> RideRecord | None:
        """The ride's claim, or None when the ledger holds none (never claimed, or expired)."""

    @abstractmethod
    async def mark_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> bool:
        """The order's start is about to be asked of the vendor: mark its driver, unless a
        mark is there already (another order's, whose ride may still be unclaimed, or this
        order's own from an earlier run whose start's outcome is unknown). True when this call
        made the mark: only then may the run lift it again."""

    @abstractmethod
    async def lift_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> None:
        """The order's start surely made nothing: lift its own mark (another's stays)."""


# The finish-ride replay (§4 Retries) and the finishes that came before their start (§3a).


@dataclass(frozen=True, slots=True)
class ReplayKey:
    """What a stored price answers: a repeat of this very request against the order as it is
    now. Another car or another price, the request's or the order's, is another request, and
    §4 decides it afresh (the vendor's stop is idempotent; its price is checked again)."""

    vendor: str
    order_id: str
    park_id: str
    driver_profile_id: str
    car_id: str
    car_number: str
    price: Decimal
    """The order's fixed price as read for this request, which §4 checked both of the
    request's prices equal: one amount stands for all three."""


@dataclass(frozen=True, slots=True)
class Priced:
    price: Decimal
    replayed: bool
    """True when this request called no vendor: the price came from another request."""


class FinishReplay(ABC):
    @abstractmethod
    async def price_once(self, key: ReplayKey, price: Callable[[], Awaitable[Decimal]]) -> Priced:
        """Answer the request's price, calling ``price`` (the vendor calls) only if no request
        with the same key has priced it within the replay window. A refusal ``price`` raises
        reaches the requests that shared its call and is never kept."""


class FinishedFirst(ABC):
    @abstractmethod
    async def record(self, vendor: str, alias_id: str) -> None:
        """A finish-ride found the order without a ride id."""

    @abstractmethod
    async def came_first(self, vendor: str, alias_id: str) -> bool:
        """Whether a finish-ride found the order without a ride id."""


@dataclass(frozen=True, slots=True)
class RidePorts:
    """Everything the two flows talk to."""

    order_core: OrderCore
    identity: Identity
    vehicles: Vehicles
    driver_app: DriverApp
    router: VendorRouter
    order_lease: OrderLease
    ride_ledger: RideLedger
    finish_replay: FinishReplay
    finished_first: FinishedFirst


@dataclass(frozen=True, slots=True)
class Services:
    """What a process hands the flows' callers (the HTTP handlers, the start-ride task): the
    ports and the settings the flows are tuned by. Built by the bootstrap."""

    settings: Settings
    ports: RidePorts
