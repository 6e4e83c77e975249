"""Coordination of the ride flows across runs, processes and gateways (docs/design.md §3a, §4).

One concern per module: the ride ledger (``ride_ledger``), the per-order run lease
(``order_lease``), the finish-ride replay (``finish_replay``) and the finishes that came before
their start (``finished_first``); ``factory`` builds them where the broker lives, and
``redis_keys`` spells their keys there.
"""

from gateway.coordination.factory import Coordination, coordination_for
from gateway.coordination.finish_replay import FinishReplay, Priced, ReplayKey
from gateway.coordination.finished_first import FinishedFirst
from gateway.coordination.order_lease import Lease, LeaseLost, LeaseUnavailable, OrderLease
from gateway.coordination.ride_ledger import (
    LedgerUnavailable,
    RideClaim,
    RideLedger,
    RidePerformer,
    RideRecord,
)

__all__ = [
    "Coordination",
    "FinishReplay",
    "FinishedFirst",
    "Lease",
    "LeaseLost",
    "LeaseUnavailable",
    "LedgerUnavailable",
    "OrderLease",
    "Priced",
    "ReplayKey",
    "RideClaim",
    "RideLedger",
    "RidePerformer",
    "RideRecord",
    "coordination_for",
]
