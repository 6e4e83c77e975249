"""The worker host's ``/health``: the broker's Redis reachable and worker processes alive."""

import threading
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from gateway.redis_connection import blocking_client

# As long as the gateway's probe gives a Redis that stopped answering: a probe answers 503
# within about a second, not after the worker's own 5 s socket timeout.
PING_TIMEOUT_S = 1.0


class _Ping:
    """One PING of the broker, whose answer every probe that arrived meanwhile shares."""

    def __init__(self) -> None:
        self.answered = threading.Event()
        self.reachable = False


class WorkerHostHealth:
    """Answers on the metrics server's threads. A probe starts a PING unless one is under way;
    then it waits for that one's answer, so however many probes arrive while Redis hangs, each
    answers within one ``PING_TIMEOUT_S`` rather than queueing behind the others' pings."""

    def __init__(self, broker_url: str, expected: int, live: Callable[[], int]) -> None:
        self._client = blocking_client(broker_url, socket_timeout_s=PING_TIMEOUT_S)
        self._lock = threading.Lock()  # guards _in_flight only, never held during a PING
        self._in_flight: _Ping | None = None
        self._expected = expected
        self._live = live

    def report(self) -> dict[str, Any]:
        reachable = self._broker_reachable()
        live = self._live()
        return {
            # Serving tasks: it can read the stream and some process is there to run them.
            "ready": reachable and live > 0,
            "broker": "reachable" if reachable else "unreachable",
            "processes": {"live": live, "expected": self._expected},
        }

    def _broker_reachable(self) -> bool:
        with self._lock:
            ping = self._in_flight
            leading = ping is None
            if ping is None:
                ping = self._in_flight = _Ping()
        if not leading:
            ping.answered.wait()
            return ping.reachable
        try:
            ping.reachable = bool(self._client.ping())
        except (RedisError, OSError):
            ping.reachable = False
        finally:
            with self._lock:
                self._in_flight = None
            ping.answered.set()
        return ping.reachable
