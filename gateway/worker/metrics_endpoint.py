"""The HTTP endpoint of a worker host: ``/metrics`` and ``/health``; any other path is 404.

A worker host runs one supervisor and any number of worker processes. With
``PROMETHEUS_MULTIPROC_DIR`` pointing at a directory private to that host's
workers (set in the environment before any of them starts, since
prometheus-client chooses its storage at import), every process writes its
values there and the supervisor serves their sum:

    clear_multiprocess_dir()                  # in the supervisor, before starting workers
    server = start_metrics_server("0.0.0.0", 9101, health)
    ...                                       # start and supervise the worker processes
    server.close()

``/health`` answers what ``health()`` reports: 200 when ``ready`` is true, else 503, with the
report as JSON. A single worker process without a supervisor serves it itself.
"""

import json
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from gateway.http.error_catalog import REFUSAL_STATUS, Refusal
from gateway.metrics import multiprocess_dir, scrape_registry

HealthReport = Callable[[], dict[str, Any]]
StartResponse = Callable[[str, list[tuple[str, str]]], object]


# A scrape or probe sends its whole request at once: a connection that has not, this long after
# its last bytes, is closed (a half-sent request, TLS or other garbage with no line end).
READ_TIMEOUT_S = 5.0
# Connections served at once; one more is closed unanswered. Each holds a thread, and dribbling
# clients could otherwise hold any number past the read timeout.
MAX_CONNECTIONS = 32


class _QuietHandler(WSGIRequestHandler):
    server: "_BoundedServer"

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.read_timeout_s)

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's name
        """Scrapes and probes every few seconds would drown the worker's own lines."""

    def handle(self) -> None:
        # wsgiref lets the read timeout out (to a traceback on stderr); the connection is
        # closed all the same once this returns.
        with suppress(TimeoutError):
            super().handle()


class _BoundedServer(ThreadingWSGIServer):
    """prometheus-client's threading server, serving at most ``max_connections`` at once, each
    read with ``read_timeout_s``."""

    def __init__(
        self, address: tuple[str, int], *, read_timeout_s: float, max_connections: int
    ) -> None:
        super().__init__(address, _QuietHandler)
        self.read_timeout_s = read_timeout_s
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()  # no thread started to release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """The endpoint answering on a daemon thread; ``port`` is the bound port."""

    _httpd: WSGIServer
    _thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def start_metrics_server(
    host: str,
    port: int,
    health: HealthReport,
    *,
    read_timeout_s: float = READ_TIMEOUT_S,
    max_connections: int = MAX_CONNECTIONS,
) -> MetricsServer:
    """Serve this process's metrics, or all workers' in multi-process mode; port 0 picks one."""
    metrics = make_wsgi_app(scrape_registry())

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            answer: Iterable[bytes] = metrics(environ, start_response)
            return answer
        if path == "/health":
            report = health()
            status = "200 OK" if report.get("ready") else "503 Service Unavailable"
            return _json(start_response, status, report)
        # Any other path: the status and code the gateway answers one with (the error catalog's
        # not_found); the message names the path.
        not_found = HTTPStatus(REFUSAL_STATUS[Refusal.NOT_FOUND])
        return _json(
            start_response,
            f"{not_found.value} {not_found.phrase}",
            {"code": Refusal.NOT_FOUND.value, "message": path},
        )

    # What wsgiref's make_server does, with the bounds passed on.
    httpd = _BoundedServer(
        (host, port), read_timeout_s=read_timeout_s, max_connections=max_connections
    )
    httpd.set_app(app)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return MetricsServer(httpd, thread)


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


def clear_multiprocess_dir() -> None:
    """Forget a previous run's values, which would otherwise be summed with this run's."""
    directory = multiprocess_dir()
    if directory is None:
        return
    for stale in Path(directory).glob("*.db"):
        stale.unlink()
