"""The start-ride fallback matrix and the orphan rule (docs/design.md §3, §3a), the one place
that decides what a failure leads to.

"Fallback" means: tell the driver app the external meter is *not* running
(setcar ``is_external_meter_run = "false"``), then push, so the app shows
manual price entry at the end of the ride.

Every row is consulted where its step fails, and the flow does what the row says. Not every
reaction can be carried out everywhere — without the order there is no driver app to tell, at
setcar or the push the app's own channel has failed, and before the app is told there is
nothing to carry on to — so the table also states which reactions are possible at each step
(``POSSIBLE_REACTIONS``): a row that is not is rejected when this module loads, and by
``reaction_to`` should the table be changed afterwards, rather than quietly taken as another.
"""

from enum import Enum, StrEnum

from gateway.plugins.meter_vendor import Capability


class StartStep(StrEnum):
    """A step of the start-ride task that can fail; its value is the metric and log reason."""

    TAKE_LEASE = "order_lease_unavailable"
    LEASE_LOST = "order_lease_lost"
    READ_ORDER = "order_read_failed"
    DRIVER_NATIONAL_ID = "driver_id_unavailable"
    VEHICLE_PERMIT = "permit_unavailable"
    FIXED_PRICE = "fixed_price_missing"
    VENDOR_START = "vendor_start_failed"
    VENDOR_RATE_LIMITED = "vendor_rate_limited"
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
    # A 429 of a vendor whose start is idempotent (``rate_limited_start_step``): nothing was
    # started, and the redelivery, broker.redelivery_timeout_ms later, is the wait (Retry-After
    # is not read: a redelivery cannot be timed per task); asked again, the vendor cannot make
    # a second ride.
    StartStep.VENDOR_RATE_LIMITED: Reaction.LEAVE_UNACKNOWLEDGED,
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


class Stage(Enum):
    """Where a run stands when a step fails, which bounds what can be done about it."""

    NO_ORDER = "the order is not read: there is no driver app to tell"
    BEFORE_TELLING = "the order is read, the app not told yet: a fallback can be sent"
    TELLING_APP = "setcar or the push, or the lease lost between them: the app's own channel"


_ENDS = frozenset({Reaction.END, Reaction.LEAVE_UNACKNOWLEDGED})
# IGNORE has nothing to carry on to before the app is told: no such step can be skipped.
_BEFORE_TELLING = frozenset(Reaction) - {Reaction.IGNORE}
# A fallback is itself setcar and the push: the channel that failed cannot send it.
_TELLING_APP = frozenset({Reaction.END, Reaction.IGNORE, Reaction.LEAVE_UNACKNOWLEDGED})

POSSIBLE_REACTIONS: dict[StartStep, frozenset[Reaction]] = {
    # Nothing is known before the lease is taken, so nothing is sent and any row but
    # LEAVE_UNACKNOWLEDGED ends the run; on the last delivery the order is read without the
    # lease (§3a), and there a fallback row is sent.
    StartStep.TAKE_LEASE: _ENDS | {Reaction.FALLBACK, Reaction.FALLBACK_AND_CANCEL_RIDE},
    # Checked before telling the app too, where no fallback can be sent either.
    StartStep.LEASE_LOST: _ENDS,
    StartStep.READ_ORDER: _ENDS,  # without the order there is no app to tell
    StartStep.DRIVER_NATIONAL_ID: _BEFORE_TELLING,
    StartStep.VEHICLE_PERMIT: _BEFORE_TELLING,
    StartStep.FIXED_PRICE: _BEFORE_TELLING,
    StartStep.VENDOR_START: _BEFORE_TELLING,
    StartStep.VENDOR_REFUSED: _BEFORE_TELLING,
    StartStep.VENDOR_RATE_LIMITED: _BEFORE_TELLING,
    StartStep.CLAIM_RIDE: _BEFORE_TELLING,
    StartStep.STALE_METER_RIDE: _BEFORE_TELLING,
    StartStep.RIDE_OF_ANOTHER_PERFORMER: _BEFORE_TELLING,
    StartStep.FINISHED_FIRST: _BEFORE_TELLING,
    StartStep.STORE_RIDE_ID: _BEFORE_TELLING,
    StartStep.SETCAR: _TELLING_APP,
    StartStep.PUSH: _TELLING_APP,
}


