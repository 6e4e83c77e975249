"""Child processes of a benchmark: started on a free loopback port, waited for, always stopped."""

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CLI = str(Path(sys.executable).parent / "meters-integration-api")
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Child:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        """Resident set size now (VmRSS), in KiB."""
        return _status_kib(self.pid, "VmRSS")

    def cpu_seconds(self) -> float:
        """User plus system CPU time used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = int(fields[11]), int(fields[12])
        return (user + system) / os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


@asynccontextmanager
async def child(name: str, argv: Sequence[str], workdir: Path) -> AsyncIterator[Child]:
    """Run ``argv`` with its output in ``workdir/name.log``; SIGTERM (then SIGKILL) on exit."""
    log = workdir / f"{name}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        yield Child(name, process, log)
    finally:
        await stop(process)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()


async def wait_until_serving(proc: Child, url: str, attempts: int = 200) -> None:
    """Poll ``url`` until it answers 200; fail with the child's output if it exits or never does."""
    async with aiohttp.ClientSession() as http:
        for _ in range(attempts):
            if proc.process.returncode is not None:
                raise RuntimeError(f"{proc.name} exited early:\n{proc.log.read_text()[-4000:]}")
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not come up:\n{proc.log.read_text()[-4000:]}")


@asynccontextmanager
async def http_child(
    name: str, argv: Sequence[str], workdir: Path, port: int
) -> AsyncIterator[Child]:
    """A child serving HTTP on ``port``, yielded once its ``/ping`` answers."""
    async with child(name, argv, workdir) as proc:
        await wait_until_serving(proc, f"http://127.0.0.1:{port}/ping")
        yield proc


@asynccontextmanager
async def standin(name: str, workdir: Path, *, latency_ms: float = 0.0) -> AsyncIterator[str]:
    """A ``bench.standin`` process; yields its base URL."""
    port = free_port()
    argv = [PYTHON, "-m", "bench.standin", "--port", str(port), "--latency-ms", str(latency_ms)]
    async with http_child(name, argv, workdir, port):
        yield f"http://127.0.0.1:{port}"
