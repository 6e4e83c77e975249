"""Which caller request ids are kept: plain tokens pass on, anything else is replaced.

The id is echoed, logged and sent to every upstream, so a value that is not a plain token is
not carried anywhere. (test_live_process.py follows a kept id through a real process.)
"""

import re

import pytest

from gateway.sandbox.world import RideSeed
from tests.calls import GET_FIELDS
from tests.gateway_world import DRIVER_HEADERS, Gateway, RunningWorld

FINISH_RIDE = "/driver/v1/meters-integration-api/finish-ride"
BODY = {"order_id": "alias-1", "user_price": 42.24, "driver_price": 42.24}
GENERATED = re.compile(r"[0-9a-f]{32}")


async def answered_id(world: RunningWorld, gateway: Gateway, offered: str | None) -> str:
    world.sims.seed_ride(RideSeed("order-1", "alias-1"))
    headers = dict(DRIVER_HEADERS)
    if offered is not None:
        headers["X-Request-Id"] = offered
    response = await gateway.client.post(FINISH_RIDE, json=BODY, headers=headers)
    request_id = response.headers["X-Request-Id"]
    (read,) = world.sims.order_core.calls.to(GET_FIELDS)
    assert read.headers["X-Request-Id"] == request_id
    return request_id


@pytest.mark.parametrize(
    "offered", ["req-1", "0f8a7c2e-55d1-4c3b-9d1e-2a6b9c0d7e11", "gw:abc/12+x=="]
)
async def test_a_plain_token_is_kept(world: RunningWorld, gateway: Gateway, offered: str) -> None:
    assert await answered_id(world, gateway, offered) == offered


@pytest.mark.parametrize(
    "offered",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("two words", id="space"),
        pytest.param("x" * 129, id="too-long"),
        pytest.param('{"inject": 1}', id="json"),
    ],
)
async def test_anything_else_is_replaced_by_a_new_id(
    world: RunningWorld, gateway: Gateway, offered: str | None
) -> None:
    assert GENERATED.fullmatch(await answered_id(world, gateway, offered))
