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
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from gateway.metrics import multiprocess_dir, scrape_registry
from gateway.rides.finish_refusals import REFUSAL_STATUS, Refusal

HealthReport = Callable[[], dict[str, Any]]
StartResponse = Callable[[str, list[tuple[str, str]]], object]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's name
        """Scrapes and probes every few seconds would drown the worker's own lines."""


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


def start_metrics_server(host: str, port: int, health: HealthReport) -> MetricsServer:
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
        # Any other path: the status and code the gateway answers one with (the refusal table's
        # not_found); the message names the path.
        not_found = HTTPStatus(REFUSAL_STATUS[Refusal.NOT_FOUND])
        return _json(
            start_response,
            f"{not_found.value} {not_found.phrase}",
            {"code": Refusal.NOT_FOUND.value, "message": path},
        )

    httpd = make_server(host, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
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
