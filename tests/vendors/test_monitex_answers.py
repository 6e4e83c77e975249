"""Monitex's client against answers its simulator never gives (docs/design.md §7): each odd
shape is a typed VendorError, never a wrong price, a wrong path or a TypeError.

A real aiohttp server answers one scripted body per path; the test asserts the error the
client raises and the exact request paths it sent.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.plugins import (
    MeterRideFinish,
    MeterRideStart,
    MeterRideState,
    NationalIdNumber,
    PaymentMethod,
    VendorError,
    VendorErrorStatus,
    VendorMalformedResponse,
    VendorMissingRideId,
    VendorRideStillPending,
)
from vendors.monitex import vendor as monitex_vendor
from vendors.monitex.settings import MonitexSettings
from vendors.monitex.vendor import MonitexVendor

ServerFactory = Callable[..., Awaitable[TestServer]]

START = MeterRideStart(
    order_id="order-il-1",
    driver_national_id=NationalIdNumber("123456782"),
    vehicle_permit="PERMIT-7",
    car_number="12-345-67",
    country="IL",
    currency="ILS",
    price_limit=Decimal("42.24"),
)


def finish(ride_id: str | None) -> MeterRideFinish:
    return MeterRideFinish(
        order_id="alias-il-1",
        ride_id=ride_id,
        car_number="12-345-67",
        country="IL",
        currency="ILS",
        price=Decimal("42.24"),
        payment_method=PaymentMethod.CASH,
    )


class ScriptedMonitex:
    """Answers ``answers[(method, path)]`` as (status, JSON body) and records every path asked."""

    def __init__(self, answers: dict[tuple[str, str], tuple[int, Any]]) -> None:
        self.answers = answers
        self.override: dict[tuple[str, str], Callable[[web.Request], Awaitable[web.Response]]]
        self.override = {}
        self.asked: list[tuple[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        key = (request.method, request.path)
        if key in self.override:
            return await self.override[key](request)
        self.asked.append(key)
        status, body = self.answers.get(key, (404, {"error": "no such path"}))
        return web.json_response(body, status=status)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def monitex_at(
    aiohttp_server: ServerFactory,
    http: aiohttp.ClientSession,
    answers: dict[tuple[str, str], tuple[int, Any]],
    *,
    url_suffix: str = "",
    pending_polls: int = 0,
    pending_poll_interval_ms: int = 0,
) -> tuple[MonitexVendor, ScriptedMonitex]:
    scripted = ScriptedMonitex(answers)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    server = await aiohttp_server(app)
    settings = MonitexSettings(
        url=str(server.make_url("/")).rstrip("/") + url_suffix,
        token="monitex-secret-token-5f2a",
        pending_polls=pending_polls,
        pending_poll_interval_ms=pending_poll_interval_ms,
    )
    return MonitexVendor(settings, http), scripted


@pytest.mark.parametrize(
    "ride_id",
    [
        pytest.param(42, id="number"),
        pytest.param(True, id="boolean"),
        pytest.param(None, id="null"),
        pytest.param("", id="empty"),
        pytest.param(["r-1"], id="list"),
    ],
)
async def test_a_start_answer_without_a_string_ride_id_is_a_missing_ride_id(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession, ride_id: object
) -> None:
    vendor, scripted = await monitex_at(
        aiohttp_server, http, {("POST", "/ride"): (201, {"status": "OK", "rideId": ride_id})}
    )

    with pytest.raises(VendorMissingRideId) as raised:
        await vendor.start_ride(START)

    assert (raised.value.reason, str(raised.value)) == (
        "vendor_no_ride_id",
        "start answer has no rideId",
    )
    assert scripted.asked == [("POST", "/ride")]


@pytest.mark.parametrize("ride_id", ["..", ".", "../admin", "a/b", "x?y", "r" * 129])
async def test_a_start_answer_whose_ride_id_is_not_a_path_segment_is_malformed(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession, ride_id: str
) -> None:
    vendor, _ = await monitex_at(
        aiohttp_server, http, {("POST", "/ride"): (201, {"status": "OK", "rideId": ride_id})}
    )

    with pytest.raises(VendorMalformedResponse, match=r"^ride id is not a plain path segment$"):
        await vendor.start_ride(START)


@pytest.mark.parametrize("ride_id", ["r", "r-1_A.b", "0" + "r" * 127])
async def test_a_plain_ride_id_is_answered(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession, ride_id: str
) -> None:
    vendor, _ = await monitex_at(
        aiohttp_server, http, {("POST", "/ride"): (201, {"status": "OK", "rideId": ride_id})}
    )

    assert await vendor.start_ride(START) == ride_id


@pytest.mark.parametrize("status", [200, 202, 204, 400, 500])
async def test_a_start_answered_with_another_status_is_an_error_status(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession, status: int
) -> None:
    vendor, _ = await monitex_at(
        aiohttp_server, http, {("POST", "/ride"): (status, {"status": "OK", "rideId": "r-1"})}
    )

    with pytest.raises(VendorErrorStatus) as raised:
        await vendor.start_ride(START)

    assert (raised.value.status, str(raised.value)) == (status, f"vendor answered HTTP {status}")


@pytest.mark.parametrize("body", [["r-1"], "r-1", None])
async def test_a_start_answer_that_is_not_an_object_is_malformed(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession, body: object
) -> None:
    vendor, _ = await monitex_at(aiohttp_server, http, {("POST", "/ride"): (201, body)})

    with pytest.raises(VendorMalformedResponse, match="HTTP 201 body is not an object"):
        await vendor.start_ride(START)


NOT_WHOLE = "totalPrice is not a whole number of agorot"
# More digits than the decimals hold: no meter charges it, and it must not crash the plugin.
TOO_LARGE = "totalPrice is out of range"


@pytest.mark.parametrize(
    ("total_price", "complaint"),
    [
        *[(p, NOT_WHOLE) for p in (True, False, "4004", 4004.5, [4004], {"agorot": 4004})],
        *[(p, TOO_LARGE) for p in (1e300, 10**40, -(10**40))],
    ],
)
async def test_a_price_that_is_not_whole_agorot_is_malformed_never_a_price(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession, total_price: object, complaint: str
) -> None:
    vendor, _ = await monitex_at(
        aiohttp_server,
        http,
        {("GET", "/rides/r-1"): (200, {"state": "COMPLETED", "totalPrice": total_price})},
    )

    with pytest.raises(VendorMalformedResponse, match=f"^{complaint}$"):
        await vendor.get_price(finish("r-1"))


@pytest.mark.parametrize(
    ("total_price", "price"),
    [(4004, Decimal("40.04")), (4004.0, Decimal("40.04")), (0, Decimal("0.00")), (None, None)],
)
async def test_a_price_in_whole_agorot_is_read_in_shekels(
    aiohttp_server: ServerFactory,
    http: aiohttp.ClientSession,
    total_price: object,
    price: Decimal | None,
) -> None:
    vendor, _ = await monitex_at(
        aiohttp_server,
        http,
        {("GET", "/rides/r-1"): (200, {"state": "COMPLETED", "totalPrice": total_price})},
    )

    reading = await vendor.get_price(finish("r-1"))

    assert (reading.state, reading.price) == (MeterRideState.COMPLETED, price)


async def test_a_ride_without_a_known_state_is_malformed(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    vendor, _ = await monitex_at(
        aiohttp_server, http, {("GET", "/rides/r-1"): (200, {"state": "FLYING"})}
    )

    with pytest.raises(VendorMalformedResponse, match=r"^ride has no known state$"):
        await vendor.get_price(finish("r-1"))


@pytest.mark.parametrize("url_suffix", ["", "/"])
async def test_a_configured_url_ending_in_a_slash_still_calls_single_slash_paths(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession, url_suffix: str
) -> None:
    vendor, scripted = await monitex_at(
        aiohttp_server,
        http,
        {
            ("PUT", "/rides/r-1"): (200, {"status": "OK"}),
            ("GET", "/rides/r-1"): (200, {"state": "COMPLETED", "totalPrice": 4004}),
        },
        url_suffix=url_suffix,
    )

    assert await vendor.stop_ride(finish("r-1")) is None
    reading = await vendor.get_price(finish("r-1"))

    assert reading.price == Decimal("40.04")
    assert scripted.asked == [("PUT", "/rides/r-1"), ("GET", "/rides/r-1")]


NO_RIDE_ID = VendorMissingRideId("no Monitex ride id on the order")
NOT_A_SEGMENT = VendorMalformedResponse("ride id is not a plain path segment")


@pytest.mark.parametrize(
    ("ride_id", "error"),
    [
        pytest.param(None, NO_RIDE_ID, id="none"),
        pytest.param("", NO_RIDE_ID, id="empty"),
        pytest.param("..", NOT_A_SEGMENT, id="dot-dot"),
        pytest.param("../admin", NOT_A_SEGMENT, id="parent"),
    ],
)
async def test_a_stored_ride_id_that_cannot_name_a_ride_is_never_sent(
    aiohttp_server: ServerFactory,
    http: aiohttp.ClientSession,
    ride_id: str | None,
    error: VendorError,
) -> None:
    vendor, scripted = await monitex_at(aiohttp_server, http, {})

    with pytest.raises(type(error), match=f"^{re.escape(str(error))}$"):
        await vendor.stop_ride(finish(ride_id))
    with pytest.raises(type(error), match=f"^{re.escape(str(error))}$"):
        await vendor.get_price(finish(ride_id))

    assert scripted.asked == []


async def test_a_stop_answered_with_another_status_is_an_error_status(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    vendor, _ = await monitex_at(
        aiohttp_server, http, {("PUT", "/rides/r-1"): (201, {"status": "OK"})}
    )

    with pytest.raises(VendorErrorStatus) as raised:
        await vendor.stop_ride(finish("r-1"))

    assert (raised.value.status, str(raised.value)) == (201, "vendor answered HTTP 201")


@pytest.mark.parametrize("status", [201, 404, 500])
async def test_a_ride_read_answered_with_another_status_is_an_error_status(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession, status: int
) -> None:
    vendor, _ = await monitex_at(
        aiohttp_server, http, {("GET", "/rides/r-1"): (status, {"state": "COMPLETED"})}
    )

    with pytest.raises(VendorErrorStatus) as raised:
        await vendor.get_price(finish("r-1"))

    assert (raised.value.status, str(raised.value)) == (status, f"vendor answered HTTP {status}")


class RecordedSleeps:
    """Stands in for the vendor module's ``asyncio``: its polls' pauses, recorded not slept."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)


