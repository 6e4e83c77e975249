"""taskiq's Receiver as a worker runs it, knowing which task runs are still going.

A run is acknowledged once it has run (the task never raises to be retried, docs/design.md §3),
except a run that did not really end: one cut short by a stopping worker (its entry is handed
back to the stream at once) or one that must run again (``leaves_entry_pending``): its entry
stays pending and is delivered again after the redelivery timeout.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from taskiq import AckableMessage, AcknowledgeType, AsyncBroker, TaskiqMessage, TaskiqResult
from taskiq.acks import AckController
from taskiq.receiver import Receiver

from gateway.broker.redis_streams import ReliableStreamBroker
from gateway.rides.unacknowledged import LeaveUnacknowledged
from gateway.workarounds.taskiq import acknowledged_despite_cancellation, withhold_acknowledgement

log = structlog.get_logger("gateway.worker")


def leaves_entry_pending(error: BaseException | None) -> bool:
    """Whether a run that ended with ``error`` must stay unacknowledged, to run again."""
    return acknowledged_despite_cancellation(error)


class WorkerReceiver(Receiver):
    def __init__(self, broker: AsyncBroker, *, max_tasks: int, grace_s: float) -> None:
        super().__init__(
            broker,
            max_async_tasks=max_tasks,
            # No prefetch: the broker is asked for an entry only when a task slot is free, so
            # a stopping worker has nothing fetched that it has not started.
            max_prefetch=0,
            # The worker starts the broker itself, after the services the task uses are open.
            run_startup=False,
            # The entry stays pending while the task runs, so a killed worker's task is
            # redelivered; the task never raises to be retried (docs/design.md §3).
            ack_type=AcknowledgeType.WHEN_EXECUTED,
            # How long listen() waits for running tasks once told to stop.
            wait_tasks_timeout=grace_s,
        )
        self._running: set[asyncio.Task[object]] = set()

    async def callback(self, message: bytes | AckableMessage, raise_err: bool = False) -> None:
        run = asyncio.current_task()
        assert run is not None, "the Receiver runs each callback as its own task"
        self._running.add(run)
        try:
            await super().callback(message, raise_err)
        finally:
            self._running.discard(run)

    async def run_task(
        self,
        target: Callable[..., Any],
        message: TaskiqMessage,
        ack_controller: AckController | None = None,
    ) -> TaskiqResult[Any]:
        left_unacknowledged = False

        async def declining_acknowledgement(*args: Any, **kwargs: Any) -> Any:
            nonlocal left_unacknowledged
            try:
                return await target(*args, **kwargs)
            except LeaveUnacknowledged as cause:
                # A designed outcome, not a crash: taskiq would log it with a traceback.
                left_unacknowledged = True
                log.warning("worker.left_unacknowledged", task_id=message.task_id, cause=str(cause))
                return None

        # The task's signature and dependencies were read from the task itself at start-up;
        # only the call goes through the wrapper.
        result = await super().run_task(declining_acknowledgement, message, ack_controller)
        if ack_controller is not None and (
            left_unacknowledged or leaves_entry_pending(result.error)
        ):
            withhold_acknowledgement(ack_controller)
            if isinstance(self.broker, ReliableStreamBroker):
                self.broker.leave_pending(message)
        return result

    @property
    def running(self) -> int:
        return len(self._running)

    async def cancel_running(self) -> None:
        """Cancel the task runs still going and wait until they have stopped."""
        runs = list(self._running)
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
