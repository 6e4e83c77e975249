"""Coordination stores that fail when a test says (docs/design.md §3a), in process.

In production the order lease and the ride ledger live in the broker's Redis; these doubles
stand in for them so a start-ride run can meet each of their failures without a Redis process:
a lease whose store is unreachable, a lease lost at a chosen moment (its renewal failed), a
ledger that cannot record a claim.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

from gateway.rides.ports import (
    Lease,
    LeaseUnavailable,
    LedgerUnavailable,
    OrderLease,
    RideClaim,
    RideLedger,
    RidePerformer,
    RideRecord,
    Services,
)

RENEWAL_FAILED = "renewal failed: ConnectionError: the test cut Redis off"


class CheckedLease(Lease):
    """A held lease that calls ``at_check`` each time the run checks it, which the run does
    just before each of its side effects: what ``at_check`` does happens between two upstream
    calls (the lease lost, another delivery writing the order)."""

    def __init__(self, at_check: Callable[["CheckedLease"], None]) -> None:
        super().__init__()
        self._at_check = at_check

    def ensure_held(self) -> None:
        self._at_check(self)
        super().ensure_held()


def lost_once(happened: Callable[[], bool]) -> CheckedLease:
    """A lease whose renewal fails once ``happened()``: the run finds it lost at its next check."""

    def renew(lease: CheckedLease) -> None:
        if happened():
            lease.lose(RENEWAL_FAILED)

    return CheckedLease(renew)


class GivenOrderLease(OrderLease):
    """Holds every order with the lease given; None: the lease's store cannot be reached."""

    def __init__(self, lease: Lease | None) -> None:
        self._lease = lease

    @asynccontextmanager
    async def hold(self, order_id: str) -> AsyncIterator[Lease | None]:
        if self._lease is None:
            raise LeaseUnavailable("ConnectionError: the test cut Redis off")
        yield self._lease


class UnavailableRideLedger(RideLedger):
    """A ledger whose Redis cannot be reached by the time a ride is claimed or read (or whose
    claim no replica acknowledged). It took the driver's mark before the vendor was asked
    (``marks``): the ledger was lost in between, the case a claim failure is."""

    def __init__(self) -> None:
        self.claims: list[tuple[str, str, str]] = []
        self.marks: list[tuple[str, RidePerformer, str]] = []

    async def claim(
        self, vendor: str, ride_id: str, order_id: str, performer: RidePerformer
    ) -> RideClaim:
        self.claims.append((vendor, ride_id, order_id))
        raise LedgerUnavailable("ConnectionError: the test cut Redis off")

    async def record_of(self, vendor: str, ride_id: str) -> RideRecord | None:
        raise LedgerUnavailable("ConnectionError: the test cut Redis off")

    async def mark_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> bool:
        self.marks.append((vendor, performer, order_id))
        return True

    async def lift_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> None:
        raise LedgerUnavailable("ConnectionError: the test cut Redis off")

    async def report_age(self) -> None:
        """Nothing to report: the ledger is unreachable."""


class CutOffRideLedger(RideLedger):
    """The embedded ledger, its Redis cut off for the operations named in ``cut_off`` (each
    raising as an unreachable Redis does); the others reach the ledger it wraps."""

    def __init__(self, inner: RideLedger, *cut_off: str) -> None:
        self.inner = inner
        self.cut_off = set(cut_off)

    def _reach(self, operation: str) -> None:
        if operation in self.cut_off:
            raise LedgerUnavailable("ConnectionError: the test cut Redis off")

    async def claim(
        self, vendor: str, ride_id: str, order_id: str, performer: RidePerformer
    ) -> RideClaim:
        self._reach("claim")
        return await self.inner.claim(vendor, ride_id, order_id, performer)

    async def record_of(self, vendor: str, ride_id: str) -> RideRecord | None:
        self._reach("record_of")
        return await self.inner.record_of(vendor, ride_id)

    async def mark_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> bool:
        self._reach("mark_unsettled_start")
        return await self.inner.mark_unsettled_start(vendor, performer, order_id)

    async def lift_unsettled_start(
        self, vendor: str, performer: RidePerformer, order_id: str
    ) -> None:
        self._reach("lift_unsettled_start")
        await self.inner.lift_unsettled_start(vendor, performer, order_id)


def with_coordination(
    services: Services,
    *,
    order_lease: OrderLease | None = None,
    ride_ledger: RideLedger | None = None,
) -> Services:
    """``services`` whose order lease or ride ledger (or both) is replaced by the one given."""
    ports = services.ports
    return replace(
        services,
        ports=replace(
            ports,
            order_lease=order_lease or ports.order_lease,
            ride_ledger=ride_ledger or ports.ride_ledger,
        ),
    )
