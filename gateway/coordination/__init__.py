"""The coordination stores (docs/design.md §3a, §4): the core's coordination ports, implemented.

One concern per module: the ride ledger (``ride_ledger``), the per-order run lease
(``order_lease``), the finish-ride replay (``finish_replay``) and the finishes that came before
their start (``finished_first``); ``factory`` builds them where the broker lives, and
``redis_keys`` spells their keys there. The ports and the values they take are the core's
(``gateway.rides.ports``).
"""

from gateway.coordination.factory import Coordination, coordination_for
from gateway.coordination.ride_ledger import StoredRideLedger

__all__ = ["Coordination", "StoredRideLedger", "coordination_for"]
