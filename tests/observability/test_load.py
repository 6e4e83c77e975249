"""Finish-ride under bounded load against the real ``serve`` process, on loopback only.

Hundreds of concurrent drivers finish rides for a fixed time, in two equal windows after a
warm-up. Every answer must be a 200; the process's memory and its open sockets must stay flat
from one window to the next, so neither grows with the number of requests served. The bounds
are generous: they catch leaks (growth per request), not slowness. The figures are printed
for docs/operations.md.

The simulated upstreams share the machine (and the load generator's process) with the gateway,
so under load they answer slower than real ones would; the calls' timeouts are raised here so
that queueing on a busy test machine is not mistaken for a failure (test_deadlines.py covers
the timeouts themselves).
"""

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.sandbox.world import RideSeed
from tests.gateway_world import DRIVER_HEADERS, RunningWorld
from tests.observability.scrape import samples
from tests.processes import Served, serving

CONCURRENCY = 200
WARM_UP_S = 0.5
WINDOW_S = 2.5
RIDES = 20
RSS_GROWTH_BOUND_KB = 24 * 1024
SOCKETS_PER_REQUEST_IN_FLIGHT = 3
PATIENT_TIMEOUT_MS = 5000
FINISH_RIDE = "/driver/v1/meters-integration-api/finish-ride"

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")


def ride(n: int) -> RideSeed:
    """Half Israeli (Monitex, stopped again on every finish), half Latvian (OptumPlus)."""
    zone = "tel_aviv" if n % 2 else "riga"
    return RideSeed(
        order_id=f"order-{n}",
        alias_id=f"alias-{n}",
        zone=zone,
        driver_profile_id=f"driver{n}",
        car_id=f"car{n}",
        permit=f"PERMIT-{n}",
        national_id=f"31827{n:04d}",
    )


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def add(self, other: "Window") -> None:
        self.latencies += other.latencies
        self.failures += other.failures


@dataclass(frozen=True, slots=True)
class ProcessState:
    rss_kb: int
    sockets: int


def process_state(pid: int) -> ProcessState:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    sockets = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            sockets += fd.readlink().name.startswith("socket:")
        except FileNotFoundError:  # closed while we looked
            continue
    return ProcessState(rss_kb, sockets)


async def start_israeli_rides(http: aiohttp.ClientSession, served: Served) -> None:
    for n in range(1, RIDES, 2):
        async with http.post(
            served.base_url + "/internal/meters-integration-api/v1/start-ride",
            json={"order_id": f"order-{n}"},
        ) as response:
            assert response.status == 202
    async with asyncio.timeout(10):
        while True:
            async with http.get(served.base_url + "/metrics") as response:
                started = samples(await response.text(), "meters_rides_started_total")
            if sum(started.values()) == RIDES // 2:
                break
            await asyncio.sleep(0.05)
    assert set(started) == {
        (("country", "IL"), ("reason", "ok"), ("result", "started"), ("vendor", "monitex"))
    }


async def driver(http: aiohttp.ClientSession, url: str, n: int, until: float) -> Window:
    """Finish ride ``n`` again and again (both vendors answer a repeated finish alike)."""
    window = Window()
    headers = {**DRIVER_HEADERS, "X-YaTaxi-Driver-Profile-Id": f"driver{n}"}
    body = {"order_id": f"alias-{n}", "user_price": 42.24, "driver_price": 42.24}
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            async with http.post(url, json=body, headers=headers) as response:
                answer = await response.read()
                if response.status != 200:
                    window.failures.append(f"{response.status} {answer[:200]!r}")
        except aiohttp.ClientError as error:
            window.failures.append(repr(error))
        window.latencies.append(time.perf_counter() - started)
    return window


async def load(http: aiohttp.ClientSession, served: Served, seconds: float) -> Window:
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    url = served.base_url + FINISH_RIDE
    drivers = [driver(http, url, i % RIDES + 1, until) for i in range(CONCURRENCY)]
    total = Window()
    for window in await asyncio.gather(*drivers):
        total.add(window)
    total.elapsed_s = time.perf_counter() - started
    return total


def figures(window: Window) -> dict[str, Any]:
    cuts = statistics.quantiles(window.latencies, n=100)
    return {
        "requests": len(window.latencies),
        "rps": round(len(window.latencies) / window.elapsed_s),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
    }


def patient(tree: dict[str, Any]) -> dict[str, Any]:
    for section in (*tree["upstreams"].values(), *tree["vendors"].values()):
        section["timeout_ms"] = PATIENT_TIMEOUT_MS
    return {**tree, "server": {"finish_ride_deadline_ms": 2 * PATIENT_TIMEOUT_MS}}


async def test_finish_ride_under_load_answers_all_and_stays_flat(
    world: RunningWorld, settings_tree: dict[str, Any], tmp_path: Path
) -> None:
    for n in range(1, RIDES + 1):
        world.sims.seed_ride(ride(n))
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with (
        serving(patient(settings_tree), tmp_path) as served,
        aiohttp.ClientSession(connector=connector) as http,
    ):
        await start_israeli_rides(http, served)
        idle = process_state(served.pid)
        warm_up = await load(http, served, WARM_UP_S)
        first = await load(http, served, WINDOW_S)
        after_first = process_state(served.pid)
        second = await load(http, served, WINDOW_S)
        after_second = process_state(served.pid)

    assert warm_up.failures + first.failures + second.failures == []
    print(
        json.dumps(
            {
                "concurrency": CONCURRENCY,
                "first": figures(first),
                "second": figures(second),
                "rss_kb": [idle.rss_kb, after_first.rss_kb, after_second.rss_kb],
                "sockets": [idle.sockets, after_first.sockets, after_second.sockets],
            }
        )
    )
    assert after_second.rss_kb - after_first.rss_kb < RSS_GROWTH_BOUND_KB
    # Sockets follow the concurrency, not the requests served: each request in flight holds
    # its own connection in, and at most one pooled connection out to order-core and one to
    # its vendor. One leaked socket per request would pass this bound within the first window.
    for state in (after_first, after_second):
        assert state.sockets <= idle.sockets + SOCKETS_PER_REQUEST_IN_FLIGHT * CONCURRENCY
