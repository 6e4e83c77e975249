"""The worker host's ``/health`` while its Redis hangs (SIGSTOP): each probe answers 503 from
one bounded PING, however many arrive at once, and 200 again once Redis answers."""

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from gateway.worker.health import WorkerHostHealth
from gateway.worker.metrics_endpoint import MetricsServer, start_metrics_server
from tests.production.redis_server import RedisServer

PROBES = 5
# A probe's own timeout, as an orchestrator's would be: the five probes queued behind one
# another's 5 s pings (the last answering after 25 s) fail it.
PROBE_TIMEOUT_S = 5.0
UNREACHABLE = {"ready": False, "broker": "unreachable", "processes": {"live": 1, "expected": 1}}
REACHABLE = {"ready": True, "broker": "reachable", "processes": {"live": 1, "expected": 1}}


@pytest.fixture
def endpoint(own_redis: RedisServer) -> Iterator[MetricsServer]:
    health = WorkerHostHealth(own_redis.url, expected=1, live=lambda: 1)
    server = start_metrics_server("127.0.0.1", 0, health.report)
    yield server
    server.close()


async def _probe(http: aiohttp.ClientSession, endpoint: MetricsServer) -> tuple[int, Any]:
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)
    async with http.get(f"http://127.0.0.1:{endpoint.port}/health", timeout=timeout) as answer:
        return answer.status, await answer.json()


async def test_probes_arriving_together_while_redis_hangs_each_answer_503(
    own_redis: RedisServer, endpoint: MetricsServer
) -> None:
    async with aiohttp.ClientSession() as http:
        assert await _probe(http, endpoint) == (200, REACHABLE)
        own_redis.freeze()
        try:
            answers = await asyncio.gather(*(_probe(http, endpoint) for _ in range(PROBES)))
            # And the next ones, once those pings gave up.
            again = await asyncio.gather(*(_probe(http, endpoint) for _ in range(PROBES)))
        finally:
            own_redis.resume()

        assert answers == again == [(503, UNREACHABLE)] * PROBES
        assert await _probe(http, endpoint) == (200, REACHABLE)
