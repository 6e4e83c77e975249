"""A stand-in for Monitex's meter-rides API (docs/design.md §7), for tests and the sandbox.

Rides live in memory. A new ride is running at once, or, with ``start_pending_polls=N``, stays
PENDING until the N-th ``GET /rides/{rideId}``, which is the first to see it IN_PROGRESS. A
``pending_forever`` fault on ``POST /ride`` makes the rides it starts never leave PENDING.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway.plugins import (
    BadRequest,
    Simulator,
    applied_fault,
    bearer_auth,
    control_json,
    expect_number,
    expect_object,
    expect_str,
    read_json,
)

STARTED = 201
ACCEPTED_PENDING = 206
PAYMENT_METHODS = ("CASH", "APP")


class RideState(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(slots=True)
class MonitexRide:
    id: str
    driver_id: str
    vehicle_license: str
    price_limit: float
    state: RideState
    polls_until_running: int | None
    """GETs left before a PENDING ride runs; None: it never does."""
    payment_method: str | None = None
    total_price: int = 0
    """Agorot; the meter's final price once the ride is COMPLETED."""

    @property
    def is_open(self) -> bool:
        return self.state is not RideState.COMPLETED

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "driverId": self.driver_id,
            "state": self.state,
            "totalPrice": self.total_price,
        }


class MonitexSimulator(Simulator):
    name = "monitex"

    def __init__(self, token: str, start_pending_polls: int = 0) -> None:
        if start_pending_polls < 0:
            raise ValueError("start_pending_polls must not be negative")
        super().__init__()
        self.token = token
        self.start_pending_polls = start_pending_polls
        self.rides: dict[str, MonitexRide] = {}
        self._meter_prices: dict[str, int] = {}

    def set_meter_price(self, vehicle_license: str, agorot: int) -> None:
        """The price the meter of that vehicle shows when its ride stops (else the price limit)."""
        self._meter_prices[vehicle_license] = agorot

    def guards(self) -> list[Middleware]:
        return [bearer_auth(self.token, lambda: _error(401, "invalid or missing bearer token"))]

    def bad_request(self, message: str) -> web.Response:
        return _error(400, message)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/ride", self._start)
        router.add_get("/rides/{rideId}", self._get)
        router.add_put("/rides/{rideId}", self._stop)
        router.add_post("/_sim/meter-price", self._seed_meter_price)
        router.add_get("/_sim/rides", self._show_rides)

    async def _start(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        driver_id = expect_str(body, "driverId")
        vehicle_license = expect_str(body, "vehicleLicense")
        price_limit = expect_number(body, "priceLimit")
        ride = next(
            (
                ride
                for ride in self.rides.values()
                if ride.is_open
                and (ride.driver_id == driver_id or ride.vehicle_license == vehicle_license)
            ),
            None,
        )
        if ride is None:
            fault = applied_fault(request)
            ride = self._new_ride(
                driver_id,
                vehicle_license,
                price_limit,
                pending_forever=fault is not None and fault.pending_forever,
            )
        if ride.state is RideState.PENDING:
            return web.json_response(
                {"status": "PENDING", "rideId": ride.id}, status=ACCEPTED_PENDING
            )
        return web.json_response({"status": "OK", "rideId": ride.id}, status=STARTED)

    def _new_ride(
        self, driver_id: str, vehicle_license: str, price_limit: float, *, pending_forever: bool
    ) -> MonitexRide:
        polls = None if pending_forever else self.start_pending_polls
        ride = MonitexRide(
            id=str(uuid.uuid4()),
            driver_id=driver_id,
            vehicle_license=vehicle_license,
            price_limit=price_limit,
            state=RideState.IN_PROGRESS if polls == 0 else RideState.PENDING,
            polls_until_running=polls,
        )
        self.rides[ride.id] = ride
        return ride

    async def _get(self, request: web.Request) -> web.Response:
        ride = self.rides.get(request.match_info["rideId"])
        if ride is None:
            return _error(404, "no such ride")
        if ride.state is RideState.PENDING and ride.polls_until_running is not None:
            ride.polls_until_running -= 1
            if ride.polls_until_running <= 0:
                ride.state = RideState.IN_PROGRESS
        return web.json_response(ride.to_json())

    async def _stop(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        if body.get("state") != RideState.COMPLETED:
            raise BadRequest('"state" must be COMPLETED')
        payment_method = expect_str(body, "paymentMethod")
        if payment_method not in PAYMENT_METHODS:
            raise BadRequest(f'"paymentMethod" must be one of {PAYMENT_METHODS}')
        ride = self.rides.get(request.match_info["rideId"])
        if ride is None:
            return _error(404, "no such ride")
        if ride.state is RideState.PENDING:
            return _error(409, "ride has not started")
        # Stopping a completed ride again is harmless and must not move its final price.
        if ride.state is RideState.IN_PROGRESS:
            ride.state = RideState.COMPLETED
            ride.payment_method = payment_method
            ride.total_price = self._meter_prices.get(ride.vehicle_license, int(ride.price_limit))
        return web.json_response({"status": "OK"})

    async def _seed_meter_price(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        total = body.get("totalPrice")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise BadRequest('"totalPrice" must be a non-negative integer (agorot)')
        self.set_meter_price(expect_str(body, "vehicleLicense"), total)
        return web.json_response({}, status=201)

    async def _show_rides(self, _: web.Request) -> web.Response:
        return control_json(
            [
                {
                    **ride.to_json(),
                    "vehicleLicense": ride.vehicle_license,
                    "priceLimit": ride.price_limit,
                    "paymentMethod": ride.payment_method,
                }
                for ride in self.rides.values()
            ]
        )


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": "ERROR", "message": message}, status=status)
