"""``worker.processes`` worker processes: one runs in place, more run under a supervisor.

The supervisor restarts a worker process that dies and, on SIGTERM or SIGINT, passes SIGTERM
on and waits for the processes' graceful stop, killing only those that overrun it.
"""

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

import structlog
from prometheus_client.multiprocess import mark_process_dead

from gateway.bootstrap.registry import VendorCatalog, discover_vendor_plugins
from gateway.bootstrap.secrets import configured_secrets
from gateway.broker.metrics import WORKER_RESTARTS
from gateway.logging_setup import configure_logging
from gateway.metrics import MULTIPROCESS_DIR_VARIABLE, multiprocess_dir
from gateway.observability.tracing import configure_tracing, shutdown_tracing
from gateway.settings import Settings
from gateway.worker.health import WorkerHostHealth
from gateway.worker.metrics_endpoint import (
    MetricsServer,
    clear_multiprocess_dir,
    start_metrics_server,
)
from gateway.worker.runner import run_worker

POLL_INTERVAL_S = 0.2
RESTART_DELAY_S = 1.0
# Beyond the processes' own grace: time to cancel what overran it, hand it back and exit.
STOP_MARGIN_S = 5.0

log = structlog.get_logger("gateway.worker")


def run_workers(settings: Settings, catalog: VendorCatalog) -> None:
    multiprocess = settings.worker.processes > 1
    if multiprocess and multiprocess_dir() is None:
        # Spawned processes read this at import: each then writes its values where we sum them.
        os.environ[MULTIPROCESS_DIR_VARIABLE] = tempfile.mkdtemp(prefix="meters-metrics-")
    clear_multiprocess_dir()
    supervisor = _Supervisor(settings) if multiprocess else None
    # Without a supervisor the one worker process answers the probe itself: it is alive.
    live = supervisor.live_processes if supervisor is not None else lambda: 1
    metrics = _start_metrics(settings, live)
    try:
        if supervisor is not None:
            supervisor.run()
        else:
            asyncio.run(run_worker(settings, catalog))
    finally:
        if metrics is not None:
            metrics.close()


def _start_metrics(settings: Settings, live: Callable[[], int]) -> MetricsServer | None:
    if not settings.worker.metrics_port:
        return None
    health = WorkerHostHealth(settings.broker.url, settings.worker.processes, live)
    server = start_metrics_server(
        settings.worker.metrics_host, settings.worker.metrics_port, health.report
    )
    log.info("worker.metrics_serving", host=settings.worker.metrics_host, port=server.port)
    return server


def _worker_process(settings: Settings, restarted: bool) -> None:
    catalog = discover_vendor_plugins()
    configure_logging(settings.log_level, secrets=configured_secrets(settings, catalog))
    _stop_when_the_supervisor_dies()
    if restarted:
        # Counted by the new process: only worker processes write the summed metric files.
        WORKER_RESTARTS.inc()
    # A spawned process starts clean: its traces are set up here, as the CLI does in place.
    configure_tracing()
    try:
        asyncio.run(run_worker(settings, catalog))
    finally:
        shutdown_tracing()


def _stop_when_the_supervisor_dies() -> None:
    """SIGTERM this worker process, its graceful stop, once its supervisor is gone, whatever
    ended it (SIGKILL, the OOM killer): an orphan would go on taking tasks with no supervisor
    and no metrics port, beside those a restarted supervisor starts.

    The spawn context gives each process a pipe from its parent, whose end becomes readable
    when the parent exits (``parent_process().sentinel``): no polling, and no prctl.
    """
    supervisor = multiprocessing.parent_process()
    assert supervisor is not None, "worker processes are spawned by the supervisor"

    def watch() -> None:
        multiprocessing.connection.wait([supervisor.sentinel])
        # This thread does not see the pid the event loop's context binds to every line.
        log.warning("worker.supervisor_gone", pid=os.getpid(), supervisor_pid=supervisor.pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor watch", daemon=True).start()


class _Supervisor:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Spawned, not forked: each process starts clean rather than sharing the parent's state.
        self._context = multiprocessing.get_context("spawn")
        self._stopping = False
        self._processes: list[BaseProcess] = []

    def live_processes(self) -> int:
        return sum(1 for process in list(self._processes) if process.is_alive())

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        processes = self._processes
        processes.extend(self._start() for _ in range(self._settings.worker.processes))
        restart_at: dict[int, float] = {}
        while not self._stopping:
            time.sleep(POLL_INTERVAL_S)
            for slot, process in enumerate(processes):
                if process.exitcode is None:
                    continue
                if slot not in restart_at:
                    log.error("worker.process_died", pid=process.pid, exitcode=process.exitcode)
                    # Its live gauges (broker up, consumers, ledger age) must not go on being
                    # summed with the living processes' values.
                    if process.pid is not None:
                        mark_process_dead(process.pid)  # type: ignore[no-untyped-call]
                    # A process that dies at once would otherwise be respawned in a tight loop.
                    restart_at[slot] = time.monotonic() + RESTART_DELAY_S
                elif time.monotonic() >= restart_at[slot]:
                    del restart_at[slot]
                    processes[slot] = self._start(restarted=True)
        self._stop(processes)

    def _start(self, restarted: bool = False) -> BaseProcess:
        process = self._context.Process(
            target=_worker_process,
            args=(self._settings, restarted),
            name="meters-integration-api worker",
        )
        process.start()
        log.info("worker.process_started", pid=process.pid)
        return process

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _stop(self, processes: list[BaseProcess]) -> None:
        for process in processes:
            if process.exitcode is None:
                process.terminate()
        deadline = time.monotonic() + self._settings.worker.shutdown_grace_ms / 1000 + STOP_MARGIN_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                log.error("worker.process_killed", pid=process.pid)
                process.kill()
                process.join()
