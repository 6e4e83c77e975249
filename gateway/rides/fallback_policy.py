"""The start-ride fallback matrix (DESIGN §3), the one place that decides what a failure leads to.

"Fallback" means: tell the driver app the external meter is *not* running
(setcar ``is_external_meter_run = "false"``), then push, so the app shows
manual price entry at the end of the ride.
"""

from enum import Enum, StrEnum


class StartStep(StrEnum):
    """A step of the start-ride task that can fail; its value is the metric and log reason."""

    READ_ORDER = "order_read_failed"
    DRIVER_NATIONAL_ID = "driver_id_unavailable"
    VEHICLE_PERMIT = "permit_unavailable"
    FIXED_PRICE = "fixed_price_missing"
    VENDOR_START = "vendor_start_failed"
    VENDOR_REFUSED = "vendor_refused"
    STORE_RIDE_ID = "ride_id_not_stored"
    SETCAR = "setcar_failed"
    PUSH = "push_failed"


class Reaction(Enum):
    END = "the task ends: nothing more is sent"
    FALLBACK = "setcar false, then the push"
    FALLBACK_AND_CANCEL_RIDE = "cancel the orphaned vendor ride if it can, then fall back"
    IGNORE = "carry on as if the step had succeeded"

    @property
    def falls_back(self) -> bool:
        return self in (Reaction.FALLBACK, Reaction.FALLBACK_AND_CANCEL_RIDE)

    @property
    def cancels_orphaned_ride(self) -> bool:
        return self is Reaction.FALLBACK_AND_CANCEL_RIDE

    @property
    def carries_on(self) -> bool:
        return self is Reaction.IGNORE


START_RIDE_FALLBACK_POLICY: dict[StartStep, Reaction] = {
    StartStep.READ_ORDER: Reaction.END,  # setcar not touched; no push
    StartStep.DRIVER_NATIONAL_ID: Reaction.FALLBACK,  # driver-profiles, personal, no document
    StartStep.VEHICLE_PERMIT: Reaction.FALLBACK,  # fleet-vehicles, no permit number
    StartStep.FIXED_PRICE: Reaction.FALLBACK,  # beyond the card: no price to limit the meter by
    StartStep.VENDOR_START: Reaction.FALLBACK,  # fails, times out, no ride id, stays pending
    StartStep.VENDOR_REFUSED: Reaction.FALLBACK,  # a business reason (VendorRefused), e.g. busy
    StartStep.STORE_RIDE_ID: Reaction.FALLBACK_AND_CANCEL_RIDE,  # revision or set-fields
    StartStep.SETCAR: Reaction.END,  # no push
    StartStep.PUSH: Reaction.IGNORE,
}


def reaction_to(step: StartStep) -> Reaction:
    return START_RIDE_FALLBACK_POLICY[step]
