"""``/metrics`` (docs/design.md §9): ride outcomes by vendor, country, result, reason; durations.

Samples are compared as increases between two scrapes, so other tests' rides do not matter.
"""

from collections import Counter
from typing import Any

from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import (
    GET_FIELDS,
    IDENTIFICATION,
    MONITEX_START,
    MONITEX_STOP,
    SET_FIELDS,
    SETCAR,
    VEHICLES,
)
from tests.gateway_world import (
    DRIVER_HEADERS,
    MONITEX_TOKEN,
    OPTUMPLUS_TOKEN,
    Gateway,
    RunningWorld,
)
from tests.observability.scrape import Labels, increase, labels, samples, scrape

NATIONAL_ID = "123456782"


def ride(name: str, **overrides: Any) -> RideSeed:
    return RideSeed(order_id=f"order-{name}", alias_id=f"alias-{name}", **overrides)


def own_meter(name: str) -> dict[str, Any]:
    """A driver and car of the order's own: Monitex answers a new start with the ride still
    open for the same driver or car, which belongs to another order (docs/design.md §3a)."""
    return {
        "driver_profile_id": f"driver-{name}",
        "car_id": f"car-{name}",
        "national_id": f"id-{name}",
        "permit": f"permit-{name}",
    }


def started(vendor: str, country: str, result: str, reason: str) -> Labels:
    return labels(vendor=vendor, country=country, result=result, reason=reason)


finished = started


async def drive_start_rides(world: RunningWorld, gateway: Gateway) -> None:
    """One task for every start-ride outcome, each fault spent by its own task."""
    sims = world.sims
    seeds: list[tuple[str, dict[str, Any]]] = [
        ("ok", {}),
        ("no-permit", own_meter("no-permit")),
        ("no-id", own_meter("no-id")),
        ("vendor-down", own_meter("vendor-down")),
        ("not-stored", own_meter("not-stored")),
        ("no-setcar", own_meter("no-setcar")),
        ("no-price", {"fixed_price": None, **own_meter("no-price")}),
        ("corp", {"payment_type": "corp"}),
        ("lv", {"zone": "riga"}),
    ]
    for name, extra in seeds:
        sims.seed_ride(ride(name, **extra))
    await gateway.start_ride("order-ok")
    await gateway.start_ride("order-ok")  # a redelivery finds the stored ride id
    sims.fleet_vehicles.faults.add(Fault(VEHICLES, status=500, times=1))
    await gateway.start_ride("order-no-permit")
    sims.personal.faults.add(Fault(IDENTIFICATION, status=500, times=1))
    await gateway.start_ride("order-no-id")
    # Down for the start and for the second ask a 500 earns (§3a), so the start falls back.
    sims.monitex.faults.add(Fault(MONITEX_START, status=500, times=2))
    await gateway.start_ride("order-vendor-down")
    sims.order_core.faults.add(Fault(SET_FIELDS, status=500, times=1))
    await gateway.start_ride("order-not-stored")
    sims.driver_orders_builder.faults.add(Fault(SETCAR, status=500, times=1))
    await gateway.start_ride("order-no-setcar")
    await gateway.start_ride("order-no-price")
    await gateway.start_ride("order-corp")
    await gateway.start_ride("order-lv")
    await gateway.start_ride("order-nobody-knows")


async def drive_finish_rides(world: RunningWorld, gateway: Gateway) -> None:
    sims = world.sims
    sims.monitex.set_meter_price("PERMIT-7", 4004)
    # Refused before it is priced: a priced order is answered again without a vendor call.
    sims.monitex.faults.add(Fault(MONITEX_STOP, status=500, times=1))
    assert (await gateway.finish_ride("alias-ok"))[0] == 502
    sims.order_core.faults.add(Fault(GET_FIELDS, status=500, times=1))
    assert (await gateway.finish_ride("alias-ok"))[0] == 502
    assert await gateway.finish_ride("alias-ok") == (200, {"price": 40.04})
    assert (await gateway.finish_ride("alias-lv"))[0] == 200
    assert (await gateway.finish_ride("alias-ok", headers={}))[0] == 401
    assert (await gateway.finish_ride("alias-ok", -1))[0] == 400
    assert (await gateway.finish_ride("alias-nobody-knows"))[0] == 404
    other_driver = {**DRIVER_HEADERS, "X-YaTaxi-Driver-Profile-Id": "driver2"}
    assert (await gateway.finish_ride("alias-ok", headers=other_driver))[0] == 404
    assert (await gateway.finish_ride("alias-ok", driver_price=42.25))[0] == 400
    assert (await gateway.finish_ride("alias-corp"))[0] == 409


