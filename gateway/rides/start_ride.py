"""The start-ride task's flow (docs/design.md §3, §3a): start the meter ride and tell the app.

Steps raise StepFailed; what a failure leads to is decided only by ``fallback_policy``. The task
never raises to be retried: a vendor is called at most once per run, and a redelivered task
finds the stored ride id and does not start a second meter ride. The one exception is a run
that cannot know what is true (the Redis holding its lease or the ride ledger is unreachable,
or its lease was lost): the policy leaves it unacknowledged, the outcome says so, and the task
leaves its delivery pending, so its redelivery decides.

The flow counts and writes nothing itself: its ``StartOutcome`` carries what the run did, and
the task's adapter (``gateway.broker.start_ride_record``) turns it into the metrics and the
run's canonical log line.

Untidy state (§3a): one run per order at a time (the order lease, taken first); only live
orders; every ride id the vendor answers is claimed in the ride ledger before the order is
written, and a ride another order holds is never adopted, closed or reused.
"""

import asyncio
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

import structlog

from gateway.plugins.meter_vendor import (
    Capability,
    MeterRideFinish,
    MeterRideStart,
    NationalIdNumber,
    PaymentMethod,
)
from gateway.plugins.refusals import refusal_code
from gateway.plugins.vendor_errors import VendorError, VendorRateLimited, VendorRefused
from gateway.rides.eligibility import NotEligible, meter_route
from gateway.rides.errors import OrderRevisionChanged, UpstreamError
from gateway.rides.fallback_policy import (
    OrphanHandling,
    Reaction,
    Stage,
    StartStep,
    asks_start_again,
    orphan_handling,
    rate_limited_start_step,
    reaction_to,
)
from gateway.rides.order import Order, OrderIdType
from gateway.rides.ports import (
    Lease,
    LeaseLost,
    LeaseUnavailable,
    LedgerUnavailable,
    RideClaim,
    RidePerformer,
    RidePorts,
)
from gateway.rides.routing import MeterRoute

log = structlog.get_logger("gateway.start_ride")

UNEXPECTED_ERROR = "unexpected_error"


class StartResult(StrEnum):
    STARTED = "started"
    ALREADY_STARTED = "already_started"
    FALLBACK = "fallback"
    SKIPPED = "skipped"
    ENDED = "ended"


class SkipReason(StrEnum):
    """Why a run left the order alone (result ``skipped``); the value is the metric and log
    reason."""

    ALREADY_RUNNING = "already_running"
    ORDER_NOT_ACTIVE = "order_not_active"
    CORPORATE_ORDER = NotEligible.CORPORATE_ORDER.value
    NO_VENDOR_FOR_ZONE = NotEligible.NO_VENDOR_FOR_ZONE.value
    DRIVER_NOT_IN_ROLLOUT = NotEligible.DRIVER_NOT_IN_ROLLOUT.value
    VENDOR_CANNOT_START = "vendor_cannot_start"
    ORDER_WITHOUT_PERFORMER = "order_without_performer"


@dataclass(frozen=True, slots=True)
class FailedStep:
    """A step that failed, with its cause and the policy's row for it (the canonical line's
    ``failed_steps``)."""

    step: StartStep
    cause: str
    reaction: Reaction


