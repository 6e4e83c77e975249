"""``meters-integration-api simulators`` as an operator rehearsing production runs it: the
simulators alone, a real ``serve`` pointed at them by the same settings, a ride seeded through
the control API and a vendor fault injected through the vendor simulator's ``/_sim/faults``."""

import asyncio
import json
import signal
import tomllib
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import tomli_w

from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH
from gateway.sandbox.simulators_command import READY
from gateway.sandbox.world_control import RIDES, SIMULATORS
from tests.operations.artifacts import ROOT
from tests.processes import CLI, HOST, free_port, serving
from tests.production.stream import eventually

BANNER_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
SETCAR_TIMEOUT_S = 10.0
PORT_ATTEMPTS = 3


def rehearsal_tree() -> dict[str, Any]:
    """The shipped settings with every simulator on a free port, so the test runs anywhere."""
    tree = tomllib.loads((ROOT / "config" / "meters.toml").read_text())
    for section in [*tree["upstreams"].values(), *tree["vendors"].values()]:
        section["url"] = f"http://{HOST}:{free_port()}"
    return tree


class RunningSimulators:
    def __init__(self, process: asyncio.subprocess.Process, output: Path, control: str) -> None:
        self.process = process
        self.output = output
        self.control_url = control

    def text(self) -> str:
        return self.output.read_text(errors="replace")


@pytest.fixture
async def simulators(tmp_path: Path) -> AsyncIterator[tuple[RunningSimulators, dict[str, Any]]]:
    # A port probed free may be taken before the simulators bind it (an outgoing connection's
    # ephemeral port, seen once in a CI run): then new ports, as the rehearsal's world does.
    for attempt in range(1, PORT_ATTEMPTS + 1):
        tree = rehearsal_tree()
        running = await _launched(tree, tmp_path, attempt)
        try:
            await eventually(
                partial(_ready, running, last=attempt == PORT_ATTEMPTS),
                BANNER_TIMEOUT_S,
                "the simulators print where they listen",
            )
        except PortTaken:
            continue
        try:
            yield running, tree
        finally:
            if running.process.returncode is None:
                running.process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(running.process.wait(), STOP_TIMEOUT_S)
        return


class PortTaken(Exception):
    pass


async def _launched(tree: dict[str, Any], workdir: Path, attempt: int) -> RunningSimulators:
    config = workdir / f"simulators-{attempt}.toml"
    config.write_text(tomli_w.dumps(tree))
    control_port = free_port()
    output = workdir / f"simulators-{attempt}.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(CLI),
            *("simulators", "--config", str(config), "--control-port", str(control_port)),
            stdout=sink,
            stderr=sink,
        )
    return RunningSimulators(process, output, f"http://{HOST}:{control_port}")


def _ready(running: RunningSimulators, *, last: bool) -> bool:
    text = running.text()
    if running.process.returncode is not None and "address already in use" in text and not last:
        raise PortTaken(text)
    assert running.process.returncode is None, text
    return READY in text


async def setcar_value(http: aiohttp.ClientSession, builder_url: str, alias_id: str) -> Any:
    """The order's meter flag once the start-ride task has written it."""
    found: dict[str, Any] = {}

    async def written() -> bool:
        async with http.get(builder_url + "/_sim/setcars") as response:
            found.update({setcar["order_id"]: setcar["value"] for setcar in await response.json()})
        return found.get(alias_id) is not None

    await eventually(written, SETCAR_TIMEOUT_S, f"the setcar of {alias_id} is written")
    return found[alias_id]


async def test_a_gateway_rides_on_the_simulators_seeded_and_faulted_through_their_endpoints(
    simulators: tuple[RunningSimulators, dict[str, Any]], tmp_path: Path
) -> None:
    running, tree = simulators
    monitex_url = tree["vendors"]["monitex"]["url"]
    builder_url = tree["upstreams"]["driver_orders_builder"]["url"]
    async with aiohttp.ClientSession() as http, serving(tree, tmp_path) as gateway:
        async with http.post(
            running.control_url + RIDES,
            json={"order_id": "rehearsal-1", "alias_id": "rehearsal-1-alias", "fixed_price": 30},
        ) as seeded:
            assert seeded.status == 201
            driver_headers = (await seeded.json())["driver_headers"]
        async with http.post(
            gateway.base_url + START_RIDE_PATH, json={"order_id": "rehearsal-1"}
        ) as started:
            assert started.status == 202
        assert await setcar_value(http, builder_url, "rehearsal-1-alias") == "true"
        async with http.post(
            gateway.base_url + FINISH_RIDE_PATH,
            json={"order_id": "rehearsal-1-alias", "user_price": 30, "driver_price": 30},
            headers=driver_headers,
        ) as finished:
            assert (finished.status, await finished.json()) == (200, {"price": 30.0})

        async with http.post(
            monitex_url + "/_sim/faults", json={"endpoint": "POST /ride", "status": 503}
        ) as fault:
            assert fault.status == 201
        async with http.post(
            running.control_url + RIDES,
            json={
                "order_id": "rehearsal-2",
                "alias_id": "rehearsal-2-alias",
                "driver_profile_id": "driver2",
                "car_id": "car2",
                "national_id": "111111118",
            },
        ) as seeded:
            assert seeded.status == 201
        async with http.post(
            gateway.base_url + START_RIDE_PATH, json={"order_id": "rehearsal-2"}
        ) as started:
            assert started.status == 202
        assert await setcar_value(http, builder_url, "rehearsal-2-alias") == "false"
        async with http.get(monitex_url + "/_sim/calls") as calls:
            assert [
                (call["endpoint"], call["status"], call["fault"]) for call in await calls.json()
            ] == [
                ("POST /ride", 201, None),
                ("PUT /rides/{rideId}", 200, None),
                ("GET /rides/{rideId}", 200, None),
                ("POST /ride", 503, "status 503"),
                # A 503 may have made a ride: Monitex's idempotent start is asked once more.
                ("POST /ride", 503, "status 503"),
            ]
        async with http.get(running.control_url + SIMULATORS) as listed:
            urls = await listed.json()
    assert urls["monitex"] == monitex_url
    assert urls["order_core"] == tree["upstreams"]["order_core"]["url"]


async def test_the_banner_says_where_each_simulator_listens_and_sigterm_stops_them(
    simulators: tuple[RunningSimulators, dict[str, Any]],
) -> None:
    running, tree = simulators

    running.process.send_signal(signal.SIGTERM)
    exit_code = await asyncio.wait_for(running.process.wait(), STOP_TIMEOUT_S)

    assert exit_code == 0
    text = running.text()
    assert f"Control  {running.control_url}" in text
    for name, section in [*tree["upstreams"].items(), *tree["vendors"].items()]:
        assert f"  {name:<22} {section['url']}" in text
    assert "demo-il-1" in text
    events = [json.loads(line)["event"] for line in text.splitlines() if line.startswith("{")]
    assert events[-1] == "simulators.stopped"
    assert "sandbox-monitex-token" not in text


async def test_a_ride_with_a_mistyped_field_is_refused_naming_it(
    simulators: tuple[RunningSimulators, dict[str, Any]],
) -> None:
    running, _ = simulators
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            running.control_url + RIDES, json={"order_id": "o", "alias_id": "a", "permit": 7}
        ) as refused,
    ):
        assert refused.status == 400
        assert await refused.json() == {
            "code": "bad_ride",
            "message": '"permit" must be a non-empty string or null',
        }