async def test_every_start_ride_outcome_is_counted_under_its_own_reason(
    world: RunningWorld, gateway: Gateway
) -> None:
    before = await scrape(gateway.client)

    await drive_start_rides(world, gateway)

    after = await scrape(gateway.client)
    expected = Counter(
        {
            started("monitex", "IL", "started", "ok"): 1,
            started("monitex", "IL", "already_started", "ok"): 1,
            started("monitex", "IL", "fallback", "permit_unavailable"): 1,
            started("monitex", "IL", "fallback", "driver_id_unavailable"): 1,
            started("monitex", "IL", "fallback", "vendor_start_failed"): 1,
            started("monitex", "IL", "fallback", "ride_id_not_stored"): 1,
            started("monitex", "IL", "fallback", "fixed_price_missing"): 1,
            started("monitex", "IL", "ended", "setcar_failed"): 1,
            started("", "IL", "skipped", "corporate_order"): 1,
            started("optumplus", "LV", "skipped", "vendor_cannot_start"): 1,
            started("", "", "ended", "order_read_failed"): 1,
        }
    )
    assert increase(before, after, "meters_rides_started_total") == expected
    by_result: Counter[Labels] = Counter()
    for sample_labels, count in expected.items():
        # The in-memory broker delivers each task once: no run is a redelivery.
        by_result[labels(result=dict(sample_labels)["result"], redelivered="false")] += count
    assert increase(before, after, "meters_start_ride_task_duration_seconds_count") == by_result


async def test_every_finish_ride_answer_is_counted_under_its_code(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ride("ok"))
    world.sims.seed_ride(ride("lv", zone="riga"))
    world.sims.seed_ride(ride("corp", payment_type="corp"))
    await gateway.start_ride("order-ok")
    before = await scrape(gateway.client)

    await drive_finish_rides(world, gateway)

    after = await scrape(gateway.client)
    expected = Counter(
        {
            finished("monitex", "IL", "priced", "ok"): 1,
            finished("optumplus", "LV", "priced", "ok"): 1,
            finished("", "", "refused", "unauthorized"): 1,
            finished("", "", "refused", "invalid_request"): 1,
            finished("", "", "refused", "order_not_found"): 2,
            finished("monitex", "IL", "refused", "prices_differ"): 1,
            finished("", "IL", "refused", "not_enabled"): 1,
            finished("monitex", "IL", "refused", "vendor_error"): 1,
            finished("", "", "refused", "order_core_error"): 1,
        }
    )
    assert increase(before, after, "meters_rides_finished_total") == expected
    by_code: Counter[Labels] = Counter()
    for sample_labels, count in expected.items():
        by_code[labels(code=dict(sample_labels)["reason"])] += count
    assert increase(before, after, "meters_finish_ride_duration_seconds_count") == by_code


