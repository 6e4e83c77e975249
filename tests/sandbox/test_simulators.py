"""Every simulator over real HTTP: the contracts of docs/design.md §5/§7, faults and call logs."""

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import bson
import pytest

from gateway.plugins.faults import Fault, RecordedCall
from gateway.plugins.simulator import Simulator, run_simulator
from gateway.sandbox.platform.client_notify import ClientNotifySimulator
from gateway.sandbox.platform.driver_orders_builder import DriverOrdersBuilderSimulator
from gateway.sandbox.platform.driver_profiles import DriverProfilesSimulator
from gateway.sandbox.platform.fleet_vehicles import FleetVehiclesSimulator
from gateway.sandbox.platform.order_core import OrderCoreSimulator
from gateway.sandbox.platform.personal import PersonalSimulator
from vendors.monitex.simulator import MonitexSimulator, RideState
from vendors.optumplus.simulator import OptumPlusSimulator, Submission

Serve = Callable[[Simulator], Awaitable[str]]

GET_FIELDS = "/internal/processing/v1/order-proc/get-fields"
SET_FIELDS = "/internal/processing/v1/order-proc/set-fields"
PERSONAL_RETRIEVE = "/v1/identifications/retrieve"
TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ORDER_DOCUMENT = {
    "order": {
        "nz": "tel_aviv",
        "fixed_price": {"price": 42.24},
        "performer": {"db_id": "park-1", "uuid": "driver-1", "car_number": "12-345-67"},
    },
    "payment_tech": {"type": "cash"},
    "performer": {"alias_id": "alias-1"},
}
START_BODY = {"driverId": "123456782", "vehicleLicense": "permit-1", "priceLimit": 4224.0}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    async with AsyncExitStack() as stack:

        async def start(sim: Simulator) -> str:
            return await stack.enter_async_context(run_simulator(sim))

        yield start


@pytest.fixture
def order_core() -> OrderCoreSimulator:
    sim = OrderCoreSimulator()
    sim.add_order("order-1", ORDER_DOCUMENT, order_version=7, processing_version=3)
    return sim


@pytest.fixture
def personal() -> PersonalSimulator:
    sim = PersonalSimulator()
    sim.add_identification("pd-1", "123456782")
    return sim


