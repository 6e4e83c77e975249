"""The start-ride task (docs/design.md §3): whom it leaves alone, each row of the fallback table."""

from gateway.demo.model import (
    FinishRide,
    Scenario,
    SimCall,
    StartOutcome,
    StartRide,
    fault,
    fell_back,
    left_alone,
    priced,
    refused,
    started,
)
from gateway.http.error_catalog import Refusal
from gateway.plugins.faults import STALE_METER_RIDE
from gateway.rides.eligibility import NotEligible
from gateway.rides.fallback_policy import StartStep
from gateway.rides.start_ride import StartResult
from gateway.sandbox.platform.client_notify import PUSH
from gateway.sandbox.platform.driver_orders_builder import UPDATE_LITE
from gateway.sandbox.platform.driver_profiles import RETRIEVE as IDENTITY_DOCS
from gateway.sandbox.platform.fleet_vehicles import RETRIEVE as VEHICLES
from gateway.sandbox.platform.order_core import GET_FIELDS, SET_FIELDS
from gateway.sandbox.platform.personal import RETRIEVE as IDENTIFICATION
from gateway.sandbox.world import RideSeed

# Monitex's API (docs/design.md §7), as its simulator names the endpoints.
MONITEX_START = "POST /ride"
MONITEX_STOP = "PUT /rides/{rideId}"

ISRAELI_RIDE = RideSeed("order-il-1", "alias-il-1")
LATVIAN_RIDE = RideSeed(
    "order-lv-1",
    "alias-lv-1",
    zone="riga",
    car_number="LV-1234",
    national_id=None,
    id_document_type="national_id_lva",
)
METER_SHOWS_40_04 = SimCall(
    "monitex", "/_sim/meter-price", {"vehicleLicense": ISRAELI_RIDE.permit, "totalPrice": 4004}
)
# The same driver's and car's previous order, whose meter ride is left open.
PREVIOUS_ISRAELI_RIDE = RideSeed("order-il-0", "alias-il-0")
# Whom the order is reassigned to: another driver of the same park, in another car.
SECOND_DRIVER = RideSeed("order-il-1", "alias-il-1", driver_profile_id="driver2", car_id="car2")
# Longer than the vendor's timeout in the demo's settings (1000 ms), shorter than a coffee.
VENDOR_HANGS_MS = 1500


def _start(expect: StartOutcome, *setup: SimCall) -> tuple[StartRide]:
    return (StartRide(expect, setup),)


def _israeli(name: str, design: str, expect: StartOutcome, *setup: SimCall) -> Scenario:
    return Scenario(name, design, ISRAELI_RIDE, _start(expect, *setup))


