"""A real Prometheus server (Debian's ``prometheus`` package, ``scripts/ensure-promtool.sh``)
scraping the rehearsal's processes and evaluating the shipped rule files, unchanged."""

import asyncio
import shutil
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.processes import HOST, free_port

# The rehearsal scraped and evaluated every 2 s: the `for:` and range windows of the
# rules are what they are in production; only how often they are looked at is shorter.
INTERVAL = "2s"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class Targets:
    gateways: list[str]
    workers: list[str]


@dataclass(frozen=True, slots=True)
class FiringAlert:
    name: str
    severity: str
    labels: dict[str, str]


class Prometheus:
    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self._http = http

    async def firing(self) -> list[FiringAlert]:
        async with self._http.get(self.base_url + "/api/v1/alerts") as response:
            body = await response.json()
        return [
            FiringAlert(
                alert["labels"]["alertname"], alert["labels"].get("severity", ""), alert["labels"]
            )
            for alert in body["data"]["alerts"]
            if alert["state"] == "firing"
        ]

    async def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result; a query Prometheus refuses fails the caller."""
        body = await self.answer(promql)
        assert body["status"] == "success", f"{promql}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    async def answer(self, promql: str) -> dict[str, Any]:
        """The HTTP API's whole answer to an instant query: its ``status`` and, for a query it
        refuses, ``errorType`` and ``error``."""
        async with self._http.get(
            self.base_url + "/api/v1/query", params={"query": promql}
        ) as response:
            body: dict[str, Any] = await response.json()
        return body


def _config(targets: Targets, rules: list[Path], interval: str) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(path) for path in rules],
        "scrape_configs": [
            {"job_name": "meters-gateway", "static_configs": [{"targets": targets.gateways}]},
            {"job_name": "meters-worker", "static_configs": [{"targets": targets.workers}]},
        ],
    }


@asynccontextmanager
async def prometheus(
    targets: Targets, rules: list[Path], workdir: Path, interval: str = INTERVAL
) -> AsyncIterator[Prometheus]:
    """``interval``: how often it scrapes and evaluates (the rehearsal's 2 s unless given)."""
    binary = shutil.which("prometheus")
    assert binary is not None, "prometheus is not installed: run scripts/ensure-promtool.sh"
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump(_config(targets, rules, interval)))
    port = free_port()
    log = workdir / "prometheus.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address={HOST}:{port}",
            "--log.level=warn",
            stdout=sink,
            stderr=sink,
        )
    base_url = f"http://{HOST}:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await _wait_until_ready(process, base_url, http, log)
            yield Prometheus(base_url, http)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_until_ready(
    process: asyncio.subprocess.Process, base_url: str, http: aiohttp.ClientSession, log: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        assert process.returncode is None, f"prometheus exited:\n{_text(log)}"
        try:
            async with http.get(base_url + "/-/ready") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        assert time.monotonic() < deadline, f"prometheus not ready:\n{_text(log)}"
        await asyncio.sleep(0.2)


def _text(path: Path) -> str:
    return path.read_text(errors="replace")
