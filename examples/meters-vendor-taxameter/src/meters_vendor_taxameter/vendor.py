"""The Taxameter Cloud vendor: trips keyed by our order id, fares as decimal strings in euros."""

from contextlib import suppress
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from gateway.plugins import (
    CENT,
    ApiKeyHeader,
    Capability,
    MeterReading,
    MeterRideFinish,
    MeterRideStart,
    MeterRideState,
    MeterVendor,
    PaymentMethod,
    VendorAuth,
    VendorError,
    VendorMalformedResponse,
    VendorMissingRideId,
    VendorRefused,
    VendorResponse,
)

from meters_vendor_taxameter.api import API_KEY_HEADER, CLOSE, TRIP, TRIPS, TripStatus
from meters_vendor_taxameter.settings import TaxameterSettings

CONFLICT = 409
STATES = {
    TripStatus.RUNNING: MeterRideState.IN_PROGRESS,
    TripStatus.CLOSED: MeterRideState.COMPLETED,
}


class TaxameterVendor(MeterVendor):
    name = "taxameter"
    settings_model = TaxameterSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.START_RIDE,
            Capability.STOP_RIDE,
            Capability.GET_PRICE,
            Capability.CANCEL_RIDE,
        }
    )
    # 409 {"error": "driver_busy"}: the driver has a trip of another order running.
    refusal_codes: ClassVar[frozenset[str]] = frozenset({"driver_busy"})
    settings: TaxameterSettings

    def authentication(self) -> VendorAuth:
        return ApiKeyHeader(API_KEY_HEADER, self.settings.token)

    async def start_ride(self, ride: MeterRideStart) -> str:
        # The reference makes the start idempotent at the vendor: a redelivered task that got
        # this far gets the same trip back.
        response = await self._call(
            "start_ride",
            "POST",
            TRIPS.format(fleet=self.settings.fleet_id),
            {
                "reference": ride.order_id,
                "driverIdNumber": ride.driver_national_id.reveal(),
                "concession": ride.vehicle_permit,
                "fareCap": str(ride.price_limit),
            },
        )
        if response.status == CONFLICT and isinstance(response.body, dict):
            raise VendorRefused(str(response.body.get("error")))
        trip_id = _trip(response, expected=(200, 201)).get("id")
        if not isinstance(trip_id, str) or not trip_id:
            raise VendorMissingRideId("the trip has no id")
        return trip_id

    async def stop_ride(self, ride: MeterRideFinish) -> MeterReading:
        # Closing answers the closed trip with its fare: the gateway needs no get_price.
        payment = "cash" if ride.payment_method is PaymentMethod.CASH else "app"
        response = await self._call(
            "stop_ride", "POST", self._trip_path(CLOSE, ride), {"payment": payment}
        )
        return _reading(_trip(response, expected=(200,)))

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        return _reading(
            _trip(await self._call("get_ride", "GET", self._trip_path(TRIP, ride)), (200,))
        )

    async def cancel_ride(self, ride_id: str) -> None:
        path = TRIP.format(fleet=self.settings.fleet_id, trip=ride_id)
        response = await self._call("cancel_ride", "DELETE", path)
        response.expect(204)

    def _trip_path(self, template: str, ride: MeterRideFinish) -> str:
        if not ride.ride_id:
            raise VendorMissingRideId("no Taxameter trip id on the order")
        return template.format(fleet=self.settings.fleet_id, trip=ride.ride_id)

    async def _call(
        self, operation: str, method: str, path: str, body: Any = None
    ) -> VendorResponse:
        return await self.api.request(operation, method, path, json_body=body)


def _reading(trip: dict[str, Any]) -> MeterReading:
    status = trip.get("status")
    if status == TripStatus.CANCELLED:
        raise VendorError("the trip was cancelled")
    if status not in STATES:
        raise VendorMalformedResponse("the trip has no known status")
    return MeterReading(state=STATES[status], price=_fare(trip.get("fare")))


def _trip(response: VendorResponse, expected: tuple[int, ...]) -> dict[str, Any]:
    trip = response.expect(*expected).json_object().get("trip")
    if not isinstance(trip, dict):
        raise VendorMalformedResponse(f"HTTP {response.status} answer holds no trip")
    return trip


def _fare(value: object) -> Decimal | None:
    if value is None:
        return None
    with suppress(InvalidOperation):
        fare = Decimal(value) if isinstance(value, str) else Decimal("NaN")
        if fare.is_finite() and fare == fare.quantize(CENT):
            return fare
    raise VendorMalformedResponse("the fare is not an amount in cents")
