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

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start empty (nothing is persisted) on the same port every time."""
        self._process = subprocess.Popen(
            [
                self._binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self._workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} did not start") from None
                time.sleep(0.02)
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
