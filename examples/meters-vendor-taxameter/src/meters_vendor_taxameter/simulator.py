"""A stand-in for Taxameter Cloud's trip API, for the sandbox, the demo and the kit.

Trips live in memory. A closed trip's fare is the one seeded for its concession through
``POST /_sim/fare``, else its fare cap, as a meter left alone would charge.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from gateway.plugins import (
    BadRequest,
    Simulator,
    api_key_auth,
    control_json,
    expect_object,
    expect_str,
    read_json,
)

from meters_vendor_taxameter.api import API_KEY_HEADER, CLOSE, TRIP, TRIPS, TripStatus

PAYMENTS = ("cash", "app")


@dataclass(slots=True)
class Trip:
    id: str
    fleet: str
    reference: str
    driver: str
    concession: str
    fare_cap: Decimal
    status: TripStatus = TripStatus.RUNNING
    fare: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        fare = None if self.fare is None else str(self.fare)
        return {"id": self.id, "status": self.status, "fare": fare}


class TaxameterSimulator(Simulator):
    name = "taxameter"

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.trips: dict[str, Trip] = {}
        self._fares: dict[str, Decimal] = {}

    def set_fare(self, concession: str, fare: Decimal) -> None:
        """The fare the meter of that concession shows when its trip closes (else the cap)."""
        self._fares[concession] = fare

    def guards(self) -> list[Middleware]:
        return [api_key_auth(API_KEY_HEADER, self.token, lambda: _error(401, "unauthorized"))]

    def bad_request(self, message: str) -> web.Response:
        return _error(400, message)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(TRIPS, self._start)
        router.add_get(TRIP, self._get)
        router.add_post(CLOSE, self._close)
        router.add_delete(TRIP, self._cancel)
        router.add_post("/_sim/fare", self._seed_fare)
        router.add_get("/_sim/trips", self._show_trips)

    async def _start(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        reference = expect_str(body, "reference")
        driver = expect_str(body, "driverIdNumber")
        existing = next((t for t in self.trips.values() if t.reference == reference), None)
        if existing is not None:
            return _trip(existing, status=200)
        if any(t.driver == driver and t.status is TripStatus.RUNNING for t in self.trips.values()):
            return _error(409, "driver_busy")
        trip = Trip(
            id=f"trip-{uuid.uuid4().hex[:12]}",
            fleet=request.match_info["fleet"],
            reference=reference,
            driver=driver,
            concession=expect_str(body, "concession"),
            fare_cap=_amount(body, "fareCap"),
        )
        self.trips[trip.id] = trip
        return _trip(trip, status=201)

    async def _get(self, request: web.Request) -> web.Response:
        trip = self._find(request)
        return _trip(trip) if trip else _error(404, "no such trip")

    async def _close(self, request: web.Request) -> web.Response:
        if expect_object(await read_json(request)).get("payment") not in PAYMENTS:
            raise BadRequest(f'"payment" must be one of {PAYMENTS}')
        trip = self._find(request)
        if trip is None:
            return _error(404, "no such trip")
        if trip.status is TripStatus.CANCELLED:
            return _error(409, "the trip was cancelled")
        # Closing a closed trip again answers it as it is: the fare does not move.
        if trip.status is TripStatus.RUNNING:
            trip.status = TripStatus.CLOSED
            trip.fare = self._fares.get(trip.concession, trip.fare_cap)
        return _trip(trip)

    async def _cancel(self, request: web.Request) -> web.Response:
        trip = self._find(request)
        if trip is None:
            return _error(404, "no such trip")
        if trip.status is TripStatus.CLOSED:
            return _error(409, "the trip is closed")
        trip.status = TripStatus.CANCELLED
        return web.Response(status=204)

    def _find(self, request: web.Request) -> Trip | None:
        trip = self.trips.get(request.match_info["trip"])
        return trip if trip and trip.fleet == request.match_info["fleet"] else None

    async def _seed_fare(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        self.set_fare(expect_str(body, "concession"), _amount(body, "fare"))
        return web.json_response({}, status=201)

    async def _show_trips(self, _: web.Request) -> web.Response:
        return control_json(
            [
                {**trip.to_json(), "reference": trip.reference, "concession": trip.concession}
                for trip in self.trips.values()
            ]
        )


def _amount(body: dict[str, Any], key: str) -> Decimal:
    try:
        amount = Decimal(expect_str(body, key))
    except InvalidOperation as error:
        raise BadRequest(f'"{key}" must be an amount like "42.24"') from error
    if not amount.is_finite() or amount < 0:
        raise BadRequest(f'"{key}" must be a non-negative amount')
    return amount


def _trip(trip: Trip, status: int = 200) -> web.Response:
    return web.json_response({"trip": trip.to_json()}, status=status)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
