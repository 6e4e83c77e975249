"""The start-ride fallback matrix (docs/design.md §3, §3a), the one place that decides what a
failure leads to.

"Fallback" means: tell the driver app the external meter is *not* running
(setcar ``is_external_meter_run = "false"``), then push, so the app shows
manual price entry at the end of the ride.

Every row is consulted where its step fails, and the flow does what the row says as far as the
step allows: a reaction the moment cannot carry out ends the task instead — without the order
there is no driver app to tell, and at setcar or the push the app's own channel has failed, so
a fallback there ends; ``IGNORE`` before the vendor answered a ride has nothing to carry on to
and ends too.
"""

from enum import Enum, StrEnum


class StartStep(StrEnum):
    """A step of the start-ride task that can fail; its value is the metric and log reason."""

    TAKE_LEASE = "order_lease_unavailable"
    LEASE_LOST = "order_lease_lost"
    READ_ORDER = "order_read_failed"
    DRIVER_NATIONAL_ID = "driver_id_unavailable"
    VEHICLE_PERMIT = "permit_unavailable"
    FIXED_PRICE = "fixed_price_missing"
    VENDOR_START = "vendor_start_failed"
    VENDOR_REFUSED = "vendor_refused"
    CLAIM_RIDE = "ride_ledger_unavailable"
    STALE_METER_RIDE = "stale_meter_ride"
    RIDE_OF_ANOTHER_PERFORMER = "meter_ride_of_another_performer"
    FINISHED_FIRST = "finish_came_first"
    STORE_RIDE_ID = "ride_id_not_stored"
    SETCAR = "setcar_failed"
    PUSH = "push_failed"


class Reaction(Enum):
    END = "the task ends: nothing more is sent"
    FALLBACK = "setcar false, then the push"
    FALLBACK_AND_CANCEL_RIDE = (
        "end the orphaned vendor ride if §3a allows it (the order holds no ride id, this run's "
        "ledger claim was new, the vendor can), then fall back"
    )
    END_AND_CANCEL_RIDE = (
        "end the orphaned vendor ride if §3a allows it, then end: nothing is sent to the app"
    )
    IGNORE = "carry on as if the step had succeeded"
    LEAVE_UNACKNOWLEDGED = "stop here; the delivery stays pending and its redelivery decides"

    @property
    def falls_back(self) -> bool:
        return self in (Reaction.FALLBACK, Reaction.FALLBACK_AND_CANCEL_RIDE)

    @property
    def cancels_orphaned_ride(self) -> bool:
        return self in (Reaction.FALLBACK_AND_CANCEL_RIDE, Reaction.END_AND_CANCEL_RIDE)

    @property
    def carries_on(self) -> bool:
        return self is Reaction.IGNORE

    @property
    def leaves_unacknowledged(self) -> bool:
        return self is Reaction.LEAVE_UNACKNOWLEDGED


START_RIDE_FALLBACK_POLICY: dict[StartStep, Reaction] = {
    # Redis (where the lease and the ledger live) unreachable: nothing is known, nothing sent.
    StartStep.TAKE_LEASE: Reaction.LEAVE_UNACKNOWLEDGED,
    StartStep.LEASE_LOST: Reaction.LEAVE_UNACKNOWLEDGED,  # another run may hold the order now
    StartStep.READ_ORDER: Reaction.END,  # setcar not touched; no push
    StartStep.DRIVER_NATIONAL_ID: Reaction.FALLBACK,  # driver-profiles, personal, no document
    StartStep.VEHICLE_PERMIT: Reaction.FALLBACK,  # fleet-vehicles, no permit number
    StartStep.FIXED_PRICE: Reaction.FALLBACK,  # beyond the card: no price to limit the meter by
    StartStep.VENDOR_START: Reaction.FALLBACK,  # fails, times out, no ride id, stays pending
    StartStep.VENDOR_REFUSED: Reaction.FALLBACK,  # a business refusal, e.g. driver busy
    # The redelivery, answered the same ride by an idempotent start, decides; a fallback now
    # could contradict it.
    StartStep.CLAIM_RIDE: Reaction.LEAVE_UNACKNOWLEDGED,
    StartStep.STALE_METER_RIDE: Reaction.FALLBACK,  # another order's ride: left alone
    # The order holds a ride started for another driver or car (the order was reassigned):
    # never reused for this performer; left alone.
    StartStep.RIDE_OF_ANOTHER_PERFORMER: Reaction.FALLBACK,
    StartStep.STORE_RIDE_ID: Reaction.FALLBACK_AND_CANCEL_RIDE,  # revision or set-fields
    # The driver's finish-ride found no ride and the driver keyed the price in: neither store
    # nor announce the ride the vendor answered after it.
    StartStep.FINISHED_FIRST: Reaction.END_AND_CANCEL_RIDE,
    StartStep.SETCAR: Reaction.END,  # no push
    StartStep.PUSH: Reaction.IGNORE,
}


def reaction_to(step: StartStep, *, last_delivery: bool = False) -> Reaction:
    """The step's row. On the last delivery the broker allows (``broker.max_deliveries``), a row
    that would leave the run pending falls back instead, ending an orphaned ride if §3a allows:
    no redelivery follows to decide, and a dead letter would leave the app untold and the meter
    running (docs/design.md §3a "The last delivery")."""
    reaction = START_RIDE_FALLBACK_POLICY[step]
    if last_delivery and reaction.leaves_unacknowledged:
        return Reaction.FALLBACK_AND_CANCEL_RIDE
    return reaction


def asks_start_again(answer_may_be_lost: bool, start_is_idempotent: bool) -> bool:
    """A start whose answer was lost (docs/design.md §3a): the vendor may have made a ride whose
    id never arrived. A vendor whose start is idempotent answers a second start with that same
    ride, so it is asked once more, and only then; no other failure and no other vendor is
    asked twice. When the second ask fails too, the run marks the driver and the vendor-start
    row applies."""
    return answer_may_be_lost and start_is_idempotent
