"""``/metrics`` for processes without an HTTP app of their own: task workers.

A worker host runs one supervisor and any number of worker processes. With
``PROMETHEUS_MULTIPROC_DIR`` pointing at a directory private to that host's
workers (set in the environment before any of them starts, since
prometheus-client chooses its storage at import), every process writes its
values there and the supervisor serves their sum:

    clear_multiprocess_dir()                  # in the supervisor, before starting workers
    server = start_metrics_server("0.0.0.0", 9101)
    ...                                       # start and supervise the worker processes
    server.close()

A single worker process without a supervisor may call ``start_metrics_server``
itself, with or without the directory.
"""

import threading
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from gateway.metrics import multiprocess_dir, scrape_registry


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """A Prometheus endpoint answering on a daemon thread; ``port`` is the bound port."""

    _httpd: WSGIServer
    _thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def start_metrics_server(host: str, port: int) -> MetricsServer:
    """Serve this process's metrics, or all workers' in multi-process mode; port 0 picks one."""
    httpd, thread = start_http_server(port, addr=host, registry=scrape_registry())
    return MetricsServer(httpd, thread)


def clear_multiprocess_dir() -> None:
    """Forget a previous run's values, which would otherwise be summed with this run's."""
    directory = multiprocess_dir()
    if directory is None:
        return
    for stale in Path(directory).glob("*.db"):
        stale.unlink()