async def post_bson(
    http: aiohttp.ClientSession, url: str, params: dict[str, str], body: dict[str, Any]
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/bson"}
    async with http.post(url, params=params, data=bson.encode(body), headers=headers) as response:
        return response.status, await response.read()


async def post_json(
    http: aiohttp.ClientSession,
    url: str,
    body: Any,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with http.post(url, json=body, headers=headers, params=params) as response:
        return response.status, await response.json(content_type=None)


async def retrieve_pd(http: aiohttp.ClientSession, base: str) -> tuple[int, bytes]:
    body = {"id": "pd-1", "primary_replica": False}
    async with http.post(base + PERSONAL_RETRIEVE, json=body) as response:
        return response.status, await response.read()


async def add_fault(http: aiohttp.ClientSession, base: str, **fault: Any) -> None:
    status, answer = await post_json(http, base + "/_sim/faults", fault)
    assert status == 201, answer


async def stop_ride(http: aiohttp.ClientSession, url: str, payment_method: str) -> tuple[int, Any]:
    body = {"state": "COMPLETED", "paymentMethod": payment_method}
    async with http.put(url, json=body, headers=AUTH) as response:
        return response.status, await response.json()


def decodes_as_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def exact(order_id: str = "order-1") -> dict[str, str]:
    return {"order_id": order_id, "order_id_type": "exact_id"}


# --- runner, call log and control API ---------------------------------------------------------


async def test_runner_serves_on_a_free_port(serve: Serve, http: aiohttp.ClientSession) -> None:
    base = await serve(ClientNotifySimulator())

    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
    async with http.get(base + "/_sim/calls") as response:
        assert response.status == 200
        assert await response.json() == []


async def test_call_log_records_each_call_but_not_control_calls(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = FleetVehiclesSimulator()
    base = await serve(sim)
    body = {"id_in_set": ["park-1_car-1"], "projection": ["data.permit_num"]}

    await post_json(
        http,
        base + "/v1/vehicles/retrieve",
        body,
        headers={"X-Request-Id": "req-1"},
        params={"consumer": "meters-integration-api"},
    )
    await http.get(base + "/_sim/faults")

    [call] = sim.calls.all()
    assert call == RecordedCall(
        endpoint="POST /v1/vehicles/retrieve",
        method="POST",
        path="/v1/vehicles/retrieve",
        query={"consumer": "meters-integration-api"},
        headers=call.headers,
        body=body,
    )
    assert call.headers["X-Request-Id"] == call.headers["x-request-id"] == "req-1"
    assert call.headers.get("Content-Type") == "application/json"
    assert "CONSUMER" not in call.headers
    assert sim.calls.to("POST /v1/vehicles/retrieve") == [call]
    assert sim.calls.to("GET /_sim/faults") == []
    async with http.get(base + "/_sim/calls") as response:
        assert await response.json() == [
            {
                "endpoint": "POST /v1/vehicles/retrieve",
                "method": "POST",
                "path": "/v1/vehicles/retrieve",
                "query": {"consumer": "meters-integration-api"},
                "headers": call.headers,
                "body": body,
                "received_at": call.received_at,
                "status": 200,
                "duration_ms": call.duration_ms,
                "fault": None,
            }
        ]
    assert call.status == 200
    assert 0 < call.received_at <= time.time()
    assert call.duration_ms is not None
    assert call.duration_ms >= 0

    async with http.delete(base + "/_sim/calls") as response:
        assert response.status == 204
    assert len(sim.calls) == 0


async def test_call_log_endpoint_is_the_route_template(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = MonitexSimulator(token=TOKEN)
    base = await serve(sim)

    await http.get(base + "/rides/ride-42", headers=AUTH)

    [call] = sim.calls.to("GET /rides/{rideId}")
    assert (call.method, call.path, call.query, call.body) == ("GET", "/rides/ride-42", {}, None)


async def test_call_log_decodes_bson_and_keeps_undecodable_bytes(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)

    await post_bson(http, base + GET_FIELDS, exact(), {"fields": ["order.nz"]})
    await http.post(
        base + GET_FIELDS, params=exact(), data=b"\x01garbage", headers={"Content-Type": "x/y"}
    )

    bson_call, garbage_call = order_core.calls.to(f"POST {GET_FIELDS}")
    assert bson_call.body == {"fields": ["order.nz"]}
    assert garbage_call.body == b"\x01garbage"


async def test_status_fault_answers_a_json_error_and_still_records(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    await add_fault(http, base, endpoint=f"POST {PERSONAL_RETRIEVE}", status=503)

    status, raw = await retrieve_pd(http, base)

    assert status == 503
    assert json.loads(raw)["code"] == "injected_fault"
    assert len(personal.calls.to(f"POST {PERSONAL_RETRIEVE}")) == 1


async def test_after_effect_status_fault_runs_the_handler_then_answers_a_proxy_page(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    monitex = MonitexSimulator(token=TOKEN)
    base = await serve(monitex)
    await add_fault(http, base, endpoint="POST /ride", status=502, after_effect=True, times=1)

    async with http.post(base + "/ride", json=START_BODY, headers=AUTH) as response:
        status, content_type, text = response.status, response.content_type, await response.text()

    # The ride was started (the effect landed), its answer lost behind the proxy's page.
    assert (status, content_type) == (502, "text/html")
    assert "<html>" in text
    assert len(monitex.rides) == 1
    [call] = monitex.calls.all()
    assert (call.status, call.fault) == (502, "status 502 after effect")


async def test_delay_fault_delays_the_answer(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    personal.faults.add(Fault(endpoint=f"POST {PERSONAL_RETRIEVE}", delay_ms=200, status=500))

    started = time.monotonic()
    status, _ = await retrieve_pd(http, base)

    assert time.monotonic() - started >= 0.2
    assert status == 500
    [call] = personal.calls.all()
    assert (call.status, call.fault) == (500, "delay 200 ms, status 500")
    assert call.duration_ms is not None
    assert call.duration_ms >= 200


async def test_a_hanging_dependency_times_the_client_out(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    personal.faults.add(Fault(endpoint=f"POST {PERSONAL_RETRIEVE}", delay_ms=60_000))

    with pytest.raises(TimeoutError):
        await http.post(
            base + PERSONAL_RETRIEVE,
            json={"id": "pd-1", "primary_replica": False},
            timeout=aiohttp.ClientTimeout(total=0.1),
        )
    [call] = personal.calls.all()
    assert (call.status, call.fault) == (None, "delay 60000 ms")


async def test_malformed_body_fault_keeps_the_status_but_not_the_body(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)
    await add_fault(http, base, endpoint=f"POST {GET_FIELDS}", body="malformed")

    status, raw = await post_bson(http, base + GET_FIELDS, exact(), {"fields": ["order.nz"]})

    assert status == 200
    with pytest.raises(bson.errors.InvalidBSON):
        bson.decode(raw)
    assert not decodes_as_json(raw)


async def test_truncated_body_fault_cuts_the_real_body_in_half(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    _, whole = await retrieve_pd(http, base)
    await add_fault(http, base, endpoint=f"POST {PERSONAL_RETRIEVE}", body="truncated")

    status, cut = await retrieve_pd(http, base)

    assert status == 200
    assert cut == whole[: len(whole) // 2]


async def test_empty_fields_fault_blanks_every_json_string(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    await add_fault(http, base, endpoint=f"POST {PERSONAL_RETRIEVE}", body="empty_fields")

    status, raw = await retrieve_pd(http, base)

    assert (status, json.loads(raw)) == (200, {"id": "", "value": ""})


async def test_empty_fields_fault_blanks_every_bson_string(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)
    await add_fault(http, base, endpoint=f"POST {GET_FIELDS}", body="empty_fields")
    fields = ["order.nz", "order.fixed_price.price", "performer.alias_id"]

    status, raw = await post_bson(http, base + GET_FIELDS, exact(), {"fields": fields})

    assert status == 200
    assert bson.decode(raw) == {
        "document": {
            "order": {"nz": "", "fixed_price": {"price": 42.24}},
            "performer": {"alias_id": ""},
        },
        "revision": {"order.version": 7, "processing.version": 3},
    }


async def test_fault_with_times_expires_after_that_many_calls(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    await add_fault(http, base, endpoint=f"POST {PERSONAL_RETRIEVE}", status=500, times=2)

    statuses = [(await retrieve_pd(http, base))[0] for _ in range(3)]

    assert statuses == [500, 500, 200]
    async with http.get(base + "/_sim/faults") as response:
        assert await response.json() == []


async def test_one_fault_object_armed_twice_faults_as_many_calls_each_time(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    """The book spends a copy's ``times``: a test's parametrized Fault, armed again in a second
    run of the same process, still expires (it used to stay armed for good)."""
    base = await serve(personal)
    fault = Fault(f"POST {PERSONAL_RETRIEVE}", status=500, times=1)

    personal.faults.add(fault)
    first = [(await retrieve_pd(http, base))[0] for _ in range(2)]
    personal.faults.add(fault)
    second = [(await retrieve_pd(http, base))[0] for _ in range(2)]

    assert (first, second) == ([500, 200], [500, 200])
    assert fault == Fault(f"POST {PERSONAL_RETRIEVE}", status=500, times=1)


async def test_fault_with_after_lets_that_many_calls_through_first(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    await add_fault(http, base, endpoint=f"POST {PERSONAL_RETRIEVE}", status=500, after=1, times=1)

    statuses = [(await retrieve_pd(http, base))[0] for _ in range(3)]

    assert statuses == [200, 500, 200]


async def test_fault_control_api_lists_refuses_and_clears(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    endpoint = f"POST {PERSONAL_RETRIEVE}"
    await add_fault(http, base, endpoint=endpoint, status=500, times=3)
    await retrieve_pd(http, base)

    async with http.get(base + "/_sim/faults") as response:
        assert await response.json() == [
            {
                "endpoint": endpoint,
                "status": 500,
                "delay_ms": 0,
                "body": None,
                "pending_forever": False,
                "times": 2,
                "after": 0,
                "after_effect": False,
            }
        ]
    for bad in (
        {"endpoint": "POST /nowhere", "status": 500},
        {"endpoint": endpoint, "body": "sideways"},
        {"endpoint": endpoint, "times": 0},
        {"endpoint": endpoint, "after": -1},
        {"endpoint": endpoint, "status": "500"},
        {"endpoint": endpoint, "colour": "red"},
        {"endpoint": endpoint, "after_effect": True},
        {"endpoint": endpoint, "status": 502, "after_effect": "yes"},
    ):
        status, answer = await post_json(http, base + "/_sim/faults", bad)
        assert (status, answer["code"]) == (400, "bad_fault"), bad
    async with http.delete(base + "/_sim/faults") as response:
        assert response.status == 204

    assert (await retrieve_pd(http, base))[0] == 200


# --- order-core ---------------------------------------------------------------------------------


async def test_order_core_get_fields_projects_only_existing_paths(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)
    fields = ["order.nz", "order.performer.db_id", "order.external_meter_ride_id", "payment_tech"]

    status, raw = await post_bson(http, base + GET_FIELDS, exact(), {"fields": fields})

    assert status == 200
    assert bson.decode(raw) == {
        "document": {
            "order": {"nz": "tel_aviv", "performer": {"db_id": "park-1"}},
            "payment_tech": {"type": "cash"},
        },
        "revision": {"order.version": 7, "processing.version": 3},
    }


async def test_order_core_finds_orders_by_alias_id(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)
    params = {"order_id": "alias-1", "order_id_type": "alias_id"}

    status, raw = await post_bson(http, base + GET_FIELDS, params, {"fields": ["order.nz"]})

    assert status == 200
    assert bson.decode(raw)["document"] == {"order": {"nz": "tel_aviv"}}


async def test_order_core_revision_only(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)

    status, raw = await post_bson(http, base + GET_FIELDS, exact(), {"fields": ["revision"]})

    assert status == 200
    assert bson.decode(raw) == {"revision": {"order.version": 7, "processing.version": 3}}


async def test_order_core_errors_are_json(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)
    fields = {"fields": ["order.nz"]}

    missing = await post_bson(http, base + GET_FIELDS, exact("order-2"), fields)
    unknown_alias = await post_bson(
        http, base + GET_FIELDS, {"order_id": "order-1", "order_id_type": "alias_id"}, fields
    )
    bad_type = await post_bson(
        http, base + GET_FIELDS, {"order_id": "order-1", "order_id_type": "x"}, fields
    )
    bad_fields = await post_bson(http, base + GET_FIELDS, exact(), {"fields": "order.nz"})
    async with http.post(base + GET_FIELDS, params=exact(), json=fields) as response:
        json_body = response.status, await response.read()

    assert [(status, json.loads(raw)["code"]) for status, raw in (missing, unknown_alias)] == [
        (404, "no_such_order"),
        (404, "no_such_order"),
    ]
    for status, raw in (bad_type, bad_fields, json_body):
        assert (status, json.loads(raw)["code"]) == (400, "bad_request")


async def test_order_core_set_fields_applies_under_the_current_revision(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)
    update = {
        "update": {
            "$set": {"order.external_meter_ride_id": "ride-1"},
            "$inc": {"order.version": 1},
        },
        "revision": {"order.version": 7, "processing.version": 3},
    }

    status, raw = await post_bson(http, base + SET_FIELDS, exact(), update)

    assert (status, bson.decode(raw)) == (200, {})
    assert order_core.order("order-1")["order"]["external_meter_ride_id"] == "ride-1"
    assert order_core.order("order-1")["order"]["nz"] == "tel_aviv"
    assert order_core.revision("order-1") == {"order.version": 8, "processing.version": 3}


async def test_order_core_set_fields_with_a_stale_revision_is_a_race(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)
    update = {
        "update": {"$set": {"order.external_meter_ride_id": "ride-1"}},
        "revision": {"order.version": 6, "processing.version": 3},
    }

    status, raw = await post_bson(http, base + SET_FIELDS, exact(), update)

    assert (status, json.loads(raw)["code"]) == (409, "race_condition")
    assert order_core.order("order-1") == ORDER_DOCUMENT


async def test_order_core_set_fields_refuses_a_path_through_a_value(
    serve: Serve, http: aiohttp.ClientSession, order_core: OrderCoreSimulator
) -> None:
    base = await serve(order_core)
    update = {
        "update": {"$set": {"order.a": 1, "order.nz.x": "y"}},
        "revision": {"order.version": 7, "processing.version": 3},
    }

    status, _ = await post_bson(http, base + SET_FIELDS, exact(), update)

    assert status == 400
    assert order_core.order("order-1") == ORDER_DOCUMENT


async def test_order_core_http_seeding(serve: Serve, http: aiohttp.ClientSession) -> None:
    sim = OrderCoreSimulator()
    base = await serve(sim)
    seed = {"order_id": "order-9", "document": {"order": {"nz": "riga"}}}

    status, _ = await post_json(http, base + "/_sim/orders", seed)
    async with http.get(base + "/_sim/orders/order-9") as response:
        shown = await response.json()

    assert status == 201
    assert shown == {
        **seed,
        "revision": {"order.version": 1, "processing.version": 1},
    }
    assert sim.order("order-9") == {"order": {"nz": "riga"}}


# --- the other platform services -----------------------------------------------------------


async def test_driver_profiles_returns_docs_for_every_requested_id(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = DriverProfilesSimulator()
    docs = [{"id": "doc-1", "data": {"type": "national_id_isr", "number_pd_id": "pd-1"}}]
    sim.add_docs("park-1_driver-1", docs)
    base = await serve(sim)
    url = base + "/v1/identity-docs/retrieve_by_park_driver_profile_id"
    body = {"park_driver_profile_id_in_set": ["park-1_driver-1", "park-1_driver-2"]}

    status, answer = await post_json(http, url, body, params={"consumer": "meters-integration-api"})
    no_consumer, _ = await post_json(http, url, body)

    assert (status, no_consumer) == (200, 400)
    assert answer == {
        "docs_by_park_driver_profile_id": [
            {"park_driver_profile_id": "park-1_driver-1", "docs": docs},
            {"park_driver_profile_id": "park-1_driver-2", "docs": []},
        ]
    }


async def test_driver_profiles_http_seeding(serve: Serve, http: aiohttp.ClientSession) -> None:
    base = await serve(DriverProfilesSimulator())
    docs = [{"id": "doc-1", "data": {"type": "passport", "number_pd_id": "pd-2"}}]

    await post_json(http, base + "/_sim/docs", {"park_driver_profile_id": "p_d", "docs": docs})
    _, answer = await post_json(
        http,
        base + "/v1/identity-docs/retrieve_by_park_driver_profile_id",
        {"park_driver_profile_id_in_set": ["p_d"]},
        params={"consumer": "meters-integration-api"},
    )

    assert answer["docs_by_park_driver_profile_id"][0]["docs"] == docs


async def test_personal_answers_the_value_as_a_json_string(
    serve: Serve, http: aiohttp.ClientSession, personal: PersonalSimulator
) -> None:
    base = await serve(personal)
    await post_json(http, base + "/_sim/identifications", {"id": "pd-2", "number": "000000018"})
    url = base + PERSONAL_RETRIEVE

    known = await post_json(http, url, {"id": "pd-1", "primary_replica": False})
    seeded = await post_json(http, url, {"id": "pd-2", "primary_replica": False})
    unknown = await post_json(http, url, {"id": "pd-3", "primary_replica": False})
    invalid = await post_json(http, url, {"id": "pd-1"})

    assert known == (200, {"id": "pd-1", "value": '{"number": "123456782"}'})
    assert seeded == (200, {"id": "pd-2", "value": '{"number": "000000018"}'})
    assert (unknown[0], unknown[1]["code"]) == (404, "not_found")
    assert invalid[0] == 400


async def test_fleet_vehicles_projects_data_and_marks_unknown_cars(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = FleetVehiclesSimulator()
    sim.add_vehicle("p_with", {"permit_num": "permit-1", "color": "white"})
    sim.add_vehicle("p_without", None)
    base = await serve(sim)
    await post_json(http, base + "/_sim/vehicles", {"park_id_car_id": "p_seeded", "data": {}})

    status, answer = await post_json(
        http,
        base + "/v1/vehicles/retrieve",
        {
            "id_in_set": ["p_with", "p_without", "p_seeded", "p_unknown"],
            "projection": ["data.permit_num"],
        },
        params={"consumer": "meters-integration-api"},
    )

    assert status == 200
    assert answer == {
        "vehicles": [
            {"park_id_car_id": "p_with", "data": {"permit_num": "permit-1"}},
            {"park_id_car_id": "p_without"},
            {"park_id_car_id": "p_seeded", "data": {}},
            {"park_id_car_id": "p_unknown"},
        ]
    }


async def test_driver_orders_builder_updates_only_the_meter_flag(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = DriverOrdersBuilderSimulator()
    sim.add_setcar("alias-1", "park-1", "driver-1")
    base = await serve(sim)
    url = base + "/v1/setcar/update-lite"
    params = {"order_id": "alias-1", "park_id": "park-1", "driver_profile_id": "driver-1"}

    def change(field: str, value: str) -> dict[str, Any]:
        return {"changes": [{"field": field, "value": value}]}

    flag = "taximeter_settings.is_external_meter_run"
    assert sim.setcar_value("alias-1", "park-1", "driver-1") is None
    assert await post_json(http, url, change(flag, "true"), params=params) == (200, {})
    assert sim.setcar_value("alias-1", "park-1", "driver-1") == "true"

    other_driver = {**params, "driver_profile_id": "driver-2"}
    assert (await post_json(http, url, change(flag, "false"), params=other_driver))[0] == 404
    assert (await post_json(http, url, change("other.field", "true"), params=params))[0] == 409
    assert (await post_json(http, url, change(flag, "yes"), params=params))[0] == 409
    assert (await post_json(http, url, {"changes": []}, params=params))[0] == 400
    assert sim.setcar_value("alias-1", "park-1", "driver-1") == "true"


async def test_client_notify_acknowledges_complete_pushes(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    base = await serve(ClientNotifySimulator())
    push = {
        "service": "taximeter",
        "intent": "ForcePollingOrder",
        "client_id": "park-1-driver-1",
        "data": {"code": 1600},
    }

    status, answer = await post_json(http, base + "/v2/push", push)
    without_intent, _ = await post_json(http, base + "/v2/push", {**push, "intent": None})

    assert status == 200
    uuid.UUID(answer["notification_id"])
    assert without_intent == 400


# --- Monitex ----------------------------------------------------------------------------------


async def test_monitex_requires_the_bearer_token(serve: Serve, http: aiohttp.ClientSession) -> None:
    sim = MonitexSimulator(token=TOKEN)
    base = await serve(sim)

    without, _ = await post_json(http, base + "/ride", START_BODY)
    wrong, _ = await post_json(
        http, base + "/ride", START_BODY, headers={"Authorization": "Bearer nope"}
    )

    assert (without, wrong) == (401, 401)
    assert sim.rides == {}
    assert len(sim.calls.to("POST /ride")) == 2


async def test_monitex_starts_a_running_ride(serve: Serve, http: aiohttp.ClientSession) -> None:
    sim = MonitexSimulator(token=TOKEN)
    base = await serve(sim)

    status, answer = await post_json(http, base + "/ride", START_BODY, headers=AUTH)
    async with http.get(f"{base}/rides/{answer['rideId']}", headers=AUTH) as response:
        ride = await response.json()

    assert (status, answer["status"]) == (201, "OK")
    assert ride == {
        "id": answer["rideId"],
        "driverId": "123456782",
        "state": "IN_PROGRESS",
        "totalPrice": 0,
    }


async def test_monitex_refuses_invalid_starts(serve: Serve, http: aiohttp.ClientSession) -> None:
    base = await serve(MonitexSimulator(token=TOKEN))

    for body in (
        {**START_BODY, "driverId": ""},
        {**START_BODY, "vehicleLicense": 7},
        {**START_BODY, "priceLimit": "4224"},
        [START_BODY],
    ):
        status, _ = await post_json(http, base + "/ride", body, headers=AUTH)
        assert status == 400, body


async def test_monitex_pending_ride_runs_on_the_nth_poll(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    base = await serve(MonitexSimulator(token=TOKEN, start_pending_polls=3))

    status, answer = await post_json(http, base + "/ride", START_BODY, headers=AUTH)
    states = []
    for _ in range(4):
        async with http.get(f"{base}/rides/{answer['rideId']}", headers=AUTH) as response:
            states.append((await response.json())["state"])

    assert (status, answer["status"]) == (206, "PENDING")
    assert states == ["PENDING", "PENDING", "IN_PROGRESS", "IN_PROGRESS"]


async def test_monitex_start_is_idempotent_per_driver_and_vehicle(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = MonitexSimulator(token=TOKEN, start_pending_polls=1)
    base = await serve(sim)

    first = await post_json(http, base + "/ride", START_BODY, headers=AUTH)
    same_driver = await post_json(
        http, base + "/ride", {**START_BODY, "vehicleLicense": "permit-2"}, headers=AUTH
    )
    same_vehicle = await post_json(
        http, base + "/ride", {**START_BODY, "driverId": "000000018"}, headers=AUTH
    )
    await http.get(f"{base}/rides/{first[1]['rideId']}", headers=AUTH)
    running = await post_json(http, base + "/ride", START_BODY, headers=AUTH)

    assert first[0] == 206
    assert same_driver == first
    assert same_vehicle == first
    assert running == (201, {"status": "OK", "rideId": first[1]["rideId"]})
    assert len(sim.rides) == 1


async def test_monitex_pending_forever_fault_keeps_the_ride_pending(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = MonitexSimulator(token=TOKEN)
    base = await serve(sim)
    await add_fault(http, base, endpoint="POST /ride", pending_forever=True, times=1)

    status, answer = await post_json(http, base + "/ride", START_BODY, headers=AUTH)
    for _ in range(5):
        await http.get(f"{base}/rides/{answer['rideId']}", headers=AUTH)
    other_driver = {"driverId": "000000018", "vehicleLicense": "permit-2", "priceLimit": 100}
    next_status, _ = await post_json(http, base + "/ride", other_driver, headers=AUTH)

    assert (status, answer["status"]) == (206, "PENDING")
    assert sim.rides[answer["rideId"]].state is RideState.PENDING
    assert next_status == 201


async def test_monitex_stop_sets_the_meter_price_once(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = MonitexSimulator(token=TOKEN)
    base = await serve(sim)
    seeded, _ = await post_json(
        http, base + "/_sim/meter-price", {"vehicleLicense": "permit-1", "totalPrice": 4004}
    )
    _, answer = await post_json(http, base + "/ride", START_BODY, headers=AUTH)
    url = f"{base}/rides/{answer['rideId']}"

    first = await stop_ride(http, url, "CASH")
    sim.set_meter_price("permit-1", 9999)
    second = await stop_ride(http, url, "APP")
    async with http.get(url, headers=AUTH) as response:
        ride = await response.json()

    assert seeded == 201
    assert first == second == (200, {"status": "OK"})
    assert ride == {
        "id": answer["rideId"],
        "driverId": "123456782",
        "state": "COMPLETED",
        "totalPrice": 4004,
    }
    stored = sim.rides[answer["rideId"]]
    assert (stored.payment_method, stored.vehicle_license, stored.price_limit) == (
        "CASH",
        "permit-1",
        4224.0,
    )


async def test_monitex_stop_without_a_meter_price_uses_the_price_limit(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = MonitexSimulator(token=TOKEN)
    base = await serve(sim)
    body = {**START_BODY, "priceLimit": 4224.9}
    _, answer = await post_json(http, base + "/ride", body, headers=AUTH)

    status, _ = await stop_ride(http, f"{base}/rides/{answer['rideId']}", "APP")

    assert status == 200
    assert sim.rides[answer["rideId"]].total_price == 4224


async def test_monitex_refuses_stops_it_cannot_apply(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = MonitexSimulator(token=TOKEN, start_pending_polls=2)
    base = await serve(sim)
    _, answer = await post_json(http, base + "/ride", START_BODY, headers=AUTH)
    stop = {"state": "COMPLETED", "paymentMethod": "CASH"}

    async def put(ride_id: str, body: dict[str, str]) -> int:
        async with http.put(f"{base}/rides/{ride_id}", json=body, headers=AUTH) as response:
            return response.status

    assert await put("nope", stop) == 404
    assert await put(answer["rideId"], stop) == 409
    assert await put(answer["rideId"], {**stop, "paymentMethod": "CARD"}) == 400
    assert await put(answer["rideId"], {**stop, "state": "IN_PROGRESS"}) == 400
    async with http.get(f"{base}/rides/nope", headers=AUTH) as response:
        assert response.status == 404


# --- OptumPlus --------------------------------------------------------------------------------


async def test_optumplus_records_submitted_prices(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    sim = OptumPlusSimulator(token=TOKEN)
    base = await serve(sim)
    body = {"car_number": "AB-1234", "price": 4224.0}

    ok = await post_json(http, base + "/submit_price", body, headers=AUTH)
    unauthorized, _ = await post_json(http, base + "/submit_price", body)
    invalid, _ = await post_json(
        http, base + "/submit_price", {"car_number": "AB-1234", "price": True}, headers=AUTH
    )

    assert ok == (200, {"status": "OK"})
    assert (unauthorized, invalid) == (401, 400)
    assert sim.submissions == [Submission(car_number="AB-1234", price=4224.0)]