@pytest.mark.parametrize(
    ("states", "outcome"),
    [
        pytest.param(["PENDING", "IN_PROGRESS"], "r-1", id="runs-at-the-second-poll"),
        pytest.param(
            ["PENDING", "COMPLETED"],
            VendorMalformedResponse("a starting ride went COMPLETED"),
            id="went-completed",
        ),
        pytest.param(
            ["PENDING", "PENDING", "PENDING"],
            VendorRideStillPending("ride still pending after 3 polls"),
            id="still-pending",
        ),
    ],
)
async def test_a_pending_start_is_polled_at_the_configured_interval(
    aiohttp_server: ServerFactory,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    states: list[str],
    outcome: str | VendorError,
) -> None:
    sleeps = RecordedSleeps()
    monkeypatch.setattr(monitex_vendor, "asyncio", sleeps)
    vendor, scripted = await monitex_at(
        aiohttp_server,
        http,
        {("POST", "/ride"): (206, {"status": "PENDING", "rideId": "r-1"})},
        pending_polls=3,
        pending_poll_interval_ms=250,
    )
    answers = iter(states)

    async def next_state(request: web.Request) -> web.Response:
        scripted.asked.append((request.method, request.path))
        return web.json_response({"state": next(answers)})

    scripted.override[("GET", "/rides/r-1")] = next_state

    if isinstance(outcome, str):
        assert await vendor.start_ride(START) == outcome
    else:
        with pytest.raises(type(outcome)) as raised:
            await vendor.start_ride(START)
        assert str(raised.value) == str(outcome)

    assert sleeps.pauses == [0.25] * len(states)
    assert scripted.asked == [("POST", "/ride")] + [("GET", "/rides/r-1")] * len(states)