START_SCENARIOS = (
    Scenario(
        "Israel: the whole ride",
        "§3 steps 1-8, then §4 answered 200 at the meter's price",
        ISRAELI_RIDE,
        (
            StartRide(started(), (METER_SHOWS_40_04,)),
            FinishRide(priced("40.04")),
        ),
    ),
    Scenario(
        "Latvia: a finish-only vendor",
        "§3 step 2 vendor cannot start rides; §4 answered 200 at our price",
        LATVIAN_RIDE,
        (
            StartRide(left_alone(StartResult.SKIPPED, "vendor_cannot_start")),
            FinishRide(priced("42.24")),
        ),
    ),
    Scenario(
        "Redelivered task",
        "§3 step 3 ride id already stored: no second meter ride",
        ISRAELI_RIDE,
        (
            StartRide(started()),
            StartRide(StartOutcome(StartResult.ALREADY_STARTED, "ok", "true", True, True)),
        ),
    ),
    Scenario(
        "Stale meter ride",
        "§3a never adopt another order's meter ride (sandbox recipe stale_meter_ride)",
        ISRAELI_RIDE,
        (
            StartRide(started(), order_id=PREVIOUS_ISRAELI_RIDE.order_id),
            FinishRide(
                refused(Refusal.ORDER_CORE_ERROR),
                (
                    SimCall(
                        STALE_METER_RIDE.section, "/_sim/faults", STALE_METER_RIDE.fault.to_json()
                    ),
                ),
                alias_id=PREVIOUS_ISRAELI_RIDE.alias_id,
            ),
            StartRide(fell_back(StartStep.STALE_METER_RIDE)),
            FinishRide(refused(Refusal.METER_RIDE_NOT_FOUND)),
            FinishRide(priced("42.24"), alias_id=PREVIOUS_ISRAELI_RIDE.alias_id),
        ),
        earlier_rides=(PREVIOUS_ISRAELI_RIDE,),
    ),
    Scenario(
        "Order reassigned",
        "§3a a ride belongs to its driver and car: the order moved to another driver",
        ISRAELI_RIDE,
        (
            StartRide(started()),
            StartRide(
                # The order still holds the first driver's ride: told to the second driver's app
                # as a fallback, and left alone.
                StartOutcome(
                    StartResult.FALLBACK,
                    StartStep.RIDE_OF_ANOTHER_PERFORMER,
                    "false",
                    pushed=True,
                    stored=True,
                ),
                (
                    SimCall(
                        "order_core",
                        f"/_sim/orders/{ISRAELI_RIDE.order_id}/reassign",
                        {
                            "park_id": SECOND_DRIVER.park_id,
                            "driver_profile_id": SECOND_DRIVER.driver_profile_id,
                            "car_id": SECOND_DRIVER.car_id,
                        },
                    ),
                    SimCall(
                        "driver_orders_builder",
                        "/_sim/setcars",
                        {
                            "order_id": SECOND_DRIVER.alias_id,
                            "park_id": SECOND_DRIVER.park_id,
                            "driver_profile_id": SECOND_DRIVER.driver_profile_id,
                        },
                    ),
                ),
            ),
            FinishRide(
                refused(Refusal.METER_RIDE_NOT_FOUND), headers=SECOND_DRIVER.driver_headers()
            ),
        ),
    ),
    Scenario(
        "Finish before the start",
        "§3a a finish before the start: the driver keyed the price in, no meter is started",
        ISRAELI_RIDE,
        (
            FinishRide(refused(Refusal.METER_RIDE_NOT_FOUND)),
            StartRide(left_alone(StartResult.ENDED, StartStep.FINISHED_FIRST)),
        ),
    ),
    Scenario(
        "Order no longer live",
        "§3a only live orders: a finished order is skipped",
        RideSeed("order-il-1", "alias-il-1", status="finished"),
        _start(left_alone(StartResult.SKIPPED, "order_not_active")),
    ),
    Scenario(
        "Corporate order",
        "§3 step 2 corporate orders are skipped",
        RideSeed("order-corp-1", "alias-corp-1", payment_type="corp"),
        _start(left_alone(StartResult.SKIPPED, NotEligible.CORPORATE_ORDER)),
    ),
    Scenario(
        "Country without a vendor",
        "§3 step 2 no vendor for the zone's country",
        RideSeed("order-fr-1", "alias-fr-1", zone="paris"),
        _start(left_alone(StartResult.SKIPPED, NotEligible.NO_VENDOR_FOR_ZONE)),
    ),
    Scenario(
        "Driver outside the rollout",
        "§3 step 2 driver not in countries.IL.drivers",
        ISRAELI_RIDE,
        _start(left_alone(StartResult.SKIPPED, NotEligible.DRIVER_NOT_IN_ROLLOUT)),
        settings={"countries": {"IL": {"drivers": ["park1_someone-else"]}}},
    ),
    _israeli(
        "order-core read fails",
        "§3 fallback matrix: order-core read",
        left_alone(StartResult.ENDED, StartStep.READ_ORDER),
        fault("order_core", f"POST {GET_FIELDS}", status=500),
    ),
    _israeli(
        "driver-profiles fails",
        "§3 fallback matrix: driver-profiles",
        fell_back(StartStep.DRIVER_NATIONAL_ID),
        fault("driver_profiles", f"POST {IDENTITY_DOCS}", status=500),
    ),
    _israeli(
        "personal fails",
        "§3 fallback matrix: personal",
        fell_back(StartStep.DRIVER_NATIONAL_ID),
        fault("personal", f"POST {IDENTIFICATION}", status=500),
    ),
    Scenario(
        "No usable id document",
        "§3 fallback matrix: no usable id document",
        RideSeed("order-il-1", "alias-il-1", id_document_type="passport"),
        _start(fell_back(StartStep.DRIVER_NATIONAL_ID)),
    ),
    _israeli(
        "Empty id number",
        "§3 fallback matrix: empty value",
        fell_back(StartStep.DRIVER_NATIONAL_ID),
        fault("personal", f"POST {IDENTIFICATION}", body="empty_fields"),
    ),
    _israeli(
        "fleet-vehicles fails",
        "§3 fallback matrix: fleet-vehicles",
        fell_back(StartStep.VEHICLE_PERMIT),
        fault("fleet_vehicles", f"POST {VEHICLES}", status=500),
    ),
    Scenario(
        "No permit number",
        "§3 fallback matrix: no permit number",
        RideSeed("order-il-1", "alias-il-1", permit=None),
        _start(fell_back(StartStep.VEHICLE_PERMIT)),
    ),
    Scenario(
        "No fixed price",
        "§3 beyond the card: nothing to limit the meter by",
        RideSeed("order-il-1", "alias-il-1", fixed_price=None),
        _start(fell_back(StartStep.FIXED_PRICE)),
    ),
    _israeli(
        "Vendor start fails",
        "§3 fallback matrix: vendor start fails",
        fell_back(StartStep.VENDOR_START),
        fault("monitex", MONITEX_START, status=500),
    ),
    _israeli(
        "Vendor start times out",
        "§3 fallback matrix: vendor start times out",
        fell_back(StartStep.VENDOR_START),
        fault("monitex", MONITEX_START, delay_ms=VENDOR_HANGS_MS),
    ),
    _israeli(
        "Vendor rate-limits the start",
        "§3 fallback matrix: a 429 (the embedded broker never redelivers: every delivery is "
        "its last, so the run falls back rather than wait)",
        fell_back(StartStep.VENDOR_RATE_LIMITED),
        fault("monitex", MONITEX_START, status=429),
    ),
    _israeli(
        "Vendor returns no ride id",
        "§3 fallback matrix: no ride id",
        fell_back(StartStep.VENDOR_START),
        fault("monitex", MONITEX_START, body="empty_fields"),
    ),
    _israeli(
        "Vendor ride never leaves pending",
        "§3 fallback matrix: never leaves pending",
        fell_back(StartStep.VENDOR_START),
        fault("monitex", MONITEX_START, pending_forever=True),
    ),
    _israeli(
        "Revision re-read fails",
        "§3 fallback matrix: revision re-read",
        fell_back(StartStep.STORE_RIDE_ID),
        fault("order_core", f"POST {GET_FIELDS}", status=500, after=1),
    ),
    _israeli(
        "set-fields fails",
        "§3 fallback matrix: set-fields (409 race)",
        fell_back(StartStep.STORE_RIDE_ID),
        fault("order_core", f"POST {SET_FIELDS}", status=409),
    ),
    _israeli(
        "setcar fails",
        "§3 fallback matrix: driver-orders-builder",
        StartOutcome(StartResult.ENDED, StartStep.SETCAR, "true", pushed=False, stored=True),
        fault("driver_orders_builder", f"POST {UPDATE_LITE}", status=500),
    ),
    _israeli(
        "client-notify fails",
        "§3 fallback matrix: client-notify (ignored)",
        started(),
        fault("client_notify", f"POST {PUSH}", status=500),
    ),
)
