"""A stand-in worker process for the multi-process metrics test, run as ``python -m``.

``record VENDOR``: count one started ride and time one vendor call, as a worker would, and exit.
``export``: what a worker supervisor does: clear the directory, serve ``/metrics`` on a free
port, print the port, and serve until stdin closes.

Both need ``PROMETHEUS_MULTIPROC_DIR`` in their environment before they start.
"""

import sys

from gateway.metrics import RIDES_STARTED, VENDOR_CALL_DURATION
from gateway.worker.metrics_endpoint import clear_multiprocess_dir, start_metrics_server


def main(role: str, *args: str) -> None:
    if role == "record":
        (vendor,) = args
        RIDES_STARTED.labels(vendor, "IL", "started", "ok").inc()
        VENDOR_CALL_DURATION.labels(vendor, "start_ride", "ok").observe(0.02)
        return
    clear_multiprocess_dir()
    server = start_metrics_server("127.0.0.1", 0, lambda: {"ready": True})
    print(server.port, flush=True)
    sys.stdin.read()
    server.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
