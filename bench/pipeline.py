"""The task pipeline through Redis: tasks/s of real workers against no-op workers.

A throwaway redis-server on a free port, zero-latency stand-ins for every upstream. For each
worker count, the stream is filled with tasks first, then the workers start; the rate is taken
from the first finished task to the empty stream (finished entries are deleted from it), so
process start-up is not counted. ``bench.stub_worker`` runs the same command with the task's
body replaced: by nothing (the queue's own ceiling) or by a bare client walking the task's
nine upstream exchanges (the ceiling of any task doing that I/O).
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bench import canned
from bench.gateway_config import settings_tree, write_config
from bench.procs import CLI, PYTHON, child, free_port, standin
from gateway.bootstrap.process import build_broker, redis_pool
from gateway.broker.enqueue import enqueue_start_ride
from gateway.settings import BrokerSettings

REDIS_SERVER = "redis-server"
ENQUEUE_BATCH = 100
POLL_INTERVAL_S = 0.005
DRAIN_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class PipelineRun:
    workers: int
    tasks: int
    task_rate: float
    bare_rate: float
    no_op_rate: float

    @property
    def ratio(self) -> float:
        return self.task_rate / self.no_op_rate

    @property
    def bare_ratio(self) -> float:
        return self.task_rate / self.bare_rate


async def measure(
    workdir: Path, *, worker_counts: tuple[int, ...], tasks: int, no_op_tasks: int, rounds: int
) -> list[PipelineRun]:
    """For each worker count, the three kinds of worker alternate ``rounds`` times; best rates."""
    async with (
        _redis_server(workdir) as redis_url,
        standin("pipeline-upstreams", workdir) as upstream_url,
    ):
        tree = settings_tree(upstream_url, upstream_url, broker_url=redis_url)
        config = str(write_config(tree, workdir / "pipeline.toml"))
        workers = {
            "worker": [CLI, "worker", "--config", config],
            "bare-worker": [PYTHON, "-m", "bench.stub_worker", "bare", "--config", config],
            "no-op-worker": [PYTHON, "-m", "bench.stub_worker", "no-op", "--config", config],
        }
        runs = []
        for count in worker_counts:
            rates: dict[str, float] = dict.fromkeys(workers, 0.0)
            for _ in range(rounds):
                for name, argv in workers.items():
                    size = no_op_tasks if name == "no-op-worker" else tasks
                    rate = await _drain_rate(workdir, redis_url, (name, argv), count, size)
                    rates[name] = max(rates[name], rate)
                _check_started(workdir, f"worker-{count}-", tasks)
            runs.append(
                PipelineRun(
                    workers=count,
                    tasks=tasks,
                    task_rate=rates["worker"],
                    bare_rate=rates["bare-worker"],
                    no_op_rate=rates["no-op-worker"],
                )
            )
    return runs


def _check_started(workdir: Path, log_prefix: str, tasks: int) -> None:
    """The real workers' tasks must have started meter rides, not fallen back or ended."""
    started = sum(
        1
        for log in workdir.glob(f"{log_prefix}*.log")
        for line in log.read_text().splitlines()
        if line.startswith("{") and _started_a_ride(json.loads(line))
    )
    if started < tasks:
        raise RuntimeError(f"only {started} of {tasks} tasks started a ride; see {workdir}")


def _started_a_ride(line: dict[str, Any]) -> bool:
    return line.get("event") == "start_ride.finished" and line.get("result") == "started"


@asynccontextmanager
async def _redis_server(workdir: Path) -> AsyncIterator[str]:
    port = free_port()
    argv = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    argv += ["--appendonly", "no"]
    async with child("redis-server", argv, workdir):
        url = f"redis://127.0.0.1:{port}/0"
        await _wait_for_redis(url)
        yield url


async def _wait_for_redis(url: str, attempts: int = 200) -> None:
    async with Redis.from_url(url) as redis:
        for _ in range(attempts):
            try:
                await redis.ping()
                return
            except RedisConnectionError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{REDIS_SERVER} did not come up at {url}")


async def _drain_rate(
    workdir: Path, redis_url: str, worker: tuple[str, list[str]], workers: int, tasks: int
) -> float:
    """Fill the stream with ``tasks``, start ``workers`` processes, time them emptying it."""
    name, argv = worker
    settings = BrokerSettings(url=redis_url)
    async with Redis.from_url(redis_url) as redis:
        await redis.flushdb()
        await _fill(settings, tasks)
        async with AsyncExitStack() as stack:
            for number in range(workers):
                await stack.enter_async_context(child(f"{name}-{workers}-{number}", argv, workdir))
            return await _watch_drain(redis, settings.queue_name, tasks)


async def _fill(settings: BrokerSettings, tasks: int) -> None:
    broker = build_broker(settings, redis_pool(settings))
    await broker.startup()
    try:
        for first in range(0, tasks, ENQUEUE_BATCH):
            batch = range(first, min(first + ENQUEUE_BATCH, tasks))
            # An order of its own per task: deliveries for one order would wait for each other
            # (one run per order at a time, docs/design.md §3a).
            await asyncio.gather(
                *(enqueue_start_ride(broker, f"{canned.ORDER_ID}-{n}", None) for n in batch)
            )
    finally:
        await broker.shutdown()


async def _watch_drain(redis: Redis, stream: str, tasks: int) -> float:
    """Tasks per second from the first finished task until the stream is empty."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    first: tuple[float, int] | None = None
    while time.monotonic() < deadline:
        left = await redis.xlen(stream)
        now = time.perf_counter()
        if first is None and left < tasks:
            first = (now, left)
        if first is not None and left == 0:
            started_at, left_then = first
            return left_then / (now - started_at)
        await asyncio.sleep(POLL_INTERVAL_S)
    raise RuntimeError(f"{stream} did not drain in {DRAIN_TIMEOUT_S} s")
