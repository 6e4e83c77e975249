"""Redis for the production-mode tests: always a real server, never a fake.

``REDIS_URL`` names a server to use; otherwise the session starts a throwaway redis-server on
a free port. Tests that stop, restart or freeze Redis get one of their own (``own_redis``).
Each test works on a stream of its own, deleted afterwards.
"""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.broker.dead_letters import DEAD_LETTER_SUFFIX
from gateway.broker.held_entries import HEARTBEATS_SUFFIX
from gateway.redis_connection import connection_pool
from tests.production.redis_server import RedisServer
from tests.production.sentinel_cluster import SentinelCluster
from tests.production.stream import StreamProbe
from tests.production.workers import REDELIVERY_TIMEOUT_MS, Workers


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_sentinel_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A master, two replicas and three sentinels the session's tests share (and never kill)."""
    cluster = SentinelCluster(tmp_path_factory.mktemp("sentinel"))
    cluster.start()
    yield cluster.url()
    cluster.stop()


@pytest.fixture(params=["redis", "sentinel"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """The Redis the test's gateway and workers use: every guarantee holds on a plain Redis
    and under Sentinel. A module may point it elsewhere (``own_redis``, its own cluster)."""
    shared = "redis_url" if request.param == "redis" else "shared_sentinel_url"
    url: str = request.getfixturevalue(shared)
    return url


@pytest.fixture
def queue_name() -> str:
    return f"meters-test-{uuid.uuid4().hex}"


@pytest.fixture
async def probe(broker_url: str, queue_name: str) -> AsyncIterator[StreamProbe]:
    # The broker's own kind of pool: RESP2, and under Sentinel it follows the master.
    async with Redis(connection_pool=connection_pool(broker_url)) as redis:
        yield StreamProbe(redis, queue_name)
        # A test that failed with its own Redis stopped has nothing left to clean.
        with suppress(RedisConnectionError):
            await redis.delete(
                queue_name, queue_name + HEARTBEATS_SUFFIX, queue_name + DEAD_LETTER_SUFFIX
            )


@pytest.fixture
def production_tree(
    settings_tree: dict[str, Any], broker_url: str, queue_name: str
) -> dict[str, Any]:
    """The shared settings tree, switched to the Redis broker (edited in place, so that
    ``make_gateway`` builds a gateway on it too)."""
    settings_tree["broker"] = {
        "url": broker_url,
        "queue_name": queue_name,
        "redelivery_timeout_ms": REDELIVERY_TIMEOUT_MS,
    }
    settings_tree["worker"] = {
        "processes": 1,
        "max_concurrent_tasks": 4,
        "shutdown_grace_ms": 5000,
        "metrics_port": 0,  # several workers share this host; test_worker_metrics opens one
    }
    return settings_tree


@pytest.fixture
async def workers(
    production_tree: dict[str, Any], tmp_path: Path, probe: StreamProbe
) -> AsyncIterator[Workers]:
    # Depends on the probe so that the workers stop before it deletes their stream.
    started = Workers(production_tree, tmp_path)
    yield started
    await started.close()


@pytest.fixture
def sentinel_cluster(tmp_path: Path) -> Iterator[SentinelCluster]:
    """A master, two replicas and three sentinels of the test's own."""
    workdir = tmp_path / "sentinel"
    workdir.mkdir()
    cluster = SentinelCluster(workdir)
    cluster.start()
    yield cluster
    cluster.stop()
