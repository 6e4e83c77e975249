"""Reading what the simulated upstreams received, in the words the design uses."""

from collections import Counter
from typing import Any

from gateway.plugins.faults import RecordedCall
from gateway.sandbox.world import SimulatedWorld

GET_FIELDS = "POST /internal/processing/v1/order-proc/get-fields"
SET_FIELDS = "POST /internal/processing/v1/order-proc/set-fields"
IDENTITY_DOCS = "POST /v1/identity-docs/retrieve_by_park_driver_profile_id"
IDENTIFICATION = "POST /v1/identifications/retrieve"
VEHICLES = "POST /v1/vehicles/retrieve"
SETCAR = "POST /v1/setcar/update-lite"
PUSH = "POST /v2/push"
MONITEX_START = "POST /ride"
MONITEX_GET = "GET /rides/{rideId}"
MONITEX_STOP = "PUT /rides/{rideId}"
OPTUMPLUS_SUBMIT = "POST /submit_price"


def calls_made(world: SimulatedWorld) -> Counter[str]:
    """How many times each upstream endpoint was called, as ``"<section> <endpoint>"``."""
    return Counter(
        f"{name} {call.endpoint}"
        for name, simulator in world.simulators().items()
        for call in simulator.calls.all()
    )


def only_call(world: SimulatedWorld, section: str, endpoint: str) -> RecordedCall:
    calls = world.simulators()[section].calls.to(endpoint)
    assert len(calls) == 1, f"{section} {endpoint}: {len(calls)} calls"
    return calls[0]


def setcar_values(world: SimulatedWorld) -> list[Any]:
    return [
        change["value"]
        for call in world.driver_orders_builder.calls.to(SETCAR)
        for change in call.body["changes"]
    ]


# A start-ride run's calls (docs/design.md §3), step by step, as ``calls_made`` counts them.
READ_ORDER = {f"order_core {GET_FIELDS}": 1}
GATHER = {
    f"driver_profiles {IDENTITY_DOCS}": 1,
    f"personal {IDENTIFICATION}": 1,
    f"fleet_vehicles {VEHICLES}": 1,
}
VENDOR_START = {f"monitex {MONITEX_START}": 1}
STORE = {f"order_core {GET_FIELDS}": 1, f"order_core {SET_FIELDS}": 1}
REREAD_ORDER = {f"order_core {GET_FIELDS}": 1}
TELL_APP = {f"driver_orders_builder {SETCAR}": 1, f"client_notify {PUSH}": 1}


def expected(*parts: dict[str, int]) -> Counter[str]:
    """The calls of these steps together, to compare with ``calls_made``."""
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return total
