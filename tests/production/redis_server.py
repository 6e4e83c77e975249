"""A throwaway redis-server on its own port, which a test may stop, restart or freeze."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.processes import free_port

START_TIMEOUT_S = 10.0
FIRST_START_ATTEMPTS = 3


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: run scripts/ensure-redis-server.sh or set REDIS_URL"
            )
        self._binary = binary
        self._workdir = workdir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start empty (nothing is persisted) on the same port every time.

        The first start may find its free port taken meanwhile by another process (the port
        was only probed): it then takes another one, so tests running beside others start.
        """
        for _ in range(FIRST_START_ATTEMPTS if not self._started else 1):
            if self._start_on(self.port):
                self._started = True
                return
            if self._started:
                break
            self.port = free_port()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def _start_on(self, port: int) -> bool:
        self._process = subprocess.Popen(
            [
                self._binary,
                *("--port", str(port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self._workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                try:
                    # Ours, not another server that held the port first.
                    return bool(client.info("server")["process_id"] == self._process.pid)
                except redis.ConnectionError:
                    if self._process.poll() is not None:
                        return False
                    if time.monotonic() > deadline:
                        self._process.kill()
                        self._process.wait()
                        return False
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is None:
            return
        self.resume()
        self._process.terminate()
        self._process.wait(timeout=START_TIMEOUT_S)
        self._process = None

    def freeze(self) -> None:
        """The process stays, its port still accepts connections, but nothing is answered."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGCONT)
