"""The finish-ride flow (docs/design.md §4): check the order, stop the meter, check its price.

``finish_ride`` answers a ``FinishOutcome``: the price, or the refusal whose code the situation's
row of ``finish_policy`` gives, with what the adapter counts and records (the vendor, the
country, a vendor's failure or its plugin's crash). No vendor is called before all the order
checks pass. Only then is the replay consulted (§4 Retries): a repeat of a request priced within
``server.finish_ride_replay_s`` (the same order, driver, car and prices) is answered its price
again without a vendor call, and concurrent ones share one set of vendor calls
(``gateway.coordination.finish_replay``).
"""

import asyncio
from dataclasses import dataclass
from decimal import Decimal

import structlog

from gateway.plugins.meter_vendor import (
    Capability,
    MeterReading,
    MeterRideFinish,
    MeterRideState,
    PaymentMethod,
)
from gateway.plugins.vendor_errors import VendorError, VendorTimeout
from gateway.rides.eligibility import NotEligible, meter_route
from gateway.rides.errors import OrderNotFound, UpstreamError, UpstreamTimeout
from gateway.rides.finish_policy import FINISH_RIDE_POLICY, FinishRefusal, FinishSituation
from gateway.rides.order import Order, OrderIdType
from gateway.rides.ports import LedgerUnavailable, Priced, ReplayKey, RidePerformer, RidePorts
from gateway.rides.routing import MeterRoute

log = structlog.get_logger("gateway.finish_ride")


@dataclass(frozen=True, slots=True)
class FinishRideRequest:
    alias_id: str
    user_price: Decimal
    driver_price: Decimal
    park_id: str
    driver_profile_id: str


@dataclass(frozen=True, slots=True)
class FinishDeadline:
    """When the driver stops waiting (event-loop time), and the budget that set it."""

    at: float
    budget_ms: int

    @classmethod
    def after(cls, budget_ms: int) -> "FinishDeadline":
        return cls(asyncio.get_running_loop().time() + budget_ms / 1000, budget_ms)


@dataclass(frozen=True, slots=True)
class Refused:
    refusal: FinishRefusal
    message: str
    """What the driver app is told: never a vendor's detail (that is ``VendorFailure``'s)."""


