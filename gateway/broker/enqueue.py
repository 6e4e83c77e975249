"""Enqueuing the start-ride task, with broker failures turned into one typed error."""

import uuid

from taskiq import AsyncBroker

from gateway.broker.start_ride_task import START_RIDE_TASK_NAME


class BrokerUnavailable(Exception):
    pass


async def enqueue_start_ride(broker: AsyncBroker, order_id: str, task_id: str | None) -> str:
    task = broker.find_task(START_RIDE_TASK_NAME)
    assert task is not None, "the start-ride task is registered when the broker is built"
    task_id = task_id or uuid.uuid4().hex
    try:
        await task.kicker().with_task_id(task_id).kiq(order_id=order_id)
    except Exception as error:  # redis, network or pool errors all mean "could not enqueue"
        raise BrokerUnavailable(f"{type(error).__name__}: {error}") from error
    return task_id