@dataclass(slots=True)
class StartRecord:
    """What a run did besides its result, for whoever records it (docs/design.md §9): filled in
    as the run goes, read once it has ended."""

    vendor: str = ""
    country: str = ""
    """Where the order was routed, "" before: the step failures, a stale ride and an unsettled
    start are counted there (a crash's outcome names no vendor, what it counted before does)."""
    failed_steps: list[FailedStep] = field(default_factory=list)
    ride_id: str | None = None
    """The ride the vendor answered, or the one a concurrent delivery stored meanwhile."""
    vendor_code: str | None = None
    """A vendor refusal's code, bounded to those the vendor declared (``refusal_code``)."""
    start_asked_again: str | None = None
    """The cause of a lost start answer that made the run ask the vendor once more (§3a)."""
    unsettled_start_marked: bool = False
    """Both asks failed: the driver keeps the mark of a start whose ride is unknown (§3a)."""
    stale_meter_ride: bool = False
    """The vendor answered a ride another order holds (§3a)."""
    orphaned_ride_ended: str | None = None
    # Out of the repr: a plugin's message may quote a national id; the adapter logs their sites.
    vendor_crashes: list[Exception] = field(default_factory=list, repr=False)
    """A vendor plugin's unexpected exceptions, each taken as a failed start."""
    crash: Exception | None = field(default=None, repr=False)
    """The flow's own bug that ended the run (``unexpected_error``)."""


@dataclass(frozen=True, slots=True)
class StartOutcome:
    result: StartResult
    reason: str
    vendor: str = ""
    country: str = ""
    left_unacknowledged: bool = False
    """The run stopped undecided: its delivery must stay pending (LeaveUnacknowledged)."""
    record: StartRecord = field(default_factory=StartRecord, compare=False)


class StepFailed(Exception):
    def __init__(self, step: StartStep, cause: str, *, answer_may_be_lost: bool = False) -> None:
        super().__init__(f"{step.value}: {cause}")
        self.step = step
        self.cause = cause
        self.answer_may_be_lost = answer_may_be_lost
        """A vendor start that may have made a ride whose id never arrived (§3a)."""


def _cause(error: Exception) -> str:
    if isinstance(error, UpstreamError):
        return f"{error.service}_{error.reason}"
    if isinstance(error, VendorError):
        return error.reason
    if isinstance(error, LeaseUnavailable | LedgerUnavailable):
        return "redis_unavailable"
    if isinstance(error, LeaseLost):
        return "lease_not_renewed"
    return "unexpected_" + type(error).__name__


async def start_ride(order_id: str, ports: RidePorts, *, last_delivery: bool) -> StartOutcome:
    """Run the whole task for one order and answer its outcome, with the record of what the run
    did for the caller to count and log.

    Never raises: a failed step ends as its row says and a bug ends ``unexpected_error``, the
    exception in the record. ``last_delivery``: the broker will not deliver the task again (the
    next delivery would be dead-lettered), which the policy takes into account (§3a).
    """
    record = StartRecord()
    try:
        outcome = await _StartRide(order_id, ports, last_delivery, record).run()
    except Exception as error:  # a bug must still be counted and logged, not lost in taskiq
        record.crash = error
        return StartOutcome(StartResult.ENDED, UNEXPECTED_ERROR, record=record)
    return replace(outcome, record=record)


