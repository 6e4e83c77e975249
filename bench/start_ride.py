"""start-ride's critical path: one task's wall time against the dependency graph's lower bound.

Every upstream answers after a fixed latency L. The task's steps that depend on each other are
order read -> max(driver-profiles -> personal, fleet-vehicles) -> vendor start -> revision read
-> set-fields -> setcar -> push, so no implementation can take less than L x 8.

The real ``serve`` runs the tasks (in-memory broker), enqueued one at a time through its HTTP
endpoint; each task's wall time is the service's own measurement, read from ``/metrics``.
"""

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench import canned
from bench.bare_start_ride import bare_graph_durations
from bench.gateway_config import settings_tree, write_config
from bench.metrics_scrape import sample_total, scrape
from bench.procs import CLI, free_port, http_child, standin

START_RIDE_PATH = "/internal/meters-integration-api/v1/start-ride"
TASK_DURATION = "meters_start_ride_task_duration_seconds"
RIDES_STARTED = "meters_rides_started_total"
CRITICAL_PATH_CALLS = 8
TASK_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.02


@dataclass(frozen=True, slots=True)
class StartRideResults:
    latency_ms: float
    lower_bound_ms: float
    bare_graph_ms: float
    runs: int
    median_ms: float
    max_ms: float

    @property
    def ratio(self) -> float:
        """Against L x 8: what no implementation can beat."""
        return self.median_ms / self.lower_bound_ms

    @property
    def practical_ratio(self) -> float:
        """Against a bare client walking the same graph over the same loopback."""
        return self.median_ms / self.bare_graph_ms


async def measure(workdir: Path, *, latency_ms: float, runs: int) -> StartRideResults:
    port = free_port()
    async with standin("slow-upstreams", workdir, latency_ms=latency_ms) as upstream_url:
        tree = settings_tree(upstream_url, upstream_url, port=port)
        config = write_config(tree, workdir / "start-ride.toml")
        argv = [CLI, "serve", "--config", str(config)]
        async with (
            http_child("gateway-start-ride", argv, workdir, port),
            aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http,
        ):
            expected_s = 2 * latency_ms * CRITICAL_PATH_CALLS / 1000
            await _one_task(http, expected_s)  # opens the connections
            durations = [await _one_task(http, expected_s) for _ in range(runs)]
        bare = await bare_graph_durations(upstream_url, runs)
    return StartRideResults(
        latency_ms=latency_ms,
        lower_bound_ms=latency_ms * CRITICAL_PATH_CALLS,
        bare_graph_ms=statistics.median(bare) * 1000,
        runs=runs,
        median_ms=statistics.median(durations) * 1000,
        max_ms=max(durations) * 1000,
    )


async def _one_task(http: aiohttp.ClientSession, expected_s: float) -> float:
    """Enqueue one task and answer its duration as the service measured it.

    ``/metrics`` is first read once ``expected_s`` has passed: rendering it takes the gateway's
    event loop for milliseconds, which must not land inside the task being measured.
    """
    before = await scrape(http, "/metrics")
    async with http.post(START_RIDE_PATH, json={"order_id": canned.ORDER_ID}) as response:
        if response.status != 202:
            raise RuntimeError(f"start-ride answered {response.status}: {await response.text()}")
    await asyncio.sleep(expected_s)
    deadline = time.monotonic() + TASK_TIMEOUT_S
    while time.monotonic() < deadline:
        after = await scrape(http, "/metrics")
        if _started(after) > _started(before):
            return sample_total(after, f"{TASK_DURATION}_sum") - sample_total(
                before, f"{TASK_DURATION}_sum"
            )
        if sample_total(after, f"{TASK_DURATION}_count") > sample_total(
            before, f"{TASK_DURATION}_count"
        ):
            raise RuntimeError("the start-ride task ended without starting the meter ride")
        await asyncio.sleep(POLL_INTERVAL_S)
    raise RuntimeError("the start-ride task did not finish in time")


def _started(metrics: str) -> float:
    return sample_total(metrics, RIDES_STARTED, result="started")
