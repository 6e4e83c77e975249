"""finish-ride: the gateway against a bare aiohttp handler and two framework peers.

Each server runs in turn as one process, in front of the same two zero-latency stand-ins
(order-core and Monitex, each its own process), driven by the same load generator process: a
throughput run at fixed concurrency, then a latency run with one connection. Servers alternate
for a few rounds and each keeps its best figures, which filters out bursts of outside load.

Five servers: the gateway as shipped (``log_level = "INFO"``), the same gateway at
``WARNING`` (what its INFO lines cost), the bare handler (the practical limit), and FastAPI on
uvicorn with an aiohttp client and with an httpx client (``bench/fastapi_peers.py``: what a
team would write with a framework, carrying none of the gateway's checks).
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.gateway_config import settings_tree, write_config
from bench.loadgen import LoadResult, drive
from bench.procs import CLI, PYTHON, Child, free_port, http_child, standin

FINISH_RIDE_PATH = "/driver/v1/meters-integration-api/finish-ride"
RSS_SAMPLE_INTERVAL_S = 0.1


@dataclass(frozen=True, slots=True)
class LoadPlan:
    concurrency: int
    duration_s: float
    latency_duration_s: float
    rounds: int


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
    quiet_gateway: ServerRun
    raw: ServerRun
    fastapi_aiohttp: ServerRun
    fastapi_httpx: ServerRun


@dataclass(frozen=True, slots=True)
class Upstreams:
    order_core: str
    vendor: str


Server = Callable[[Path, Upstreams], AbstractAsyncContextManager[tuple[str, Child]]]


async def measure(workdir: Path, plan: LoadPlan) -> FinishRideResults:
    servers: dict[str, Server] = {
        "gateway": gateway,
        "quiet_gateway": _quiet_gateway,
        "raw": _raw_handler,
        "fastapi_aiohttp": _fastapi_aiohttp,
        "fastapi_httpx": _fastapi_httpx,
    }
    runs: dict[str, list[ServerRun]] = {name: [] for name in servers}
    async with stand_ins(workdir) as upstreams:
        for _ in range(plan.rounds):
            for name, server in servers.items():
                async with server(workdir, upstreams) as (url, proc):
                    runs[name].append(await _run(url, proc, plan))
    best = {name: _best(server_runs) for name, server_runs in runs.items()}
    return FinishRideResults(plan, **best)


def _best(runs: list[ServerRun]) -> ServerRun:
    """Each figure from the round that did best on it; memory from the round that used most."""
    return ServerRun(
        throughput=max((run.throughput for run in runs), key=lambda load: load.rps),
        latency=min((run.latency for run in runs), key=lambda load: load.p99_ms),
        idle_rss_kib=max(run.idle_rss_kib for run in runs),
        loaded_rss_kib=max(run.loaded_rss_kib for run in runs),
        cpu_ms_per_request=min(run.cpu_ms_per_request for run in runs),
    )


async def _run(url: str, proc: Child, plan: LoadPlan) -> ServerRun:
    idle = proc.rss_kib()
    cpu_before = proc.cpu_seconds()
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(_peak_rss(proc, stop_sampling))
    try:
        throughput = await drive(url, concurrency=plan.concurrency, duration_s=plan.duration_s)
    finally:
        stop_sampling.set()
    loaded = await sampler
    cpu_ms = (proc.cpu_seconds() - cpu_before) * 1000
    cpu_ms_per_request = cpu_ms / (throughput.requests + throughput.warmup_requests)
    latency = await drive(url, concurrency=1, duration_s=plan.latency_duration_s)
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
async def stand_ins(workdir: Path) -> AsyncIterator[Upstreams]:
    """Zero-latency order-core and Monitex, each a process of its own."""
    async with (
        standin("order-core", workdir) as order_core,
        standin("monitex", workdir) as vendor,
    ):
        yield Upstreams(order_core, vendor)


@asynccontextmanager
async def gateway(
    workdir: Path, upstreams: Upstreams, log_level: str = "INFO"
) -> AsyncIterator[tuple[str, Child]]:
    """``meters-integration-api serve``, logging to a file."""
    port = free_port()
    tree = settings_tree(upstreams.order_core, upstreams.vendor, port=port)
    tree["log_level"] = log_level
    config = write_config(tree, workdir / f"finish-ride-{log_level.lower()}.toml")
    argv = [CLI, "serve", "--config", str(config)]
    async with http_child(f"gateway-{log_level.lower()}", argv, workdir, port) as proc:
        yield f"http://127.0.0.1:{port}{FINISH_RIDE_PATH}", proc


def _quiet_gateway(
    workdir: Path, upstreams: Upstreams
) -> AbstractAsyncContextManager[tuple[str, Child]]:
    return gateway(workdir, upstreams, log_level="WARNING")


@asynccontextmanager
async def _raw_handler(workdir: Path, upstreams: Upstreams) -> AsyncIterator[tuple[str, Child]]:
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "bench.raw_handler",
        f"--port={port}",
        f"--order-core={upstreams.order_core}",
        f"--vendor={upstreams.vendor}",
    ]
    async with http_child("raw-handler", argv, workdir, port) as proc:
        yield f"http://127.0.0.1:{port}/finish-ride", proc


def _fastapi_aiohttp(
    workdir: Path, upstreams: Upstreams
) -> AbstractAsyncContextManager[tuple[str, Child]]:
    return _fastapi_peer(workdir, upstreams, client="aiohttp")


def _fastapi_httpx(
    workdir: Path, upstreams: Upstreams
) -> AbstractAsyncContextManager[tuple[str, Child]]:
    return _fastapi_peer(workdir, upstreams, client="httpx")


@asynccontextmanager
async def _fastapi_peer(
    workdir: Path, upstreams: Upstreams, client: str
) -> AsyncIterator[tuple[str, Child]]:
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "bench.fastapi_peers",
        f"--client={client}",
        f"--port={port}",
        f"--order-core={upstreams.order_core}",
        f"--vendor={upstreams.vendor}",
    ]
    async with http_child(f"fastapi-{client}", argv, workdir, port) as proc:
        yield f"http://127.0.0.1:{port}/finish-ride", proc
