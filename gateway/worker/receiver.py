"""taskiq's Receiver as a worker runs it, knowing which task runs are still going."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from taskiq import AckableMessage, AcknowledgeType, AsyncBroker, TaskiqMessage, TaskiqResult
from taskiq.acks import AckController
from taskiq.receiver import Receiver

from gateway.broker.unacknowledged import LeavesPending, LeaveUnacknowledged

log = structlog.get_logger("gateway.worker")


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
            # redelivered; the task never raises to be retried (DESIGN §3).
            ack_type=AcknowledgeType.WHEN_EXECUTED,
            # How long listen() waits for running tasks once told to stop.
            wait_tasks_timeout=grace_s,
        )
        self._running: set[asyncio.Task[object]] = set()
        # Runs that raised LeaveUnacknowledged: their callback must not acknowledge.
        self._left_unacknowledged: set[asyncio.Task[object]] = set()

    async def callback(self, message: bytes | AckableMessage, raise_err: bool = False) -> None:
        run = asyncio.current_task()
        assert run is not None, "the Receiver runs each callback as its own task"
        self._running.add(run)
        if isinstance(message, AckableMessage):
            message = AckableMessage(data=message.data, ack=self._acknowledger(run, message.ack))
        try:
            await super().callback(message, raise_err)
        finally:
            self._running.discard(run)
            self._left_unacknowledged.discard(run)

    def _acknowledger(
        self, run: "asyncio.Task[object]", acknowledge: Callable[[], Awaitable[None] | None]
    ) -> Callable[[], Awaitable[None]]:
        async def unless_left_unacknowledged() -> None:
            if run in self._left_unacknowledged:
                if isinstance(acknowledge, LeavesPending):
                    acknowledge.leave_pending()
                return
            acknowledged = acknowledge()
            if acknowledged is not None:
                await acknowledged

        return unless_left_unacknowledged

    async def run_task(
        self,
        target: Callable[..., Any],
        message: TaskiqMessage,
        ack_controller: AckController | None = None,
    ) -> TaskiqResult[Any]:
        run = asyncio.current_task()

        async def marking_left_unacknowledged(*args: Any, **kwargs: Any) -> Any:
            try:
                return await target(*args, **kwargs)
            except LeaveUnacknowledged as cause:
                # A designed outcome, not a crash: taskiq would log it with a traceback.
                assert run is not None
                self._left_unacknowledged.add(run)
                log.warning("worker.left_unacknowledged", task_id=message.task_id, cause=str(cause))
                return None

        # The task's signature and dependencies were read from the task itself at start-up;
        # only the call goes through this wrapper.
        return await super().run_task(marking_left_unacknowledged, message, ack_controller)

    @property
    def running(self) -> int:
        return len(self._running)

    async def cancel_running(self) -> None:
        """Cancel the task runs still going and wait until they have stopped."""
        runs = list(self._running)
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
