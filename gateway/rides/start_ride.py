"""The start-ride task's flow (DESIGN §3): start the meter ride and tell the driver app.

Steps raise StepFailed; what a failure leads to is decided only by
``fallback_policy``. The task never raises to be retried: a vendor is called
at most once per run, and a redelivered task finds the stored ride id and
does not start a second meter ride.
"""

import asyncio
import time
from dataclasses import dataclass
from enum import StrEnum

import structlog

from gateway.broker.delivery import redelivered_label
from gateway.metrics import RIDES_STARTED, START_RIDE_STEP_FAILURES, START_RIDE_TASK_DURATION
from gateway.observability.crash_site import crash_site
from gateway.platform.errors import UpstreamError
from gateway.platform.order import Order, OrderIdType
from gateway.platform.order_core import OrderRevisionChanged
from gateway.plugins.meter_vendor import Capability, MeterRideStart, NationalIdNumber
from gateway.plugins.vendor_errors import VendorError
from gateway.rides.eligibility import NotEligible, meter_route
from gateway.rides.fallback_policy import Reaction, StartStep, reaction_to
from gateway.routing import MeterRoute
from gateway.services import Services

log = structlog.get_logger("gateway.start_ride")

UNEXPECTED_ERROR = "unexpected_error"


class StartResult(StrEnum):
    STARTED = "started"
    ALREADY_STARTED = "already_started"
    FALLBACK = "fallback"
    SKIPPED = "skipped"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class StartOutcome:
    result: StartResult
    reason: str
    vendor: str = ""
    country: str = ""


class StepFailed(Exception):
    def __init__(self, step: StartStep, cause: str) -> None:
        super().__init__(f"{step.value}: {cause}")
        self.step = step
        self.cause = cause


def _cause(error: Exception) -> str:
    if isinstance(error, UpstreamError):
        return f"{error.service}_{error.reason}"
    if isinstance(error, VendorError):
        return error.reason
    return "unexpected_" + type(error).__name__


async def start_ride(order_id: str, services: Services) -> StartOutcome:
    """Run the whole task for one order and record its outcome; never raises for a failed step."""
    started = time.perf_counter()
    try:
        outcome = await _StartRide(order_id, services).run()
    except Exception as error:  # a bug must still be counted and logged, not lost in taskiq
        log.error("start_ride.crashed", **crash_site(error))
        outcome = StartOutcome(StartResult.ENDED, UNEXPECTED_ERROR)
    START_RIDE_TASK_DURATION.labels(outcome.result, redelivered_label()).observe(
        time.perf_counter() - started
    )
    RIDES_STARTED.labels(outcome.vendor, outcome.country, outcome.result, outcome.reason).inc()
    log.info(
        "start_ride.finished",
        result=outcome.result.value,
        reason=outcome.reason,
        vendor=outcome.vendor,
        country=outcome.country,
    )
    return outcome


class _StartRide:
    def __init__(self, order_id: str, services: Services) -> None:
        self._order_id = order_id
        self._services = services

    async def run(self) -> StartOutcome:
        try:
            order = await self._services.order_core.get_order(self._order_id, OrderIdType.EXACT)
        except UpstreamError as error:
            # Without the order there is no driver app to tell: the task can only end.
            failure = StepFailed(StartStep.READ_ORDER, _cause(error))
            _record_failure(failure, vendor="", country="")
            return StartOutcome(StartResult.ENDED, failure.step.value)
        route = meter_route(order, self._services.router)
        if isinstance(route, NotEligible):
            return self._skipped(order, route.value)
        labels = {"vendor": route.vendor.name, "country": route.country}
        structlog.contextvars.bind_contextvars(vendor=route.vendor.name)
        if not route.vendor.can(Capability.START_RIDE):
            return StartOutcome(StartResult.SKIPPED, "vendor_cannot_start", **labels)
        if order.alias_id is None or order.park_id is None or order.driver_profile_id is None:
            return StartOutcome(StartResult.SKIPPED, "order_without_performer", **labels)
        return await _MeterRideLaunch(order, route, self._services).run()

    def _skipped(self, order: Order, reason: str) -> StartOutcome:
        country = self._services.router.country_of(order.zone) or ""
        return StartOutcome(StartResult.SKIPPED, reason, country=country)


