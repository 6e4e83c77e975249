"""Monitex's meter-rides API (docs/design.md §7): money in agorot, a started ride may first be
PENDING."""

import asyncio
import re
from typing import Any, ClassVar

from gateway.plugins import (
    AmountOutOfRange,
    Capability,
    MeterReading,
    MeterRideFinish,
    MeterRideStart,
    MeterRideState,
    MeterVendor,
    VendorError,
    VendorMalformedResponse,
    VendorMissingRideId,
    VendorResponse,
    VendorRideStillPending,
    from_minor_units,
    to_minor_units,
)
from vendors.monitex.settings import MonitexSettings

RIDE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
STARTED = 201
ACCEPTED_PENDING = 206


class MonitexVendor(MeterVendor):
    name = "monitex"
    settings_model = MonitexSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.START_RIDE,
            Capability.STOP_RIDE,
            Capability.GET_PRICE,
            # A start for a driver/vehicle with a ride in progress answers that ride.
            Capability.IDEMPOTENT_START,
        }
    )
    settings: MonitexSettings

    async def start_ride(self, ride: MeterRideStart) -> str:
        response = await self._call(
            "start_ride",
            "POST",
            "/ride",
            {
                "driverId": ride.driver_national_id.reveal(),
                "vehicleLicense": ride.vehicle_permit,
                "priceLimit": float(to_minor_units(ride.price_limit, ride.currency)),
            },
        )
        body = response.expect(STARTED, ACCEPTED_PENDING).json_object()
        ride_id = body.get("rideId")
        if not isinstance(ride_id, str) or not ride_id:
            raise VendorMissingRideId("start answer has no rideId")
        _check_ride_id(ride_id)
        if response.status == ACCEPTED_PENDING:
            try:
                await self._wait_until_running(ride_id)
            except VendorError as error:
                if error.may_have_taken_effect:
                    raise
                # The ride exists: a poll refused (a 429, a 404) says nothing of the start it
                # follows, which must not read as one that made no ride.
                raise VendorRideStillPending(
                    f"the pending ride could not be read ({error.reason})"
                ) from None
        return ride_id

    async def stop_ride(self, ride: MeterRideFinish) -> None:
        # The stop answers no price: the gateway reads it with get_price.
        response = await self._call(
            "stop_ride",
            "PUT",
            f"/rides/{_require_ride_id(ride)}",
            {"state": MeterRideState.COMPLETED, "paymentMethod": ride.payment_method},
        )
        response.expect(200)

    async def get_price(self, ride: MeterRideFinish) -> MeterReading:
        body = await self._get_ride(_require_ride_id(ride))
        total = body.get("totalPrice")
        if total is not None and not _whole_agorot(total):
            raise VendorMalformedResponse("totalPrice is not a whole number of agorot")
        try:
            price = None if total is None else from_minor_units(total, ride.currency)
        except AmountOutOfRange:
            raise VendorMalformedResponse("totalPrice is out of range") from None
        return MeterReading(state=_state(body), price=price)

    async def _wait_until_running(self, ride_id: str) -> None:
        for _ in range(self.settings.pending_polls):
            await asyncio.sleep(self.settings.pending_poll_interval_ms / 1000)
            state = _state(await self._get_ride(ride_id))
            if state is MeterRideState.IN_PROGRESS:
                return
            if state is not MeterRideState.PENDING:
                raise VendorMalformedResponse(f"a starting ride went {state.value}")
        raise VendorRideStillPending(
            f"ride still pending after {self.settings.pending_polls} polls"
        )

    async def _get_ride(self, ride_id: str) -> dict[str, Any]:
        response = await self._call("get_ride", "GET", f"/rides/{ride_id}")
        return response.expect(200).json_object()

    async def _call(
        self, operation: str, method: str, path: str, body: Any = None
    ) -> VendorResponse:
        return await self.api.request(operation, method, path, json_body=body)


def _state(body: dict[str, Any]) -> MeterRideState:
    try:
        return MeterRideState(str(body.get("state")))
    except ValueError as error:
        raise VendorMalformedResponse("ride has no known state") from error


def _require_ride_id(ride: MeterRideFinish) -> str:
    if not ride.ride_id:
        raise VendorMissingRideId("no Monitex ride id on the order")
    _check_ride_id(ride.ride_id)
    return ride.ride_id


def _check_ride_id(ride_id: str) -> None:
    # The id becomes a path segment: "../admin" or "x?y" must not reach another resource.
    if not RIDE_ID.fullmatch(ride_id):
        raise VendorMalformedResponse("ride id is not a plain path segment")


def _whole_agorot(total: object) -> bool:
    if isinstance(total, bool):
        return False
    return isinstance(total, int) or (isinstance(total, float) and total.is_integer())
