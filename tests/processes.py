"""Running the real ``meters-integration-api`` command as a subprocess, as an operator would.

``serving`` runs ``serve`` from a TOML file the way it is deployed; its stdout and stderr go
to files so a test can read everything the process wrote.
"""

import asyncio
import os
import socket
import sys
import threading
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import tomli_w

HOST = "127.0.0.1"
CLI = Path(sys.executable).with_name("meters-integration-api")
SHIPPED_CONFIG = Path(__file__).parents[1] / "config" / "meters.toml"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Served:
    process: asyncio.subprocess.Process
    base_url: str
    stdout: Path
    stderr: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """Everything the process has written so far, stdout then stderr."""
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def sandbox_config(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """The shipped config with every port moved to a free one, so the test runs anywhere."""
    tree = tomllib.loads(SHIPPED_CONFIG.read_text())
    tree["server"]["port"] = free_port()
    for section in [*tree["upstreams"].values(), *tree["vendors"].values()]:
        section["url"] = f"http://{HOST}:{free_port()}"
    config = tmp_path / "meters.toml"
    config.write_text(tomli_w.dumps(tree))
    return config, tree


@asynccontextmanager
async def serving(
    settings_tree: Mapping[str, Any], workdir: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[Served]:
    """Run ``serve`` with these settings on a free port until the block exits, then SIGTERM it.

    The simulators it calls may live in the caller's event loop, so every wait here is async.
    """
    port = free_port()
    tree = {
        **settings_tree,
        "server": {**settings_tree.get("server", {}), "host": HOST, "port": port},
    }
    config = workdir / "meters.toml"
    config.write_text(tomli_w.dumps(tree))
    served_env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("METERS_") and name != "PROMETHEUS_MULTIPROC_DIR"
    }
    with (workdir / "stdout.log").open("wb") as out, (workdir / "stderr.log").open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            str(CLI),
            "serve",
            "--config",
            str(config),
            stdout=out,
            stderr=err,
            env={**served_env, **(env or {})},
        )
        served = Served(process, f"http://{HOST}:{port}", Path(out.name), Path(err.name))
        try:
            await _wait_until_up(served)
            yield served
        finally:
            await _stop(process)


async def _wait_until_up(served: Served) -> None:
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                if served.process.returncode is not None:
                    raise AssertionError(f"serve exited early:\n{served.output()}")
                try:
                    async with http.get(served.base_url + "/ping") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        async with asyncio.timeout(STOP_TIMEOUT_S):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


@contextmanager
def in_background(open_stack: Callable[[], AbstractAsyncContextManager[T]]) -> Iterator[T]:
    """Keep an async stack (simulators, a served process) running on its own thread and loop,
    for synchronous callers such as schemathesis tests."""
    entered: Future[tuple[T, asyncio.AbstractEventLoop, asyncio.Event]] = Future()

    async def run() -> None:
        stop = asyncio.Event()
        try:
            async with open_stack() as value:
                entered.set_result((value, asyncio.get_running_loop(), stop))
                await stop.wait()
        except BaseException as error:
            if not entered.done():
                entered.set_exception(error)
            raise

    thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    thread.start()
    value, loop, stop = entered.result(timeout=START_TIMEOUT_S)
    try:
        yield value
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(STOP_TIMEOUT_S)
