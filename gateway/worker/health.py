"""The worker host's ``/health``: the broker's Redis reachable and worker processes alive."""

import threading
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from gateway.broker.redis_connection import blocking_client


class WorkerHostHealth:
    """Answers on the metrics server's threads, each probe pinging the broker anew."""

    def __init__(self, broker_url: str, expected: int, live: Callable[[], int]) -> None:
        self._client = blocking_client(broker_url)
        self._lock = threading.Lock()  # one probe at a time on the one client
        self._expected = expected
        self._live = live

    def report(self) -> dict[str, Any]:
        with self._lock:
            try:
                reachable = bool(self._client.ping())
            except (RedisError, OSError):
                reachable = False
        live = self._live()
        return {
            # Serving tasks: it can read the stream and some process is there to run them.
            "ready": reachable and live > 0,
            "broker": "reachable" if reachable else "unreachable",
            "processes": {"live": live, "expected": self._expected},
        }