@dataclass(frozen=True, slots=True)
class VendorFailure:
    """A vendor call of this request failed: why (its reason) and how (its detail, never an id
    number or a token: vendor_errors). Both are for our log; the app is told the reason only."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class FinishOutcome:
    """What one finish-ride request came to, for the adapter to count, record and answer."""

    answer: Priced | Refused
    vendor: str = ""
    """Known once the order is routed."""
    country: str = ""
    """Known once the order is routed, or when it is refused as not eligible in a known zone."""
    vendor_failure: VendorFailure | None = None
    vendor_crash: Exception | None = None
    """The vendor plugin raised this in this request's call: a bug of the plugin's, which the
    adapter logs with where it was raised."""


async def finish_ride(
    request: FinishRideRequest, ports: RidePorts, deadline: FinishDeadline
) -> FinishOutcome:
    """Run one finish-ride request to its outcome; past ``deadline`` it is refused, whatever
    call it was waiting on (§4: the whole request passed ``server.finish_ride_deadline_ms``)."""
    return await _FinishRide(request, ports).run(deadline)


class _Refused(Exception):
    """The flow met a refusal's situation: unwinds to ``run``, which answers it. The replay
    (``FinishReplay.price_once``) hands it to every request that shared the vendor calls."""

    def __init__(self, situation: FinishSituation, message: str) -> None:
        super().__init__(message)
        self.situation = situation
        self.message = message


class _FinishRide:
    def __init__(self, request: FinishRideRequest, ports: RidePorts) -> None:
        self._request = request
        self._ports = ports
        self._vendor = ""
        self._country = ""
        # Only the request that made the vendor calls records how they failed: the ones that
        # shared them get the refusal alone, so a failure is counted and logged once.
        self._vendor_failure: VendorFailure | None = None
        self._vendor_crash: Exception | None = None

    async def run(self, deadline: FinishDeadline) -> FinishOutcome:
        answer: Priced | Refused
        try:
            async with asyncio.timeout_at(deadline.at) as budget:
                answer = await self._price()
        except _Refused as refused:
            answer = Refused(FINISH_RIDE_POLICY[refused.situation], refused.message)
        except TimeoutError:
            if not budget.expired():
                # Not our deadline: a timeout below that no client turned into its error, a
                # bug, for the caller to answer as one (never a driver told the deadline passed).
                raise
            answer = Refused(
                FINISH_RIDE_POLICY[FinishSituation.DEADLINE_PASSED],
                f"finish-ride passed its {deadline.budget_ms} ms deadline",
            )
        return FinishOutcome(
            answer, self._vendor, self._country, self._vendor_failure, self._vendor_crash
        )

    async def _price(self) -> Priced:
        # The driver app knows the order by its alias id, and order-core answers with no other.
        structlog.contextvars.bind_contextvars(alias_id=self._request.alias_id)
        order = await self._read_order()
        route = self._route(order)
        self._vendor, self._country = route.vendor.name, route.country
        structlog.contextvars.bind_contextvars(vendor=self._vendor)
        ride = self._checked_ride(order, route)
        if route.vendor.can(Capability.START_RIDE) and ride.ride_id is None:
            # Its start may still land: the mark keeps it from storing or announcing (§3a).
            finished_first = self._ports.finished_first
            await finished_first.record(self._vendor, self._request.alias_id)
            raise _Refused(
                FinishSituation.NO_METER_RIDE, "no meter ride was started for this order"
            )
        if ride.ride_id is not None:
            await self._ensure_started_for_this_performer(order, ride.ride_id)
        key = ReplayKey(
            vendor=self._vendor,
            # Read by alias id, the order is known by it; with the performer it names one ride.
            order_id=order.order_id,
            park_id=self._request.park_id,
            driver_profile_id=self._request.driver_profile_id,
            # The car and the price as this request and the order hold them now: a replayed
            # price answers only a repeat of the request it was priced for.
            car_id=order.car_id or "",
            car_number=ride.car_number,
            price=ride.price,
        )
        priced = await self._ports.finish_replay.price_once(key, lambda: self._priced(route, ride))
        if priced.replayed:
            log.debug("finish_ride.replayed")
        return priced

    async def _priced(self, route: MeterRoute, ride: MeterRideFinish) -> Decimal:
        """The vendor calls and the checks of their answer: a price, or a refusal."""
        reading = await self._stop_and_read(route, ride)
        price = self._plausible_price(reading, route, ride.price)
        if route.country_settings.dry_run:
            raise _Refused(
                FinishSituation.DRY_RUN,
                f"dry run: the meter said {price}, the app keeps its own price",
            )
        return price

    async def _read_order(self) -> Order:
        try:
            order = await self._ports.order_core.get_order(
                self._request.alias_id, OrderIdType.ALIAS
            )
        except OrderNotFound:
            raise _Refused(FinishSituation.ORDER_NOT_FOUND, "no such order") from None
        except UpstreamTimeout as error:
            raise _Refused(FinishSituation.ORDER_CORE_TIMEOUT, str(error)) from error
        except UpstreamError as error:
            raise _Refused(FinishSituation.ORDER_CORE_ERROR, str(error)) from error
        # Another driver's order is answered exactly as a missing one, so ids cannot be probed.
        if not order.performed_by(self._request.park_id, self._request.driver_profile_id):
            raise _Refused(FinishSituation.ORDER_NOT_FOUND, "no such order")
        return order

    def _route(self, order: Order) -> MeterRoute:
        route = meter_route(order, self._ports.router)
        if isinstance(route, NotEligible):
            self._country = self._ports.router.country_of(order.zone) or ""
            raise _Refused(FinishSituation.NOT_ELIGIBLE, f"smart meter not enabled: {route.value}")
        return route

    def _checked_ride(self, order: Order, route: MeterRoute) -> MeterRideFinish:
        request = self._request
        if request.user_price != request.driver_price:
            raise _Refused(FinishSituation.PRICES_DIFFER, "user_price differs from driver_price")
        if order.fixed_price is None or request.user_price != order.fixed_price:
            raise _Refused(
                FinishSituation.FIXED_PRICE_MISMATCH, "price differs from the order's fixed price"
            )
        return MeterRideFinish(
            order_id=order.order_id,
            ride_id=order.external_meter_ride_id,
            car_number=order.car_number or "",
            country=route.country,
            currency=route.country_settings.currency,
            price=order.fixed_price,
            payment_method=PaymentMethod.CASH if order.is_cash else PaymentMethod.APP,
        )

    async def _ensure_started_for_this_performer(self, order: Order, ride_id: str) -> None:
        """A ride is stopped only for the driver and car it was started for (§3a): an order
        moved to another driver keeps the first driver's ride id, and stopping it would answer
        the first driver's meter."""
        performer = RidePerformer(
            self._request.park_id, self._request.driver_profile_id, order.car_id or ""
        )
        try:
            record = await self._ports.ride_ledger.record_of(self._vendor, ride_id)
        except LedgerUnavailable as error:
            raise _Refused(
                FinishSituation.RIDE_LEDGER_UNAVAILABLE, "whom the meter ride belongs to is unknown"
            ) from error
        if record is not None and record.performer != performer:
            log.warning(
                "finish_ride.meter_ride_of_another_performer",
                ride_id=ride_id,
                detail="the order holds a ride started for another driver or car",
            )
            raise _Refused(
                FinishSituation.RIDE_OF_ANOTHER_PERFORMER,
                "no meter ride was started for this driver and car",
            )

    async def _stop_and_read(self, route: MeterRoute, ride: MeterRideFinish) -> MeterReading:
        try:
            reading = await route.vendor.stop_ride(ride)
            log.debug("finish_ride.vendor_stopped")
            # A vendor whose stop answers the final price is not asked again.
            return reading if reading is not None else await route.vendor.get_price(ride)
        except VendorError as error:
            self._vendor_failure = VendorFailure(error.reason, str(error))
            log.debug("finish_ride.vendor_failed", cause=error.reason, detail=str(error))
            situation = (
                FinishSituation.VENDOR_TIMEOUT
                if isinstance(error, VendorTimeout)
                else FinishSituation.VENDOR_ERROR
            )
            # The driver app gets the reason only.
            raise _Refused(situation, f"{route.vendor.name}: {error.reason}") from error
        except Exception as error:  # a vendor plugin's bug is still the vendor's failure
            self._vendor_crash = error
            raise _Refused(FinishSituation.VENDOR_CRASHED, "vendor plugin failed") from None

    def _plausible_price(
        self, reading: MeterReading, route: MeterRoute, fixed_price: Decimal
    ) -> Decimal:
        if reading.state is not MeterRideState.COMPLETED:
            raise _Refused(
                FinishSituation.METER_RIDE_NOT_COMPLETED, f"meter ride is {reading.state.value}"
            )
        price = reading.price
        if price is None:
            raise _Refused(
                FinishSituation.COMPLETED_WITHOUT_PRICE,
                f"{route.vendor.name}: completed ride has no price",
            )
        band = route.country_settings
        if not (fixed_price * band.min_price_ratio <= price <= fixed_price * band.max_price_ratio):
            raise _Refused(
                FinishSituation.PRICE_OUTSIDE_BAND,
                f"meter price {price} is outside [{band.min_price_ratio}, "
                f"{band.max_price_ratio}] x {fixed_price}",
            )
        return price
