"""finish-ride: the gateway against a bare aiohttp handler, same stand-ins, same load.

Both servers run in turn as one process each, in front of the same two zero-latency stand-ins
(order-core and Monitex, each its own process), driven by the same load generator process: a
throughput run at fixed concurrency, then a latency run with one connection. The gateway's
resident memory is read idle (before any request) and sampled under the throughput load.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.gateway_config import settings_tree, write_config
from bench.loadgen import LoadResult, drive
from bench.procs import CLI, PYTHON, Child, free_port, http_child, standin

FINISH_RIDE_PATH = "/driver/v1/meters-integration-api/finish-ride"
RSS_SAMPLE_INTERVAL_S = 0.1


@dataclass(frozen=True, slots=True)
class Placement:
    """Which CPUs the measured server and everything else (load, stand-ins) may use."""

    server: set[int] | None = None
    others: set[int] | None = None


@dataclass(frozen=True, slots=True)
class LoadPlan:
    concurrency: int
    duration_s: float
    latency_duration_s: float
    rounds: int
    placement: Placement


@dataclass(frozen=True, slots=True)
class ServerRun:
    throughput: LoadResult
    latency: LoadResult
    idle_rss_kib: int
    loaded_rss_kib: int
    cpu_ms_per_request: float


@dataclass(frozen=True, slots=True)
class FinishRideResults:
    plan: LoadPlan
    gateway: ServerRun
    raw: ServerRun


@dataclass(frozen=True, slots=True)
class Upstreams:
    order_core: str
    vendor: str


async def measure(workdir: Path, plan: LoadPlan) -> FinishRideResults:
    """Alternate gateway and raw handler for ``plan.rounds`` rounds; keep each one's best round."""
    async with stand_ins(workdir, plan.placement) as upstreams:
        gateway_runs: list[ServerRun] = []
        raw_runs: list[ServerRun] = []
        for _ in range(plan.rounds):
            async with gateway(workdir, upstreams, plan.placement) as (url, proc):
                gateway_runs.append(await _run(url, proc, plan))
            async with _raw_handler(workdir, upstreams, plan.placement) as (url, proc):
                raw_runs.append(await _run(url, proc, plan))
    return FinishRideResults(plan, _best(gateway_runs), _best(raw_runs))


def _best(runs: list[ServerRun]) -> ServerRun:
    return max(runs, key=lambda run: run.throughput.rps)


async def _run(url: str, proc: Child, plan: LoadPlan) -> ServerRun:
    idle = proc.rss_kib()
    cpu_before = proc.cpu_seconds()
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(_peak_rss(proc, stop_sampling))
    try:
        throughput = await drive(
            url,
            concurrency=plan.concurrency,
            duration_s=plan.duration_s,
            cpus=plan.placement.others,
        )
    finally:
        stop_sampling.set()
    loaded = await sampler
    cpu_ms = (proc.cpu_seconds() - cpu_before) * 1000
    cpu_ms_per_request = cpu_ms / (throughput.requests + throughput.warmup_requests)
    latency = await drive(
        url, concurrency=1, duration_s=plan.latency_duration_s, cpus=plan.placement.others
    )
    for result in (throughput, latency):
        if result.non_200:
            raise RuntimeError(f"{url} answered {result.statuses}; see the logs in the workdir")
    return ServerRun(throughput, latency, idle, loaded, round(cpu_ms_per_request, 3))


async def _peak_rss(proc: Child, stop: asyncio.Event) -> int:
    peak = proc.rss_kib()
    while not stop.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RSS_SAMPLE_INTERVAL_S)
        peak = max(peak, proc.rss_kib())
    return peak


@asynccontextmanager
async def stand_ins(workdir: Path, placement: Placement) -> AsyncIterator[Upstreams]:
    """Zero-latency order-core and Monitex, each a process of its own."""
    async with (
        standin("order-core", workdir, cpus=placement.others) as order_core,
        standin("monitex", workdir, cpus=placement.others) as vendor,
    ):
        yield Upstreams(order_core, vendor)


@asynccontextmanager
async def gateway(
    workdir: Path, upstreams: Upstreams, placement: Placement
) -> AsyncIterator[tuple[str, Child]]:
    """``meters-integration-api serve`` with the shipped log level, logging to a file."""
    port = free_port()
    tree = settings_tree(upstreams.order_core, upstreams.vendor, port=port)
    config = write_config(tree, workdir / "finish-ride.toml")
    argv = [CLI, "serve", "--config", str(config)]
    async with http_child("gateway", argv, workdir, port, cpus=placement.server) as proc:
        yield f"http://127.0.0.1:{port}{FINISH_RIDE_PATH}", proc


@asynccontextmanager
async def _raw_handler(
    workdir: Path, upstreams: Upstreams, placement: Placement
) -> AsyncIterator[tuple[str, Child]]:
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "bench.raw_handler",
        f"--port={port}",
        f"--order-core={upstreams.order_core}",
        f"--vendor={upstreams.vendor}",
    ]
    async with http_child("raw-handler", argv, workdir, port, cpus=placement.server) as proc:
        yield f"http://127.0.0.1:{port}/finish-ride", proc
