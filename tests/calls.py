"""Reading what the simulated upstreams received, in the words the design uses."""

from collections import Counter
from typing import Any

from gateway.sandbox.faults import RecordedCall
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
