"""``meters-integration-api serve`` with a config pointing at real upstream URLs runs both flows."""

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from gateway.sandbox.world import RideSeed
from tests.calls import GET_FIELDS, MONITEX_START, OPTUMPLUS_SUBMIT, SET_FIELDS, setcar_values
from tests.gateway_world import DRIVER_HEADERS, RunningWorld
from tests.observability.scrape import labels, samples
from tests.processes import serving

FINISH = "/driver/v1/meters-integration-api/finish-ride"
START = "/internal/meters-integration-api/v1/start-ride"


async def wait_for(condition: Any, timeout_s: float = 10) -> None:
    async with asyncio.timeout(timeout_s):
        # The condition is the effect of another process's calls on the simulators: poll it.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_serve_runs_an_israeli_and_a_latvian_ride_end_to_end(
    world: RunningWorld, settings_tree: dict[str, Any], tmp_path: Path
) -> None:
    sims = world.sims
    sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    sims.monitex.set_meter_price("PERMIT-7", 4110)
    sims.seed_ride(
        RideSeed("order-lv-1", "alias-lv-1", zone="riga", car_number="LV-77", national_id=None)
    )

    async with serving(settings_tree, tmp_path) as gateway, aiohttp.ClientSession() as http:
        async with http.post(gateway.base_url + START, json={"order_id": "order-il-1"}) as response:
            assert response.status == 202
        await wait_for(lambda: setcar_values(sims) == ["true"])
        assert len(sims.monitex.calls.to(MONITEX_START)) == 1
        assert len(sims.order_core.calls.to(SET_FIELDS)) == 1

        il_answer = await http.post(
            gateway.base_url + FINISH,
            json={"order_id": "alias-il-1", "user_price": 42.24, "driver_price": 42.24},
            headers=DRIVER_HEADERS,
        )
        lv_answer = await http.post(
            gateway.base_url + FINISH,
            json={"order_id": "alias-lv-1", "user_price": 42.24, "driver_price": 42.24},
            headers=DRIVER_HEADERS,
        )
        assert (il_answer.status, await il_answer.json()) == (200, {"price": 41.1})
        assert (lv_answer.status, await lv_answer.json()) == (200, {"price": 42.24})
        assert [c.body for c in sims.optumplus.calls.to(OPTUMPLUS_SUBMIT)] == [
            {"car_number": "LV-77", "price": 4224.0}
        ]
    assert gateway.process.returncode == 0
    lines = [json.loads(line) for line in gateway.output().splitlines()]
    events = [line["event"] for line in lines]
    assert "start_ride.finished" in events
    answered = [line["result"] for line in lines if line["event"] == "finish_ride.answered"]
    assert answered == ["priced", "priced"]
    assert len(sims.order_core.calls.to(GET_FIELDS)) == 4


async def test_a_fresh_serve_exports_the_series_its_alerts_read_before_any_ride(
    world: RunningWorld, settings_tree: dict[str, Any], tmp_path: Path
) -> None:
    """The embedded broker lives in the process: up, as /health says; and every start-ride
    result's and every enqueue result's series exist at 0 (start-ride's redelivered or not), so
    that rate() and increase() see the first ones."""
    async with serving(settings_tree, tmp_path) as gateway, aiohttp.ClientSession() as http:
        async with http.get(gateway.base_url + "/metrics") as response:
            text = await response.text()
        async with http.get(gateway.base_url + "/health") as response:
            health = await response.json()

    assert health["broker"] == "reachable"
    assert samples(text, "meters_broker_up") == {(): 1.0}
    counts = samples(text, "meters_start_ride_task_duration_seconds_count")
    assert counts == {
        labels(result=result, redelivered=redelivered): 0.0
        for result in ("started", "already_started", "fallback", "skipped", "ended")
        for redelivered in ("true", "false")
    }
    assert samples(text, "meters_broker_enqueues_total") == {
        labels(result=result): 0.0 for result in ("ok", "unreachable", "timeout", "not_replicated")
    }
