"""What a scripted ride is: a seeded order, actions on the gateway, and the outcome each must have.

Scenarios are data, so that the demo's script reads as a list of the design's table rows.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.http.error_catalog import REFUSAL_STATUS, Refusal
from gateway.rides.start_ride import StartResult
from gateway.sandbox.world import RideSeed

FIXED_PRICE = 42.24


@dataclass(frozen=True, slots=True)
class SimCall:
    """A call to a simulator's ``/_sim/`` control API before an action: a fault, or seeding."""

    section: str
    path: str
    body: Mapping[str, Any]


def fault(section: str, endpoint: str, **options: Any) -> SimCall:
    return SimCall(section, "/_sim/faults", {"endpoint": endpoint, **options})


@dataclass(frozen=True, slots=True)
class StartOutcome:
    """What one run of the start-ride task did, as the platform sees it."""

    result: str
    reason: str
    setcar: str | None
    """The meter flag the gateway sent to the driver app's setcar; None: setcar not touched."""
    pushed: bool
    stored: bool
    """Whether the order holds a vendor ride id afterwards."""

    def __str__(self) -> str:
        setcar = "setcar untouched" if self.setcar is None else f"setcar {self.setcar}"
        return (
            f"{self.result} ({self.reason}), {setcar}, "
            f"{'push sent' if self.pushed else 'no push'}, "
            f"{'ride id stored' if self.stored else 'order-proc not written'}"
        )


@dataclass(frozen=True, slots=True)
class FinishOutcome:
    status: int
    answer: str
    """The refusal code, or ``price 40.04``."""
    vendor_called: bool

    def __str__(self) -> str:
        vendor = "vendor called" if self.vendor_called else "vendor not called"
        return f"{self.status} {self.answer}, {vendor}"


def started(*, stored: bool = True) -> StartOutcome:
    return StartOutcome(StartResult.STARTED, "ok", "true", pushed=True, stored=stored)


def fell_back(reason: str) -> StartOutcome:
    return StartOutcome(StartResult.FALLBACK, reason, "false", pushed=True, stored=False)


def left_alone(result: StartResult, reason: str) -> StartOutcome:
    return StartOutcome(result, reason, None, pushed=False, stored=False)


def priced(price: str) -> FinishOutcome:
    return FinishOutcome(200, f"price {price}", vendor_called=True)


def refused(refusal: Refusal, *, vendor_called: bool = False) -> FinishOutcome:
    return FinishOutcome(REFUSAL_STATUS[refusal], refusal.value, vendor_called)


@dataclass(frozen=True, slots=True)
class StartRide:
    """Enqueue the start-ride task through the gateway's endpoint and let it run."""

    expect: StartOutcome
    setup: tuple[SimCall, ...] = ()
    order_id: str | None = None
    """Another seeded order than the scenario's ride (one of its ``earlier_rides``)."""


@dataclass(frozen=True, slots=True)
class FinishRide:
    """The driver app's finish-ride request; by default the ride's driver at the fixed price."""

    expect: FinishOutcome
    setup: tuple[SimCall, ...] = ()
    price: float = FIXED_PRICE
    driver_price: float | None = None
    alias_id: str | None = None
    headers: Mapping[str, str] | None = None
    raw_body: str | None = None
    """Sent as the body instead of the JSON the other fields make."""


Action = StartRide | FinishRide


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    design: str
    """The section, row or step of docs/design.md the scenario plays, e.g. ``§3 steps 1-8``."""
    ride: RideSeed
    actions: tuple[Action, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Merged over the demo's settings tree, e.g. ``{"countries": {"IL": {"dry_run": True}}}``."""
    earlier_rides: tuple[RideSeed, ...] = ()
    """Orders seeded beside the ride, e.g. the same driver's previous order."""