class _StartRide:
    def __init__(
        self, order_id: str, ports: RidePorts, last_delivery: bool, record: StartRecord
    ) -> None:
        self._order_id = order_id
        self._ports = ports
        self._last_delivery = last_delivery
        self._record = record

    async def run(self) -> StartOutcome:
        # The lease comes first: a second delivery running beside this one calls nothing.
        try:
            async with self._ports.order_lease.hold(self._order_id) as lease:
                if lease is None:
                    log.debug("start_ride.already_running")
                    return StartOutcome(StartResult.SKIPPED, SkipReason.ALREADY_RUNNING)
                return await self._run_holding(lease)
        except LeaseUnavailable as error:
            failure = StepFailed(StartStep.TAKE_LEASE, _cause(error))
            if not self._last_delivery:
                return self._ended_without_order(failure)
        # §3a The last delivery: no redelivery will decide, so the order is read without its
        # lease and the policy's row for the lease tells the app; no vendor is asked.
        return await self._run_holding(Lease(), unleased=failure)

    async def _run_holding(self, lease: Lease, unleased: StepFailed | None = None) -> StartOutcome:
        try:
            order = await self._ports.order_core.get_order(self._order_id, OrderIdType.EXACT)
        except UpstreamError as error:
            return self._ended_without_order(StepFailed(StartStep.READ_ORDER, _cause(error)))
        if not order.is_active:
            return self._skipped(order, SkipReason.ORDER_NOT_ACTIVE)
        route = meter_route(order, self._ports.router)
        if isinstance(route, NotEligible):
            return self._skipped(order, SkipReason(route))
        vendor, country = route.vendor.name, route.country
        self._record.vendor, self._record.country = vendor, country
        structlog.contextvars.bind_contextvars(vendor=route.vendor.name)
        if not route.vendor.can(Capability.START_RIDE):
            return StartOutcome(
                StartResult.SKIPPED, SkipReason.VENDOR_CANNOT_START, vendor, country
            )
        if order.alias_id is None or order.park_id is None or order.driver_profile_id is None:
            return StartOutcome(
                StartResult.SKIPPED, SkipReason.ORDER_WITHOUT_PERFORMER, vendor, country
            )
        launch = _MeterRideLaunch(
            order, route, self._ports, lease, self._last_delivery, self._record
        )
        if unleased is not None:
            return await launch.without_lease(unleased)
        return await launch.run()

    def _skipped(self, order: Order, reason: SkipReason) -> StartOutcome:
        log.debug("start_ride.skipped", reason=reason)
        country = self._ports.router.country_of(order.zone) or ""
        return StartOutcome(StartResult.SKIPPED, reason, country=country)

    def _ended_without_order(self, failure: StepFailed) -> StartOutcome:
        # Nothing can be sent without the order: the run ends, pending if its row says so (the
        # only other rows possible here are the lease's fallbacks, sent on the last delivery).
        reaction = _reaction(
            self._record, failure, Stage.NO_ORDER, last_delivery=self._last_delivery
        )
        return StartOutcome(
            StartResult.ENDED,
            failure.step.value,
            left_unacknowledged=reaction.leaves_unacknowledged,
        )


def _reaction(
    record: StartRecord, failure: StepFailed, stage: Stage, *, last_delivery: bool
) -> Reaction:
    """The one place a failure becomes its row's reaction: looked up where the run stands (the
    policy changes a row on the last delivery, §3a), and recorded."""
    reaction = reaction_to(failure.step, last_delivery=last_delivery, stage=stage)
    record.failed_steps.append(FailedStep(failure.step, failure.cause, reaction))
    log.debug(
        "start_ride.step_failed",
        step=failure.step.value,
        cause=failure.cause,
        reaction=reaction.name,
    )
    return reaction


@dataclass(frozen=True, slots=True)
class _ClaimedRide:
    ride_id: str
    claim: RideClaim


