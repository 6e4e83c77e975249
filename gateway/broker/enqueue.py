"""Enqueuing the start-ride task, with broker failures turned into one typed error."""

import uuid

from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AsyncBroker

from gateway.broker.metrics import ENQUEUES
from gateway.broker.redis_streams import describe
from gateway.broker.replication import NotReplicated
from gateway.broker.start_ride_task import REQUEST_ID_LABEL, START_RIDE_TASK_NAME
from gateway.observability.request_ids import current_request_id
from gateway.observability.tracing import trace_headers_to_send

# After a timeout or too few replicas the XADD may well have landed: the producer is told that
# repeating the request is safe. It is because of the task itself, not the task id: a second
# delivery finds the order's lease taken or its ride id stored (docs/design.md §3a) and
# starts no second meter ride.
MAY_BE_ENQUEUED = "the task may be enqueued; retrying with the same task_id is safe"

UNREACHABLE, TIMEOUT, NOT_REPLICATED = "unreachable", "timeout", "not_replicated"
# Every result's series exists at 0 from the start: MetersEnqueueFailing reads increase(), which
# cannot see a series' first failure if the series is born with it.
for _result in ("ok", UNREACHABLE, TIMEOUT, NOT_REPLICATED):
    ENQUEUES.labels(_result)


class BrokerUnavailable(Exception):
    """The task could not be enqueued for sure. ``result`` is the enqueue metric's label."""

    def __init__(self, result: str, cause: str) -> None:
        super().__init__(cause)
        self.result = result
        self.cause = cause

    @property
    def may_be_enqueued(self) -> bool:
        return self.result != UNREACHABLE


async def enqueue_start_ride(broker: AsyncBroker, order_id: str, task_id: str | None) -> str:
    task = broker.find_task(START_RIDE_TASK_NAME)
    assert task is not None, "the start-ride task is registered when the broker is built"
    task_id = task_id or uuid.uuid4().hex
    kicker = task.kicker().with_task_id(task_id)
    # The worker that runs the task may be another process: the request id and the trace
    # context travel in the message.
    labels = trace_headers_to_send()
    request_id = current_request_id()
    if request_id:
        labels[REQUEST_ID_LABEL] = request_id
    if labels:
        kicker = kicker.with_labels(**labels)
    try:
        await kicker.kiq(order_id=order_id)
    except Exception as error:  # redis, network or pool errors all mean "could not enqueue"
        # taskiq wraps what the broker raised in SendTaskError("Cannot send task to the queue").
        cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
        result = _result_of(cause)
        ENQUEUES.labels(result).inc()
        raise BrokerUnavailable(result, describe(cause)) from error
    ENQUEUES.labels("ok").inc()
    return task_id


def _result_of(error: Exception) -> str:
    if isinstance(error, NotReplicated):
        return NOT_REPLICATED
    if isinstance(error, TimeoutError | RedisTimeoutError):
        return TIMEOUT
    return UNREACHABLE
