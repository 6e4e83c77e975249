"""One worker process: runs start-ride tasks from the Redis stream until SIGTERM or SIGINT.

Stopping: no new entries are read; running tasks get ``worker.shutdown_grace_ms`` to finish;
those still running then are cancelled and, like anything else this worker holds, handed back
to the stream for another worker, so nothing waits out the redelivery timeout.
"""

import asyncio
import os
import signal

import structlog

from gateway.bootstrap.process import compose
from gateway.bootstrap.registry import VendorCatalog
from gateway.bootstrap.services import open_services
from gateway.broker.redis_streams import ReliableStreamBroker
from gateway.settings import Settings
from gateway.worker.receiver import WorkerReceiver

log = structlog.get_logger("gateway.worker")


async def run_worker(settings: Settings, catalog: VendorCatalog) -> None:
    stop = _stop_on_signals()
    process = compose(settings, catalog)
    broker = process.broker
    if not isinstance(broker, ReliableStreamBroker):
        raise ValueError("a worker needs a Redis broker: set broker.url")
    broker.is_worker_process = True
    # Every line of this process, its tasks' included, says which process and consumer it is.
    structlog.contextvars.bind_contextvars(pid=os.getpid(), consumer=broker.consumer_name)
    receiver = WorkerReceiver(
        broker,
        max_tasks=settings.worker.max_concurrent_tasks,
        grace_s=settings.worker.shutdown_grace_ms / 1000,
    )
    async with open_services(settings, catalog, process.pool) as services:
        broker.state.services = services
        await broker.startup()
        log.info(
            "worker.started",
            max_concurrent_tasks=settings.worker.max_concurrent_tasks,
        )
        try:
            async with broker.holding_deliveries():
                try:
                    await receiver.listen(stop)
                finally:
                    await _end_unfinished(receiver)
        finally:
            await broker.shutdown()
    log.info("worker.stopped")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _request_stop, stop, signum)
    return stop


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    if not stop.is_set():
        log.info("worker.stopping", signal=signal.Signals(signum).name)
    stop.set()


async def _end_unfinished(receiver: WorkerReceiver) -> None:
    if not receiver.running:
        return
    log.warning("worker.grace_expired", unfinished_tasks=receiver.running)
    # Cancelled runs stay unacknowledged (WorkerReceiver) and are handed back.
    await receiver.cancel_running()