class _MeterRideLaunch:
    """Steps 3 to 8 for an order the meter flow applies to, holding the order's lease."""

    def __init__(
        self,
        order: Order,
        route: MeterRoute,
        ports: RidePorts,
        lease: Lease,
        last_delivery: bool,
        record: StartRecord,
    ) -> None:
        self._order = order
        self._route = route
        self._ports = ports
        self._lease = lease
        self._last_delivery = last_delivery
        self._record = record
        self._alias_id = order.alias_id or ""
        self._park_id = order.park_id or ""
        self._driver_profile_id = order.driver_profile_id or ""
        self._performer = RidePerformer(self._park_id, self._driver_profile_id, order.car_id or "")

    def _outcome(
        self, result: StartResult, reason: str, *, left_unacknowledged: bool = False
    ) -> StartOutcome:
        return StartOutcome(
            result, reason, self._route.vendor.name, self._route.country, left_unacknowledged
        )

    def _before_side_effect(self) -> None:
        """A run whose lease could not be renewed stops before its next side effect."""
        try:
            self._lease.ensure_held()
        except LeaseLost as error:
            raise StepFailed(StartStep.LEASE_LOST, _cause(error)) from error

    async def run(self) -> StartOutcome:
        stored = self._order.external_meter_ride_id
        if stored:
            # An earlier delivery of this task started the meter ride; only the app is left to
            # tell, if the ride was started for this driver and car.
            try:
                await self._ensure_started_for_this_performer(stored)
            except StepFailed as failure:
                return await self._after_failure(failure, None)
            log.debug("start_ride.already_started")
            return await self._tell_driver_app(StartResult.ALREADY_STARTED, "ok", running=True)
        ride: _ClaimedRide | None = None
        try:
            ride = await self._start_vendor_ride()
            if not ride.claim.belongs_to(self._order.order_id):
                self._report_stale(ride)
                raise StepFailed(StartStep.STALE_METER_RIDE, "claimed_by_another_order")
            await self._ensure_no_finish_came_first()
            stored_meanwhile = await self._store_ride_id(ride.ride_id)
        except StepFailed as failure:
            return await self._after_failure(failure, ride)
        if stored_meanwhile is not None:
            return await self._adopted_from_concurrent_delivery(ride, stored_meanwhile)
        try:
            await self._ensure_no_finish_came_first()
        except StepFailed as failure:
            # The order holds the ride now, so it is no orphan: a retried finish stops it.
            return await self._after_failure(failure, None)
        return await self._tell_driver_app(StartResult.STARTED, "ok", running=True)

    async def _ensure_no_finish_came_first(self) -> None:
        """§3a A finish before the start: checked before the vendor is asked, before the ride is
        stored and before the app is told it runs."""
        finished_first = self._ports.finished_first
        if await finished_first.came_first(self._route.vendor.name, self._alias_id):
            raise StepFailed(StartStep.FINISHED_FIRST, "finish_found_no_ride")

    async def without_lease(self, failure: StepFailed) -> StartOutcome:
        """The lease could not be taken: its row decides, and nothing is asked of the vendor."""
        return await self._after_failure(failure, None)

    async def _start_vendor_ride(self) -> _ClaimedRide:
        # A finish that came first needs no meter at all.
        await self._ensure_no_finish_came_first()
        fixed_price = self._order.fixed_price
        if fixed_price is None:
            raise StepFailed(StartStep.FIXED_PRICE, "order has no fixed price")
        try:
            async with asyncio.TaskGroup() as group:
                national_id = group.create_task(self._driver_national_id())
                permit = group.create_task(self._vehicle_permit())
        except* StepFailed as failures:
            raise failures.exceptions[0] from None
        ride_id = await self._vendor_ride(
            MeterRideStart(
                order_id=self._order.order_id,
                driver_national_id=national_id.result(),
                vehicle_permit=permit.result(),
                car_number=self._order.car_number or "",
                country=self._route.country,
                currency=self._route.country_settings.currency,
                price_limit=fixed_price,
            )
        )
        self._record.ride_id = ride_id
        log.debug("start_ride.vendor_started", ride_id=ride_id)
        # Claimed the moment the vendor answers, before anything is written (§3a).
        try:
            claim = await self._ports.ride_ledger.claim(
                self._route.vendor.name, ride_id, self._order.order_id, self._performer
            )
        except LedgerUnavailable as error:
            raise StepFailed(StartStep.CLAIM_RIDE, _cause(error)) from error
        return _ClaimedRide(ride_id, claim)

    async def _vendor_ride(self, ride: MeterRideStart) -> str:
        """The vendor's ride id (§3a "A start whose answer was lost").

        Before a vendor whose start is idempotent is asked, the driver is marked as awaiting
        this order's ride: a ride it makes is then held for this order even when its id never
        arrives here (a lost answer, a crash, the ledger out of reach), and the claim of the
        ride answered takes the mark away. A start whose answer was lost is asked once more
        where the policy says so; a start that surely made nothing lifts the mark again, if
        this run made it. A mark an earlier run of the order left stays: that run's start may
        have made a ride this run's failure says nothing about.
        """
        idempotent = self._route.vendor.can(Capability.IDEMPOTENT_START)
        marked_here = False
        if idempotent:
            self._before_side_effect()
            marked_here = await self._mark_start_in_flight()
        self._before_side_effect()
        try:
            return await self._ask_vendor_to_start(ride)
        except StepFailed as first:
            if not asks_start_again(first.answer_may_be_lost, idempotent):
                if marked_here:  # and the failure says this start made nothing
                    await self._lift_start_mark()
                elif idempotent:
                    # An earlier run's mark stays on the driver, this run's failure says
                    # nothing about the ride that run may have made.
                    self._record.unsettled_start_marked = True
                raise
            self._record.start_asked_again = first.cause
            log.debug("start_ride.vendor_asked_again", cause=first.cause)
        self._before_side_effect()
        try:
            return await self._ask_vendor_to_start(ride)
        except StepFailed:
            # Whatever the first start made is still unknown: the mark stays on the driver.
            self._record.unsettled_start_marked = True
            raise

    async def _ask_vendor_to_start(self, ride: MeterRideStart) -> str:
        vendor = self._route.vendor
        try:
            return await vendor.start_ride(ride)
        except VendorRefused as refusal:
            code = refusal_code(vendor, refusal)
            self._record.vendor_code = code
            log.debug("start_ride.vendor_refused", vendor_code=code)
            raise StepFailed(StartStep.VENDOR_REFUSED, refusal.reason) from None
        except VendorError as error:
            if isinstance(error, VendorRateLimited) and not error.may_have_taken_effect:
                step = rate_limited_start_step(vendor.can(Capability.IDEMPOTENT_START))
                raise StepFailed(step, error.reason) from None
            raise StepFailed(
                StartStep.VENDOR_START,
                error.reason,
                answer_may_be_lost=error.may_have_taken_effect,
            ) from None
        except Exception as error:  # a third-party vendor's bug must still end in a fallback
            self._record.vendor_crashes.append(error)
            # It may have failed reading an answer that carried a ride.
            raise StepFailed(
                StartStep.VENDOR_START, _cause(error), answer_may_be_lost=True
            ) from None

    async def _mark_start_in_flight(self) -> bool:
        """Whether this run made the driver's mark."""
        try:
            return await self._ports.ride_ledger.mark_unsettled_start(
                self._route.vendor.name, self._performer, self._order.order_id
            )
        except LedgerUnavailable as error:
            # Nothing was asked of the vendor yet: the redelivery decides. A mark that landed
            # unacknowledged is left: whether it was this run's or an earlier run's, whose ride
            # may exist, is unknown, and lifting the earlier one would let the driver's next
            # order claim that ride (the false positive §3a writes down is the safe side).
            raise StepFailed(StartStep.CLAIM_RIDE, _cause(error)) from error

    async def _lift_start_mark(self) -> None:
        try:
            await self._ports.ride_ledger.lift_unsettled_start(
                self._route.vendor.name, self._performer, self._order.order_id
            )
        except LedgerUnavailable as error:
            # The mark outlives its start: the driver's next unclaimed ride is held for this
            # order (the false positive §3a writes down).
            log.warning("start_ride.start_mark_not_lifted", cause=_cause(error))

    async def _ensure_started_for_this_performer(self, ride_id: str) -> None:
        """A stored ride is reused only for the order, driver and car it was started for: an
        order moved to another driver keeps the first driver's ride id (§3a)."""
        try:
            record = await self._ports.ride_ledger.record_of(self._route.vendor.name, ride_id)
        except LedgerUnavailable as error:
            raise StepFailed(StartStep.CLAIM_RIDE, _cause(error)) from error
        if record is None or (
            record.holder == self._order.order_id and record.performer == self._performer
        ):
            return
        log.warning(
            "start_ride.meter_ride_of_another_performer",
            ride_id=ride_id,
            detail="the order holds a ride started for another driver or car; it is left alone",
        )
        raise StepFailed(StartStep.RIDE_OF_ANOTHER_PERFORMER, "started_for_another_performer")

    def _report_stale(self, ride: _ClaimedRide) -> None:
        self._record.stale_meter_ride = True
        log.warning(
            "start_ride.stale_meter_ride",
            ride_id=ride.ride_id,
            holding_order_id=ride.claim.holder,
            detail="the vendor answered a ride another order holds; it is left alone",
        )

    async def _driver_national_id(self) -> NationalIdNumber:
        try:
            return await self._ports.identity.national_id_number(
                self._park_id,
                self._driver_profile_id,
                self._route.country_settings.id_document_type,
            )
        except UpstreamError as error:
            raise StepFailed(StartStep.DRIVER_NATIONAL_ID, _cause(error)) from error

    async def _vehicle_permit(self) -> str:
        if not self._order.car_id:
            raise StepFailed(StartStep.VEHICLE_PERMIT, "order_without_car")
        try:
            return await self._ports.vehicles.permit_number(self._park_id, self._order.car_id)
        except UpstreamError as error:
            raise StepFailed(StartStep.VEHICLE_PERMIT, _cause(error)) from error

    async def _store_ride_id(self, ride_id: str) -> str | None:
        """Store the ride id; None, or the ride id a concurrent delivery stored meanwhile."""
        try:
            try:
                await self._write_ride_id(ride_id)
            except OrderRevisionChanged:
                # The order moved on between our revision read and our write. A delivery that
                # lost its lease may have stored its ride; if not, the order changed for
                # another reason and one more write on the fresh revision is enough.
                stored = await self._stored_ride_id()
                if stored:
                    return stored
                await self._write_ride_id(ride_id)
        except UpstreamError as error:
            raise StepFailed(StartStep.STORE_RIDE_ID, _cause(error)) from error
        log.debug("start_ride.ride_id_stored", ride_id=ride_id)
        return None

    async def _write_ride_id(self, ride_id: str) -> None:
        order_core = self._ports.order_core
        revision = await order_core.get_revision(self._order.order_id)
        self._before_side_effect()
        await order_core.set_external_meter_ride_id(self._order.order_id, ride_id, revision)

    async def _stored_ride_id(self) -> str | None:
        order = await self._ports.order_core.get_order(self._order.order_id, OrderIdType.EXACT)
        return order.external_meter_ride_id

    async def _adopted_from_concurrent_delivery(
        self, ride: _ClaimedRide | None, stored: str
    ) -> StartOutcome:
        """The order holds a ride id another delivery stored: carry on to step 7 with it."""
        self._record.ride_id = stored
        log.debug("start_ride.ride_id_stored_meanwhile", ride_id=stored)
        if ride is not None and stored != ride.ride_id:
            # §3a: a ride is ended only when the order holds none; a person settles this one.
            log.warning("start_ride.orphaned_ride_left_running", ride_id=ride.ride_id)
        return await self._tell_driver_app(StartResult.ALREADY_STARTED, "ok", running=True)

    async def _after_failure(self, failure: StepFailed, ride: _ClaimedRide | None) -> StartOutcome:
        """A failure before the app is told: the run ends as its row says."""
        outcome = await self._react(failure, ride, Stage.BEFORE_TELLING)
        assert outcome is not None, "the policy allows no IGNORE before the app is told"
        return outcome

    async def _react(
        self,
        failure: StepFailed,
        ride: _ClaimedRide | None,
        stage: Stage,
        *,
        telling: StartOutcome | None = None,
    ) -> StartOutcome | None:
        """Carry out the failure's row: None to carry on (IGNORE, possible only while telling
        the app), else the outcome the run ends with. ``ride``: the ride this run was answered
        and the order may not hold; ``telling``: what the app was being told when its own
        channel failed."""
        reaction = _reaction(self._record, failure, stage, last_delivery=self._last_delivery)
        if reaction.carries_on:
            return None
        if reaction.leaves_unacknowledged:
            return self._outcome(StartResult.ENDED, failure.step.value, left_unacknowledged=True)
        if reaction.cancels_orphaned_ride and ride is not None:
            stored = await self._orphan_handled(ride)
            if stored is not None:
                return await self._adopted_from_concurrent_delivery(ride, stored)
        if reaction.falls_back:
            return await self._tell_driver_app(
                StartResult.FALLBACK, failure.step.value, running=False
            )
        if telling is not None and telling.result is StartResult.FALLBACK:
            return telling  # the app was asked to fall back: the fallback keeps its own reason
        # A started ride the app never heard of has ended.
        return self._outcome(StartResult.ENDED, failure.step.value)

    async def _orphan_handled(self, ride: _ClaimedRide) -> str | None:
        """§3a Orphans: the ride id the order holds after all, or None once the ride was dealt
        with as ``orphan_handling`` says."""
        try:
            stored = await self._stored_ride_id()
        except UpstreamError as error:
            log.warning(
                "start_ride.orphaned_ride_left_running", ride_id=ride.ride_id, cause=_cause(error)
            )
            return None
        handling = orphan_handling(
            self._route.vendor.capabilities,
            claim_was_new=ride.claim.new,
            order_holds_ride=bool(stored),
        )
        if handling is OrphanHandling.LEAVE_RUNNING:
            if stored:
                return stored
            log.warning("start_ride.orphaned_ride_left_running", ride_id=ride.ride_id)
            return None
        await self._end_orphaned_ride(ride.ride_id, handling)
        return None

    async def _end_orphaned_ride(self, ride_id: str, handling: OrphanHandling) -> None:
        vendor = self._route.vendor
        try:
            self._lease.ensure_held()
            if handling is OrphanHandling.CANCEL:
                await vendor.cancel_ride(ride_id)
            else:
                await vendor.stop_ride(self._closing(ride_id))
        except Exception as error:  # the fallback must happen whatever the cancel does
            log.warning(
                "start_ride.orphaned_ride_cancel_failed", ride_id=ride_id, cause=_cause(error)
            )
            return
        self._record.orphaned_ride_ended = ride_id
        log.debug("start_ride.orphaned_ride_cancelled", ride_id=ride_id)

    def _closing(self, ride_id: str) -> MeterRideFinish:
        return MeterRideFinish(
            order_id=self._order.order_id,
            ride_id=ride_id,
            car_number=self._order.car_number or "",
            country=self._route.country,
            currency=self._route.country_settings.currency,
            price=self._order.fixed_price or Decimal(0),
            payment_method=PaymentMethod.CASH if self._order.is_cash else PaymentMethod.APP,
        )

    async def _tell_driver_app(
        self, result: StartResult, reason: str, *, running: bool
    ) -> StartOutcome:
        """Steps 7 and 8 (or the fallback's own setcar and push), under the same policy."""
        telling = self._outcome(result, reason)
        try:
            self._before_side_effect()
            try:
                await self._ports.driver_app.set_external_meter_run(
                    self._alias_id, self._park_id, self._driver_profile_id, running=running
                )
            except UpstreamError as error:
                failure = StepFailed(StartStep.SETCAR, _cause(error))
                ended = await self._react(failure, None, Stage.TELLING_APP, telling=telling)
                if ended is not None:
                    return ended
            else:
                log.debug("start_ride.setcar_updated", running=running)
            self._before_side_effect()
            try:
                await self._ports.driver_app.force_polling_order(
                    self._park_id, self._driver_profile_id
                )
            except UpstreamError as error:
                failure = StepFailed(StartStep.PUSH, _cause(error))
                ended = await self._react(failure, None, Stage.TELLING_APP, telling=telling)
                if ended is not None:
                    return ended
            else:
                log.debug("start_ride.push_sent")
        except StepFailed as lease_lost:
            # Not the app's channel that failed: another run may hold the order now, so even a
            # fallback being told ends here.
            ended = await self._react(lease_lost, None, Stage.TELLING_APP)
            if ended is not None:
                return ended
        return telling
