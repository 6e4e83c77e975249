"""Who may finish a ride (docs/design.md §4), beyond test_finish_ride.py's one header at a time.

The identity headers come from the driver auth proxy; a driver learns nothing about an order
that is not theirs, not even that it exists, and no vendor is ever called for it.
"""

import pytest

from gateway.sandbox.world import RideSeed
from tests.calls import GET_FIELDS, calls_made
from tests.gateway_world import DRIVER_HEADERS, Gateway, RunningWorld

IDENTITY = ("X-YaTaxi-Park-Id", "X-YaTaxi-Driver-Profile-Id")
OTHER_DRIVER = {**DRIVER_HEADERS, "X-YaTaxi-Driver-Profile-Id": "driver2"}
NOT_FOUND = (404, {"code": "order_not_found", "message": "no such order"})


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({k: v for k, v in DRIVER_HEADERS.items() if k not in IDENTITY}, id="none"),
        pytest.param({**DRIVER_HEADERS, **dict.fromkeys(IDENTITY, "")}, id="both-empty"),
        pytest.param({**DRIVER_HEADERS, IDENTITY[0]: ""}, id="park-empty"),
    ],
)
async def test_without_identity_the_answer_is_401_and_nothing_is_called(
    world: RunningWorld, gateway: Gateway, headers: dict[str, str]
) -> None:
    world.sims.seed_ride(RideSeed("order-1", "alias-1"))

    status, body = await gateway.finish_ride("alias-1", 42.24, headers=headers)

    assert (status, body["code"]) == (401, "unauthorized")
    assert not calls_made(world.sims)


async def test_identity_is_checked_before_the_body(world: RunningWorld, gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/driver/v1/meters-integration-api/finish-ride",
        data=b"not json",
        headers={"Content-Type": "application/json"},
    )

    assert response.status == 401
    assert not calls_made(world.sims)


@pytest.mark.parametrize(
    ("ride", "price", "driver_price"),
    [
        pytest.param(RideSeed("order-1", "alias-1"), 42.24, 42.24, id="would-be-priced"),
        pytest.param(RideSeed("order-1", "alias-1"), 42.24, 42.25, id="prices-differ"),
        pytest.param(RideSeed("order-1", "alias-1"), 10.00, 10.00, id="wrong-fixed-price"),
        pytest.param(RideSeed("order-1", "alias-1", payment_type="corp"), 42.24, 42.24, id="corp"),
        pytest.param(RideSeed("order-1", "alias-1", zone="riga"), 42.24, 42.24, id="finish-only"),
    ],
)
async def test_another_drivers_order_answers_exactly_as_a_missing_one(
    world: RunningWorld, gateway: Gateway, ride: RideSeed, price: float, driver_price: float
) -> None:
    world.sims.seed_ride(ride)

    theirs = await gateway.finish_ride(
        "alias-1", price, driver_price=driver_price, headers=OTHER_DRIVER
    )
    missing = await gateway.finish_ride("alias-none", price, driver_price=driver_price)

    assert theirs == missing == NOT_FOUND
    # Only the two order reads: no vendor, no setcar, no push.
    assert calls_made(world.sims) == {f"order_core {GET_FIELDS}": 2}
