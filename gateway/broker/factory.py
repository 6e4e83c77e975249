"""Picks the broker from ``broker.url``: in-memory (worker inside ``serve``) or Redis Streams."""

from taskiq import AsyncBroker, InMemoryBroker

from gateway.broker.start_ride_task import START_RIDE_TASK_NAME, meters_integration_api_call
from gateway.settings import BrokerSettings


def build_broker(settings: BrokerSettings) -> AsyncBroker:
    broker: AsyncBroker
    if settings.url:
        from gateway.broker.redis_streams import ReliableStreamBroker

        broker = ReliableStreamBroker(settings)
    else:
        broker = InMemoryBroker(max_stored_results=1)
    broker.register_task(meters_integration_api_call, task_name=START_RIDE_TASK_NAME)
    return broker
