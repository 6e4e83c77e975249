"""Real ``meters-integration-api worker`` processes, so that SIGKILL and SIGTERM are real."""

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import tomli_w

from tests.processes import CLI
from tests.production.stream import eventually

READY_TIMEOUT_S = 15.0
# The broker's redelivery timeout in the suite's settings: short, so a lost task comes back soon.
REDELIVERY_TIMEOUT_MS = 1000


class WorkerProcess:
    def __init__(self, name: str, process: asyncio.subprocess.Process, output: Path) -> None:
        self.name = name
        self.process = process
        self.output = output

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def terminate(self) -> None:
        os.kill(self.pid, signal.SIGTERM)

    async def exit_code(self, timeout_s: float) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout_s)

    def output_text(self) -> str:
        return self.output.read_text(errors="replace")

    def events(self, event: str) -> list[dict[str, Any]]:
        """The worker's JSON log events of that name, in order."""
        found = []
        for line in self.output_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a traceback or other non-JSON output
            if isinstance(record, dict) and record.get("event") == event:
                found.append(record)
        return found

    def consumers(self) -> list[str]:
        """The consumer names its processes announced on starting."""
        return [str(record["consumer"]) for record in self.events("worker.started")]


class Workers:
    """Starts worker processes from one settings tree; kills whatever is left at the end."""

    def __init__(self, tree: dict[str, Any], workdir: Path) -> None:
        self._tree = tree
        self._workdir = workdir
        self._started: list[WorkerProcess] = []

    @property
    def started(self) -> list[WorkerProcess]:
        return list(self._started)

    async def start(
        self,
        name: str,
        *,
        wait_until_started: bool = True,
        env: dict[str, str] | None = None,
    ) -> WorkerProcess:
        """``env``: variables the process gets beside this one's (e.g. ``OTEL_*``)."""
        config = self._workdir / f"{name}.toml"
        config.write_text(tomli_w.dumps(self._tree))
        output = self._workdir / f"{name}.log"
        # Only the file speaks: METERS_* variables of whoever runs the tests must not leak in.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("METERS_")}
        with output.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                str(CLI),
                *("worker", "--config", str(config)),
                stdout=sink,
                stderr=asyncio.subprocess.STDOUT,
                env={**inherited, **(env or {})},
            )
        worker = WorkerProcess(name, process, output)
        self._started.append(worker)
        if wait_until_started:
            await self.wait_until_started(worker)
        return worker

    async def wait_until_started(self, worker: WorkerProcess, processes: int = 1) -> list[str]:
        """The consumer names of the worker's processes, once each has started listening.

        Read from the log: Redis lists a consumer only after it has been delivered something.
        """

        def started() -> bool:
            if worker.process.returncode is not None:
                raise AssertionError(f"{worker.name} exited:\n{worker.output_text()}")
            return len(worker.consumers()) >= processes

        await eventually(started, READY_TIMEOUT_S, f"{worker.name} listens")
        return worker.consumers()

    async def close(self) -> None:
        for worker in self._started:
            if worker.process.returncode is None:
                worker.kill()
                await worker.process.wait()
            print(f"--- {worker.name} (pid {worker.pid}) output ---\n{worker.output_text()}")
