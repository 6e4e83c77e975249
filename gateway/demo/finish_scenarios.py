"""The finish-ride endpoint (docs/design.md §4): every refusal of its table."""

from gateway.demo.model import FinishRide, Scenario, SimCall, StartRide, fault, refused, started
from gateway.demo.start_scenarios import ISRAELI_RIDE, MONITEX_STOP, VENDOR_HANGS_MS
from gateway.http.error_catalog import Refusal
from gateway.sandbox.platform.order_core import GET_FIELDS
from gateway.sandbox.world import RideSeed

METER_SHOWS_20_04 = SimCall(
    "monitex", "/_sim/meter-price", {"vehicleLicense": ISRAELI_RIDE.permit, "totalPrice": 2004}
)


def _after_start(name: str, design: str, finish: FinishRide, **settings: object) -> Scenario:
    """An Israeli ride whose meter ride was started, then finished as ``finish`` says."""
    return Scenario(name, design, ISRAELI_RIDE, (StartRide(started()), finish), settings)


def _without_start(name: str, design: str, finish: FinishRide) -> Scenario:
    return Scenario(name, design, ISRAELI_RIDE, (finish,))


FINISH_SCENARIOS = (
    _without_start(
        "Malformed request",
        "§4 invalid_request: negative price",
        FinishRide(
            refused(Refusal.INVALID_REQUEST),
            raw_body='{"order_id": "alias-il-1", "user_price": -1, "driver_price": -1}',
        ),
    ),
    _without_start(
        "No identity headers",
        "§4 unauthorized",
        FinishRide(refused(Refusal.UNAUTHORIZED), headers={}),
    ),
    _without_start(
        "Unknown order",
        "§4 order_not_found: order-core says 404",
        FinishRide(refused(Refusal.ORDER_NOT_FOUND), alias_id="alias-nobody"),
    ),
    _after_start(
        "Another driver's order",
        "§4 order_not_found: performed by another driver",
        FinishRide(
            refused(Refusal.ORDER_NOT_FOUND),
            headers={
                **ISRAELI_RIDE.driver_headers(),
                "X-YaTaxi-Driver-Profile-Id": "driver-next-door",
            },
        ),
    ),
    _after_start(
        "order-core fails",
        "§4 order_core_error",
        FinishRide(
            refused(Refusal.ORDER_CORE_ERROR),
            setup=(fault("order_core", f"POST {GET_FIELDS}", status=500),),
        ),
    ),
    Scenario(
        "Corporate order at the finish",
        "§4 not_enabled",
        RideSeed("order-corp-1", "alias-corp-1", payment_type="corp"),
        (FinishRide(refused(Refusal.NOT_ENABLED)),),
    ),
    _after_start(
        "Prices differ",
        "§4 prices_differ",
        FinishRide(refused(Refusal.PRICES_DIFFER), driver_price=42.25),
    ),
    _after_start(
        "Not the fixed price",
        "§4 fixed_price_mismatch",
        FinishRide(refused(Refusal.FIXED_PRICE_MISMATCH), price=45.0),
    ),
    _without_start(
        "No meter ride was started",
        "§4 meter_ride_not_found",
        FinishRide(refused(Refusal.METER_RIDE_NOT_FOUND)),
    ),
    _after_start(
        "Vendor stop fails",
        "§4 vendor_error",
        FinishRide(
            refused(Refusal.VENDOR_ERROR, vendor_called=True),
            setup=(fault("monitex", MONITEX_STOP, status=500),),
        ),
    ),
    _after_start(
        "Meter keeps running",
        "§4 meter_ride_not_completed: stop acknowledged, ride still running",
        FinishRide(
            refused(Refusal.METER_RIDE_NOT_COMPLETED, vendor_called=True),
            setup=(fault("monitex", MONITEX_STOP, status=200),),
        ),
    ),
    _after_start(
        "Implausible meter price",
        "§4 meter_price_rejected: 20.04 against 42.24",
        FinishRide(
            refused(Refusal.METER_PRICE_REJECTED, vendor_called=True),
            setup=(METER_SHOWS_20_04,),
        ),
    ),
    _after_start(
        "Dry run",
        "§4 dry_run: the vendor is called, the app keeps its price",
        FinishRide(refused(Refusal.DRY_RUN, vendor_called=True)),
        countries={"IL": {"dry_run": True}},
    ),
    _after_start(
        "Vendor times out",
        "§4 upstream_timeout: the vendor call timed out",
        FinishRide(
            refused(Refusal.UPSTREAM_TIMEOUT, vendor_called=True),
            setup=(fault("monitex", MONITEX_STOP, delay_ms=VENDOR_HANGS_MS),),
        ),
    ),
    _after_start(
        "Past the deadline",
        "§4 upstream_timeout: server.finish_ride_deadline_ms passed",
        FinishRide(
            refused(Refusal.UPSTREAM_TIMEOUT, vendor_called=True),
            setup=(fault("monitex", MONITEX_STOP, delay_ms=600),),
        ),
        server={"finish_ride_deadline_ms": 300},
    ),
)
