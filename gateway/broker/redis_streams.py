"""Production broker: taskiq-redis Redis Streams with a consumer group and late acknowledgement."""

from taskiq_redis import RedisStreamBroker

from gateway.settings import BrokerSettings

CONSUMER_GROUP = "meters_integration_api"


def build_redis_stream_broker(settings: BrokerSettings) -> RedisStreamBroker:
    return RedisStreamBroker(
        settings.url,
        queue_name=settings.queue_name,
        consumer_group_name=CONSUMER_GROUP,
        # "0" rather than "$": a message added before the group existed is still delivered.
        consumer_id="0",
        idle_timeout=settings.redelivery_timeout_ms,
    )
