"""The finish-ride flow (docs/design.md §4): check the order, stop the meter, check its price.

Every refusal is a FinishRideRefused whose code the situation's row of ``finish_policy``
gives; no vendor is called before all the order checks pass. Only then is the
replay consulted (§4 Retries): a repeat of a request priced within
``server.finish_ride_replay_s`` (the same order, driver, car and prices) is answered its price
again without a vendor call, and concurrent ones share one set of vendor calls
(``gateway.coordination.finish_replay``).
"""

from dataclasses import dataclass
from decimal import Decimal

import structlog

from gateway.observability.canonical_line import annotate_line
from gateway.observability.crash_site import crash_site
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
from gateway.rides.finish_policy import FINISH_RIDE_POLICY, FinishSituation
from gateway.rides.order import Order, OrderIdType
from gateway.rides.ports import LedgerUnavailable, ReplayKey, RidePerformer, RidePorts
from gateway.rides.routing import MeterRoute

log = structlog.get_logger("gateway.finish_ride")


@dataclass(frozen=True, slots=True)
class FinishRideRequest:
    alias_id: str
    user_price: Decimal
    driver_price: Decimal
    park_id: str
    driver_profile_id: str


class FinishRideRefused(Exception):
    """A refusal of the flow: the situation it met, the code the policy table gives that, and
    the message the caller gets."""

    def __init__(self, situation: FinishSituation, message: str) -> None:
        super().__init__(message)
        self.situation = situation
        self.refusal = FINISH_RIDE_POLICY[situation]
        self.message = message


class FinishRide:
    """One finish-ride request; ``vendor`` and ``country`` are known once the order is routed."""

    def __init__(self, request: FinishRideRequest, ports: RidePorts) -> None:
        self._request = request
        self._ports = ports
        self.vendor = ""
        self.country = ""
        self.replayed = False
        """The price was answered without this request calling the vendor."""

    async def run(self) -> Decimal:
        # The driver app knows the order by its alias id, and order-core answers with no other.
        structlog.contextvars.bind_contextvars(alias_id=self._request.alias_id)
        order = await self._read_order()
        route = self._route(order)
        self.vendor, self.country = route.vendor.name, route.country
        structlog.contextvars.bind_contextvars(vendor=self.vendor)
        ride = self._checked_ride(order, route)
        if route.vendor.can(Capability.START_RIDE) and ride.ride_id is None:
            # Its start may still land: the mark keeps it from storing or announcing (§3a).
            finished_first = self._ports.finished_first
            await finished_first.record(self.vendor, self._request.alias_id)
            raise FinishRideRefused(
                FinishSituation.NO_METER_RIDE, "no meter ride was started for this order"
            )
        if ride.ride_id is not None:
            await self._ensure_started_for_this_performer(order, ride.ride_id)
        key = ReplayKey(
            vendor=self.vendor,
            # Read by alias id, the order is known by it; with the performer it names one ride.
            order_id=order.order_id,
            park_id=self._request.park_id,
            driver_profile_id=self._request.driver_profile_id,
            # The car and the prices as this request and the order hold them now: a replayed
            # price answers only a repeat of the request it was priced for.
            car_id=order.car_id or "",
            car_number=ride.car_number,
            user_price=self._request.user_price,
            driver_price=self._request.driver_price,
            fixed_price=ride.price,
        )
        priced = await self._ports.finish_replay.price_once(key, lambda: self._priced(route, ride))
        if priced.replayed:
            log.debug("finish_ride.replayed")
        self.replayed = priced.replayed
        return priced.price

    async def _priced(self, route: MeterRoute, ride: MeterRideFinish) -> Decimal:
        """The vendor calls and the checks of their answer: a price, or a refusal."""
        reading = await self._stop_and_read(route, ride)
        price = self._plausible_price(reading, route, ride.price)
        if route.country_settings.dry_run:
            raise FinishRideRefused(
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
            raise FinishRideRefused(FinishSituation.ORDER_NOT_FOUND, "no such order") from None
        except UpstreamTimeout as error:
            raise FinishRideRefused(FinishSituation.ORDER_CORE_TIMEOUT, str(error)) from error
        except UpstreamError as error:
            raise FinishRideRefused(FinishSituation.ORDER_CORE_ERROR, str(error)) from error
        # Another driver's order is answered exactly as a missing one, so ids cannot be probed.
        if not order.performed_by(self._request.park_id, self._request.driver_profile_id):
            raise FinishRideRefused(FinishSituation.ORDER_NOT_FOUND, "no such order")
        return order

    def _route(self, order: Order) -> MeterRoute:
        route = meter_route(order, self._ports.router)
        if isinstance(route, NotEligible):
            self.country = self._ports.router.country_of(order.zone) or ""
            raise FinishRideRefused(
                FinishSituation.NOT_ELIGIBLE, f"smart meter not enabled: {route.value}"
            )
        return route

    def _checked_ride(self, order: Order, route: MeterRoute) -> MeterRideFinish:
        request = self._request
        if request.user_price != request.driver_price:
            raise FinishRideRefused(
                FinishSituation.PRICES_DIFFER, "user_price differs from driver_price"
            )
        if order.fixed_price is None or request.user_price != order.fixed_price:
            raise FinishRideRefused(
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
            record = await self._ports.ride_ledger.record_of(self.vendor, ride_id)
        except LedgerUnavailable as error:
            raise FinishRideRefused(
                FinishSituation.RIDE_LEDGER_UNAVAILABLE, "whom the meter ride belongs to is unknown"
            ) from error
        if record is not None and record.performer != performer:
            log.warning(
                "finish_ride.meter_ride_of_another_performer",
                ride_id=ride_id,
                detail="the order holds a ride started for another driver or car",
            )
            raise FinishRideRefused(
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
            # The detail (never an id number or a token: vendor_errors) stays in our log.
            annotate_line(vendor_failure=error.reason, vendor_detail=str(error))
            log.debug("finish_ride.vendor_failed", cause=error.reason, detail=str(error))
            situation = (
                FinishSituation.VENDOR_TIMEOUT
                if isinstance(error, VendorTimeout)
                else FinishSituation.VENDOR_ERROR
            )
            # The driver app gets the reason only.
            raise FinishRideRefused(situation, f"{route.vendor.name}: {error.reason}") from error
        except Exception as error:  # a vendor plugin's bug is still the vendor's failure
            log.error("finish_ride.vendor_crashed", **crash_site(error))
            raise FinishRideRefused(
                FinishSituation.VENDOR_CRASHED, "vendor plugin failed"
            ) from None

    def _plausible_price(
        self, reading: MeterReading, route: MeterRoute, fixed_price: Decimal
    ) -> Decimal:
        if reading.state is not MeterRideState.COMPLETED:
            raise FinishRideRefused(
                FinishSituation.METER_RIDE_NOT_COMPLETED, f"meter ride is {reading.state.value}"
            )
        price = reading.price
        if price is None:
            raise FinishRideRefused(
                FinishSituation.COMPLETED_WITHOUT_PRICE,
                f"{route.vendor.name}: completed ride has no price",
            )
        band = route.country_settings
        if not (fixed_price * band.min_price_ratio <= price <= fixed_price * band.max_price_ratio):
            raise FinishRideRefused(
                FinishSituation.PRICE_OUTSIDE_BAND,
                f"meter price {price} is outside [{band.min_price_ratio}, "
                f"{band.max_price_ratio}] x {fixed_price}",
            )
        return price
