"""Running the real ``meters-integration-api`` command as a subprocess, as an operator would."""

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import tomli_w

CLI = Path(sys.executable).parent / "meters-integration-api"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServedGateway:
    url: str
    process: asyncio.subprocess.Process
    output: Path

    def output_text(self) -> str:
        return self.output.read_text(errors="replace")


@asynccontextmanager
async def serve(
    settings_tree: dict[str, Any], workdir: Path, env: dict[str, str] | None = None
) -> AsyncIterator[ServedGateway]:
    """``serve --config FILE`` on a free port; stops it with SIGTERM and waits for its exit."""
    port = free_port()
    config = workdir / "meters.toml"
    config.write_text(tomli_w.dumps({**settings_tree, "server": {"port": port}}))
    output = workdir / "serve.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(CLI),
            "serve",
            "--config",
            str(config),
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    served = ServedGateway(f"http://127.0.0.1:{port}", process, output)
    try:
        await _wait_until_up(served)
        yield served
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=15)


async def _wait_until_up(served: ServedGateway, attempts: int = 150) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(attempts):
            if served.process.returncode is not None:
                raise RuntimeError(f"serve exited early:\n{served.output_text()}")
            try:
                async with http.get(served.url + "/ping") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"serve did not come up:\n{served.output_text()}")