async def test_every_upstream_and_vendor_call_is_timed_by_outcome(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ride("ok"))
    world.sims.seed_ride(ride("lv", zone="riga"))
    before = await scrape(gateway.client)

    await gateway.start_ride("order-ok")
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=500, times=1))
    assert (await gateway.finish_ride("alias-ok"))[0] == 502
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, body="malformed", times=1))
    assert (await gateway.finish_ride("alias-ok"))[0] == 502
    assert (await gateway.finish_ride("alias-ok"))[0] == 200
    assert (await gateway.finish_ride("alias-lv"))[0] == 200
    world.sims.fleet_vehicles.faults.add(Fault(VEHICLES, status=503, times=1))
    world.sims.seed_ride(ride("again"))
    await gateway.start_ride("order-again")

    after = await scrape(gateway.client)

    def vendor(name: str, operation: str, outcome: str) -> Labels:
        return labels(vendor=name, operation=operation, outcome=outcome)

    assert increase(before, after, "meters_vendor_call_duration_seconds_count") == Counter(
        {
            vendor("monitex", "start_ride", "ok"): 1,
            vendor("monitex", "stop_ride", "vendor_error_status"): 1,
            vendor("monitex", "stop_ride", "vendor_malformed_response"): 1,
            vendor("monitex", "stop_ride", "ok"): 1,
            vendor("monitex", "get_ride", "ok"): 1,
            vendor("optumplus", "submit_price", "ok"): 1,
        }
    )

    def upstream(service: str, operation: str, outcome: str) -> Labels:
        return labels(service=service, operation=operation, outcome=outcome)

    grown = increase(before, after, "meters_upstream_call_duration_seconds_count")
    assert grown[upstream("order_core", "get_order", "ok")] == 6  # 2 tasks, 4 finishes
    assert grown[upstream("order_core", "get_revision", "ok")] == 1
    assert grown[upstream("order_core", "set_fields", "ok")] == 1
    assert grown[upstream("fleet_vehicles", "retrieve_vehicle", "ok")] == 1
    assert grown[upstream("fleet_vehicles", "retrieve_vehicle", "error_status")] == 1
    assert grown[upstream("driver_orders_builder", "setcar_update_lite", "ok")] == 2
    assert grown[upstream("client_notify", "push_force_polling_order", "ok")] == 2


async def test_every_error_answer_is_counted_by_its_http_status(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ride("ok"))
    world.sims.seed_ride(ride("again"))
    await gateway.start_ride("order-ok")
    before = await scrape(gateway.client)

    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=401, times=1))
    assert (await gateway.finish_ride("alias-ok"))[0] == 502
    world.sims.monitex.faults.add(Fault(MONITEX_STOP, status=503, times=1))
    assert (await gateway.finish_ride("alias-ok"))[0] == 502
    assert (await gateway.finish_ride("alias-ok"))[0] == 200
    world.sims.fleet_vehicles.faults.add(Fault(VEHICLES, status=503, times=1))
    await gateway.start_ride("order-again")

    after = await scrape(gateway.client)
    assert increase(before, after, "meters_vendor_call_error_answers_total") == Counter(
        {
            labels(vendor="monitex", operation="stop_ride", status="401"): 1,
            labels(vendor="monitex", operation="stop_ride", status="503"): 1,
        }
    )
    assert increase(before, after, "meters_upstream_call_error_answers_total") == Counter(
        {labels(service="fleet_vehicles", operation="retrieve_vehicle", status="503"): 1}
    )


async def test_metric_names_are_in_base_units_and_labels_name_no_one(
    world: RunningWorld, gateway: Gateway
) -> None:
    world.sims.seed_ride(ride("ok"))
    world.sims.seed_ride(ride("lv", zone="riga"))
    await drive_start_rides(world, gateway)
    await drive_finish_rides(world, gateway)

    text = await scrape(gateway.client)

    ours = [line for line in text.splitlines() if line.startswith("meters_")]
    assert ours
    # Gauges hold a state: 1/0, a count of things, or an age in seconds.
    gauges = {
        line.split(" ")[2]
        for line in text.splitlines()
        if line.startswith("# TYPE meters_") and line.endswith(" gauge")
    }
    for line in ours:
        name = line.split("{")[0].split(" ")[0]
        if name in gauges and not name.endswith("_created"):
            assert name.endswith(("_up", "_length", "_consumers", "_seconds")), name
            continue
        assert name.endswith(("_total", "_created")) or "_seconds_" in name, name
    people = ("order-", "alias-", "park1", "driver1", "driver2", "PERMIT", NATIONAL_ID)
    secrets = (MONITEX_TOKEN, OPTUMPLUS_TOKEN)
    for name in ("meters_rides_started_total", "meters_rides_finished_total"):
        for sample_labels in samples(text, name):
            for _, value in sample_labels:
                assert not any(word in value for word in (*people, *secrets)), value
    assert not any(word in text for word in (*people, *secrets))