class ImpossibleReaction(ValueError):
    """A row the flow cannot carry out where its step fails."""


def check_policy(policy: dict[StartStep, Reaction]) -> None:
    """Raise ImpossibleReaction unless every step has a row that is possible where it stands."""
    impossible = [
        f"{step.name} -> {reaction.name if reaction else None}"
        for step in StartStep
        if (reaction := policy.get(step)) not in POSSIBLE_REACTIONS[step]
    ]
    if impossible:
        raise ImpossibleReaction(
            "start-ride rows that cannot be carried out where their step fails: "
            + ", ".join(impossible)
        )


def reaction_to(
    step: StartStep, *, last_delivery: bool = False, stage: Stage = Stage.BEFORE_TELLING
) -> Reaction:
    """The step's row, where the run stands. On the last delivery the broker allows
    (``broker.max_deliveries``), a row that would leave the run pending falls back instead,
    ending an orphaned ride if §3a allows, where a fallback can be sent (``BEFORE_TELLING``):
    no redelivery follows to decide, and a dead letter would leave the app untold and the meter
    running (docs/design.md §3a "The last delivery").

    Raises ImpossibleReaction for a row ``POSSIBLE_REACTIONS`` does not allow, should the table
    have been changed since the module loaded."""
    reaction = START_RIDE_FALLBACK_POLICY[step]
    if reaction not in POSSIBLE_REACTIONS[step]:
        raise ImpossibleReaction(f"{step.name} -> {reaction.name}: impossible where it fails")
    if last_delivery and reaction.leaves_unacknowledged and stage is Stage.BEFORE_TELLING:
        return Reaction.FALLBACK_AND_CANCEL_RIDE
    return reaction


def asks_start_again(answer_may_be_lost: bool, start_is_idempotent: bool) -> bool:
    """A start whose answer was lost (docs/design.md §3a): the vendor may have made a ride whose
    id never arrived. A vendor whose start is idempotent answers a second start with that same
    ride, so it is asked once more, and only then; no other failure and no other vendor is
    asked twice. When the second ask fails too, the run marks the driver and the vendor-start
    row applies."""
    return answer_may_be_lost and start_is_idempotent


def rate_limited_start_step(start_is_idempotent: bool) -> StartStep:
    """The row of a start the vendor answered 429 (docs/design.md §3). A 429 says nothing was
    started, but only an idempotent start makes asking again safe whatever stood behind the
    answer (a proxy's 429 after the vendor took the start): so the redelivery waits for such a
    vendor and asks again, and any other vendor's 429 is the vendor-start failure, a fallback."""
    return StartStep.VENDOR_RATE_LIMITED if start_is_idempotent else StartStep.VENDOR_START


class OrphanHandling(Enum):
    """What becomes of a ride the vendor made that the order does not hold (§3a "Orphans")."""

    CANCEL = "the vendor cancels it"
    CLOSE = "it is stopped as a close, the vendor's way of ending an orphan"
    LEAVE_RUNNING = "it is left running, for a person to settle"


def orphan_handling(
    capabilities: frozenset[Capability], *, claim_was_new: bool, order_holds_ride: bool
) -> OrphanHandling:
    """§3a Orphans: a ride is ended only when the order holds no ride id (else the order's ride
    is carried on with, and another left alone) and this run's ledger claim made the entry (an
    earlier run of this order may still be running with it). A vendor that cannot cancel but
    ends an orphan by closing it (``CLOSE_ENDS_ORPHAN``) closes it, unless its start is
    idempotent: such a vendor never ends an orphan by closing it."""
    if order_holds_ride or not claim_was_new:
        return OrphanHandling.LEAVE_RUNNING
    if Capability.CANCEL_RIDE in capabilities:
        return OrphanHandling.CANCEL
    if (
        Capability.CLOSE_ENDS_ORPHAN in capabilities
        and Capability.IDEMPOTENT_START not in capabilities
    ):
        return OrphanHandling.CLOSE
    return OrphanHandling.LEAVE_RUNNING


check_policy(START_RIDE_FALLBACK_POLICY)
