"""Metrics of several worker processes, summed behind one endpoint (multi-process mode)."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.observability.scrape import labels, samples
from tests.processes import serving

STARTED_OK = labels(vendor="monitex", country="IL", result="started", reason="ok")
VENDOR_CALL = labels(vendor="monitex", operation="start_ride", outcome="ok")
ROOT = Path(__file__).parents[2]


@pytest.fixture
def multiprocess_env(tmp_path: Path) -> dict[str, str]:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    return {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}


async def worker_process(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.observability.metrics_process", *args,
        env=env, cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def record(env: dict[str, str], processes: int) -> None:
    workers = [await worker_process(env, "record", "monitex") for _ in range(processes)]
    assert [await worker.wait() for worker in workers] == [0] * processes


@pytest.fixture
async def exporter(multiprocess_env: dict[str, str]) -> AsyncIterator[str]:
    await record(multiprocess_env, 1)  # a previous run's values, which must not be counted
    process = await worker_process(multiprocess_env, "export")
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        port = int(await process.stdout.readline())
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        process.stdin.close()
        await process.wait()


async def fetch(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        return await response.text()


async def test_the_supervisor_serves_the_sum_of_its_workers(
    multiprocess_env: dict[str, str], exporter: str
) -> None:
    await record(multiprocess_env, 3)

    text = await fetch(exporter)

    assert samples(text, "meters_rides_started_total") == {STARTED_OK: 3.0}
    assert samples(text, "meters_vendor_call_duration_seconds_count") == {VENDOR_CALL: 3.0}


async def test_the_gateway_in_multiprocess_mode_reports_every_process(
    multiprocess_env: dict[str, str], tmp_path: Path
) -> None:
    await record(multiprocess_env, 2)
    directory = multiprocess_env["PROMETHEUS_MULTIPROC_DIR"]

    async with serving({}, tmp_path, env={"PROMETHEUS_MULTIPROC_DIR": directory}) as served:
        text = await fetch(served.base_url + "/metrics")

    assert samples(text, "meters_rides_started_total") == {STARTED_OK: 2.0}