class _MeterRideLaunch:
    """Steps 3 to 8 for an order the meter flow applies to."""

    def __init__(self, order: Order, route: MeterRoute, services: Services) -> None:
        self._order = order
        self._route = route
        self._services = services
        self._alias_id = order.alias_id or ""
        self._park_id = order.park_id or ""
        self._driver_profile_id = order.driver_profile_id or ""

    def _outcome(self, result: StartResult, reason: str) -> StartOutcome:
        return StartOutcome(result, reason, self._route.vendor.name, self._route.country)

    async def run(self) -> StartOutcome:
        if self._order.external_meter_ride_id:
            # An earlier delivery of this task started the meter ride; only the app is left to tell.
            log.info("start_ride.already_started")
            return await self._tell_driver_app(StartResult.ALREADY_STARTED, "ok", running=True)
        ride_id: str | None = None
        try:
            ride_id = await self._start_vendor_ride()
            stored_ride_id = await self._store_ride_id(ride_id)
        except StepFailed as failure:
            return await self._after_failure(failure, ride_id)
        if stored_ride_id != ride_id:
            await self._cancel_orphaned_ride(ride_id)
        return await self._tell_driver_app(StartResult.STARTED, "ok", running=True)

    async def _start_vendor_ride(self) -> str:
        fixed_price = self._order.fixed_price
        if fixed_price is None:
            raise StepFailed(StartStep.FIXED_PRICE, "order has no fixed price")
        try:
            async with asyncio.TaskGroup() as group:
                national_id = group.create_task(self._driver_national_id())
                permit = group.create_task(self._vehicle_permit())
        except* StepFailed as failures:
            raise failures.exceptions[0] from None
        vendor = self._route.vendor
        try:
            ride_id = await vendor.start_ride(
                MeterRideStart(
                    order_id=self._order.order_id,
                    driver_national_id=national_id.result(),
                    vehicle_permit=permit.result(),
                    price_limit=fixed_price,
                )
            )
        except Exception as error:  # a third-party vendor's bug must still end in a fallback
            if not isinstance(error, VendorError):
                log.error("start_ride.vendor_crashed", **crash_site(error))
            raise StepFailed(StartStep.VENDOR_START, _cause(error)) from None
        log.info("start_ride.vendor_started", ride_id=ride_id)
        return ride_id

    async def _driver_national_id(self) -> NationalIdNumber:
        try:
            pd_id = await self._services.driver_profiles.national_id_pd_id(
                self._park_id,
                self._driver_profile_id,
                self._route.country_settings.id_document_type,
            )
            return await self._services.personal.national_id_number(pd_id)
        except UpstreamError as error:
            raise StepFailed(StartStep.DRIVER_NATIONAL_ID, _cause(error)) from error

    async def _vehicle_permit(self) -> str:
        if not self._order.car_id:
            raise StepFailed(StartStep.VEHICLE_PERMIT, "order_without_car")
        try:
            return await self._services.fleet_vehicles.permit_number(
                self._park_id, self._order.car_id
            )
        except UpstreamError as error:
            raise StepFailed(StartStep.VEHICLE_PERMIT, _cause(error)) from error

    async def _store_ride_id(self, ride_id: str) -> str:
        """Store the ride id; answer the ride id the order holds afterwards."""
        try:
            try:
                await self._write_ride_id(ride_id)
            except OrderRevisionChanged:
                # The order moved on between our revision read and our write. A simultaneous
                # delivery of this task may have stored its ride (the vendor's idempotent start
                # makes it the same ride); if not, the order changed for another reason and
                # one more write on the fresh revision is enough.
                stored = await self._stored_ride_id()
                if stored:
                    log.info("start_ride.ride_id_stored_meanwhile", ride_id=stored)
                    return stored
                await self._write_ride_id(ride_id)
        except UpstreamError as error:
            raise StepFailed(StartStep.STORE_RIDE_ID, _cause(error)) from error
        log.info("start_ride.ride_id_stored", ride_id=ride_id)
        return ride_id

    async def _write_ride_id(self, ride_id: str) -> None:
        order_core = self._services.order_core
        revision = await order_core.get_revision(self._order.order_id)
        await order_core.set_external_meter_ride_id(self._order.order_id, ride_id, revision)

    async def _stored_ride_id(self) -> str | None:
        order = await self._services.order_core.get_order(self._order.order_id, OrderIdType.EXACT)
        return order.external_meter_ride_id

    def _record(self, failure: StepFailed) -> Reaction:
        return _record_failure(failure, self._route.vendor.name, self._route.country)

    async def _after_failure(self, failure: StepFailed, ride_id: str | None) -> StartOutcome:
        reaction = self._record(failure)
        if reaction.cancels_orphaned_ride and ride_id is not None:
            await self._cancel_orphaned_ride(ride_id)
        if reaction.falls_back:
            return await self._tell_driver_app(
                StartResult.FALLBACK, failure.step.value, running=False
            )
        return self._outcome(StartResult.ENDED, failure.step.value)

    async def _cancel_orphaned_ride(self, ride_id: str) -> None:
        vendor = self._route.vendor
        if not vendor.can(Capability.CANCEL_RIDE):
            log.warning("start_ride.orphaned_ride_left_running", ride_id=ride_id)
            return
        try:
            await vendor.cancel_ride(ride_id)
        except Exception as error:  # the fallback must happen whatever the cancel does
            log.warning(
                "start_ride.orphaned_ride_cancel_failed", ride_id=ride_id, cause=_cause(error)
            )
            return
        log.info("start_ride.orphaned_ride_cancelled", ride_id=ride_id)

    async def _tell_driver_app(
        self, result: StartResult, reason: str, *, running: bool
    ) -> StartOutcome:
        """Steps 7 and 8 (or the fallback's own setcar and push), under the same policy."""
        try:
            await self._services.driver_orders_builder.set_external_meter_run(
                self._alias_id, self._park_id, self._driver_profile_id, running=running
            )
        except UpstreamError as error:
            if not self._record(StepFailed(StartStep.SETCAR, _cause(error))).carries_on:
                # A fallback keeps its own reason; a started ride the app never heard of has ended.
                if result is not StartResult.FALLBACK:
                    result, reason = StartResult.ENDED, StartStep.SETCAR.value
                return self._outcome(result, reason)
        else:
            log.info("start_ride.setcar_updated", running=running)
        try:
            await self._services.client_notify.force_polling_order(
                self._park_id, self._driver_profile_id
            )
        except UpstreamError as error:
            # Nothing follows the push, so carrying on and ending come to the same thing.
            self._record(StepFailed(StartStep.PUSH, _cause(error)))
        else:
            log.info("start_ride.push_sent")
        return self._outcome(result, reason)


def _record_failure(failure: StepFailed, vendor: str, country: str) -> Reaction:
    reaction = reaction_to(failure.step)
    START_RIDE_STEP_FAILURES.labels(vendor, country, failure.step.value, failure.cause).inc()
    log.warning(
        "start_ride.step_failed",
        step=failure.step.value,
        cause=failure.cause,
        reaction=reaction.name,
    )
    return reaction
