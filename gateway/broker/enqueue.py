"""Enqueuing the start-ride task, with broker failures turned into one typed error."""

import uuid

import structlog
from taskiq import AsyncBroker

from gateway.broker.start_ride_task import REQUEST_ID_LABEL, START_RIDE_TASK_NAME
from gateway.observability.tracing import trace_headers_to_send


class BrokerUnavailable(Exception):
    pass


async def enqueue_start_ride(broker: AsyncBroker, order_id: str, task_id: str | None) -> str:
    task = broker.find_task(START_RIDE_TASK_NAME)
    assert task is not None, "the start-ride task is registered when the broker is built"
    task_id = task_id or uuid.uuid4().hex
    kicker = task.kicker().with_task_id(task_id)
    # The worker that runs the task may be another process: the request id and the trace
    # context travel in the message.
    labels = trace_headers_to_send()
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        labels[REQUEST_ID_LABEL] = str(request_id)
    if labels:
        kicker = kicker.with_labels(**labels)
    try:
        await kicker.kiq(order_id=order_id)
    except Exception as error:  # redis, network or pool errors all mean "could not enqueue"
        raise BrokerUnavailable(f"{type(error).__name__}: {error}") from error
    return task_id
