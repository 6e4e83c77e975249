"""A process's settings, vendor catalog, Redis pool and broker, built once.

``broker.url`` picks the broker: none is the in-memory broker (the worker inside ``serve``),
which runs every task in this process; a Redis URL is the Redis Streams broker. The one pool to
that Redis, which follows a Sentinel failover, is built here and handed to the broker and, by
``open_services``, to the coordination stores, so both follow the same master.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import ConnectionPool
from taskiq import AsyncBroker, InMemoryBroker

from gateway.bootstrap.registry import VendorCatalog, discover_vendor_plugins
from gateway.bootstrap.vendor_setup import refuse_empty_secrets, validate_vendor_settings
from gateway.broker.metrics import BROKER_UP
from gateway.broker.redis_streams import ReliableStreamBroker
from gateway.broker.start_ride_task import START_RIDE_TASK_NAME, meters_integration_api_call
from gateway.redis_connection import connection_pool
from gateway.settings import CONFIG_PATH_VARIABLE, BrokerSettings, Settings, load_settings


@dataclass(frozen=True, slots=True)
class Process:
    settings: Settings
    catalog: VendorCatalog
    # The one pool to the broker's Redis; None with the in-memory broker.
    pool: ConnectionPool | None
    broker: AsyncBroker


def load(
    config: Path | None, *, require_vendor_secrets: bool = False
) -> tuple[Settings, VendorCatalog]:
    """The settings (``config``, else $METERS_CONFIG, else the defaults) and the installed
    vendors, every routed vendor's section checked; ConfigError names what is wrong.
    ``require_vendor_secrets``: for the processes that call the real vendors (``serve``,
    ``worker``, and ``check-config`` of their file), an empty secret is refused too."""
    path = config or (
        Path(os.environ[CONFIG_PATH_VARIABLE]) if os.environ.get(CONFIG_PATH_VARIABLE) else None
    )
    settings = load_settings(path)
    catalog = discover_vendor_plugins()
    validated = validate_vendor_settings(settings, catalog)
    if require_vendor_secrets:
        refuse_empty_secrets(settings, validated, catalog)
    return settings, catalog


def compose(settings: Settings, catalog: VendorCatalog) -> Process:
    pool = redis_pool(settings.broker)
    return Process(settings, catalog, pool, build_broker(settings.broker, pool))


def redis_pool(settings: BrokerSettings) -> ConnectionPool | None:
    """The pool to ``broker.url``'s Redis; None for the in-memory broker. No connection yet."""
    return connection_pool(settings.url) if settings.url else None


def build_broker(settings: BrokerSettings, pool: ConnectionPool | None) -> AsyncBroker:
    """The Redis Streams broker on ``pool``, or the in-memory one without; the start-ride task
    registered on either."""
    broker: AsyncBroker
    if pool is not None:
        broker = ReliableStreamBroker(settings, pool)
    else:
        broker = InMemoryBroker(max_stored_results=1)
        # It lives in this process: reachable for as long as the process runs, as /health says.
        BROKER_UP.set(1)
    broker.register_task(meters_integration_api_call, task_name=START_RIDE_TASK_NAME)
    return broker
