"""Whole rides against the vendor's simulator: start, stop, price, a stop repeated, a cancel."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
import structlog

from gateway.money import minor_unit_exponent
from gateway.plugins.meter_vendor import Capability, MeterRideState, MeterVendor
from gateway.plugins.vendor_errors import VendorError
from gateway.testing.suites.subject import ServedSimulator, VendorUnderTest


class RideSuite(VendorUnderTest):
    @pytest.mark.asyncio
    async def test_start_answers_a_ride_id(
        self, kit_vendor: MeterVendor, kit_simulator: ServedSimulator
    ) -> None:
        self.require(Capability.START_RIDE)

        ride_id = await self.succeeds(kit_vendor.start_ride(self.ride_start()), "start_ride")

        assert isinstance(ride_id, str)
        assert ride_id, "the ride id is stored on the order"
        assert len(kit_simulator.simulator.calls) > 0, "the start reached the vendor's API"

    @pytest.mark.asyncio
    async def test_rides_of_different_drivers_are_different_rides(
        self, kit_vendor: MeterVendor
    ) -> None:
        self.require(Capability.START_RIDE)

        first = await self.started_ride(kit_vendor)
        second = await self.started_ride(kit_vendor)

        assert first.ride_id != second.ride_id

    @pytest.mark.asyncio
    async def test_idempotent_start_answers_the_open_ride(self, kit_vendor: MeterVendor) -> None:
        self.require(Capability.IDEMPOTENT_START)
        start = self.ride_start()
        ride_id = await self.succeeds(kit_vendor.start_ride(start), "start_ride")

        again = await self.succeeds(kit_vendor.start_ride(start), "a second start_ride")

        assert again == ride_id, "a second start for the same driver and vehicle is the same ride"

    @pytest.mark.asyncio
    async def test_started_ride_is_not_completed_before_its_stop(
        self, kit_vendor: MeterVendor
    ) -> None:
        self.require(Capability.START_RIDE)
        ride = await self.started_ride(kit_vendor)

        reading = await self.succeeds(kit_vendor.get_price(ride), "get_price")

        assert self.checked_reading(reading, "get_price").state is not MeterRideState.COMPLETED

    @pytest.mark.asyncio
    async def test_stopped_ride_is_completed_at_its_price(self, kit_vendor: MeterVendor) -> None:
        ride = await self.started_ride(kit_vendor)

        reading = await self.finished(kit_vendor, ride)

        assert reading.state is MeterRideState.COMPLETED
        assert reading.price == self.expected_price(ride)
        minor_unit = Decimal(1).scaleb(-minor_unit_exponent(ride.currency))
        assert reading.price.quantize(minor_unit) == reading.price, (
            f"a price in {ride.currency} is a whole number of its minor unit ({minor_unit})"
        )

    @pytest.mark.asyncio
    async def test_stopping_twice_keeps_the_final_price(self, kit_vendor: MeterVendor) -> None:
        # The driver app may send finish-ride again after a lost answer: the stop is repeated.
        ride = await self.started_ride(kit_vendor)
        first = await self.finished(kit_vendor, ride)

        again = await self.finished(kit_vendor, ride)

        assert first.state is MeterRideState.COMPLETED
        assert first.price == self.expected_price(ride)
        assert (again.state, again.price) == (first.state, first.price)

    @pytest.mark.asyncio
    async def test_started_ride_can_be_cancelled(
        self, kit_vendor: MeterVendor, kit_simulator: ServedSimulator
    ) -> None:
        self.require(Capability.CANCEL_RIDE)
        ride = await self.started_ride(kit_vendor)
        calls_before = len(kit_simulator.simulator.calls)

        await self.succeeds(self.perform(Capability.CANCEL_RIDE, kit_vendor, ride), "cancel_ride")

        assert len(kit_simulator.simulator.calls) > calls_before, "the cancel reached the API"
        try:
            reading = await kit_vendor.get_price(ride)
        except VendorError:
            return  # a cancelled ride has no price to read: as good as not completed
        assert reading.state is not MeterRideState.COMPLETED, "a cancelled ride was priced"

    @pytest.mark.asyncio
    async def test_the_vendor_object_shows_no_secret(self, kit_vendor: MeterVendor) -> None:
        # After a whole ride, so that whatever the vendor keeps of it is in its repr too.
        ride = await self.started_ride(kit_vendor)
        await self.finished(kit_vendor, ride)

        leaked = self.secrets_in(f"{kit_vendor!r} {kit_vendor}")
        assert not leaked, (
            f"repr() of the vendor object gives away {leaked}: it reaches logs and tracebacks "
            "(keep secrets as SecretStr, national ids as NationalIdNumber)"
        )

    @pytest.mark.asyncio
    async def test_a_whole_ride_logs_no_secret(self, kit_vendor: MeterVendor) -> None:
        # The gateway's formatter masks the secrets it was configured with, but not a national
        # id: a vendor's own log lines hold neither (the kit knows the configured secrets and
        # the ids it sent; a secret the vendor derived, a token it fetched, it cannot tell).
        with _logged() as lines:
            ride = await self.started_ride(kit_vendor)
            await self.finished(kit_vendor, ride)

        leaked = self.secrets_in("\n".join(lines))
        assert not leaked, (
            f"the vendor's log lines during a ride give away {leaked}: log what happened, "
            "never the credentials or the driver's id number"
        )


_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@contextmanager
def _logged() -> Iterator[list[str]]:
    """Every structlog event and every standard-library log record, as text, while open."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # Its extra fields and exception too, as a JSON formatter would write them (not the
            # record's own attributes: its timestamps' digits would read as an id number).
            extra = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}
            lines.append(f"{record.name} {record.getMessage()} {extra}")
            if record.exc_info:
                lines.append(logging.Formatter().formatException(record.exc_info))

    handler = Collect(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with structlog.testing.capture_logs() as events:
            yield lines
        lines.extend(str(event) for event in events)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
