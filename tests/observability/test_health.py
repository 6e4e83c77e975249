"""``/health`` (docs/design.md §6): ready when the broker is reachable and plugins are loaded."""

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.bootstrap.process import compose
from gateway.bootstrap.registry import (
    VendorCatalog,
    catalog_from_entry_points,
    discover_vendor_plugins,
)
from gateway.http.app import build_app
from gateway.plugins.hookspecs import ENTRY_POINT_GROUP
from gateway.settings import Settings
from tests.gateway_world import Gateway
from tests.processes import HOST, free_port

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]

BROKEN_PLUGIN = EntryPoint(
    name="brokenvendor", value="vendors_that_do_not_exist.plugin", group=ENTRY_POINT_GROUP
)
BROKEN_REPORT = "brokenvendor: ModuleNotFoundError: No module named 'vendors_that_do_not_exist'"
# Whatever vendor packages this environment has installed, the shipped two among them.
INSTALLED = sorted(discover_vendor_plugins().vendors)


def catalog_with_broken_plugin(*, installed: bool) -> VendorCatalog:
    found = [*entry_points(group=ENTRY_POINT_GROUP)] if installed else []
    return catalog_from_entry_points([*found, BROKEN_PLUGIN])


async def health(client: TestClient[Any, Any]) -> tuple[int, Any]:
    response = await client.get("/health")
    return response.status, await response.json()


async def test_ready_with_the_in_process_broker_and_the_installed_vendors(
    gateway: Gateway,
) -> None:
    status, report = await health(gateway.client)

    assert (status, report["ready"], report["broker"]) == (200, True, "reachable")
    assert report["vendors"] == INSTALLED
    assert {"monitex", "optumplus"} <= set(report["vendors"])


async def test_a_plugin_that_failed_to_load_is_reported_while_the_others_serve(
    settings_tree: dict[str, Any], aiohttp_client: ClientFactory
) -> None:
    settings = Settings(**settings_tree)
    catalog = catalog_with_broken_plugin(installed=True)
    client = await aiohttp_client(build_app(compose(settings, catalog)))

    status, report = await health(client)

    assert (status, report["ready"]) == (200, True)
    assert report["vendors"] == INSTALLED
    assert BROKEN_REPORT in report["plugin_failures"]


async def test_not_ready_when_no_vendor_plugin_loaded(aiohttp_client: ClientFactory) -> None:
    settings = Settings()  # no country routes anywhere, so the process may start without vendors
    catalog = catalog_with_broken_plugin(installed=False)
    client = await aiohttp_client(build_app(compose(settings, catalog)))

    status, report = await health(client)

    assert datetime.fromisoformat(report.pop("broker_since")) <= datetime.now(UTC)
    assert (status, report) == (
        503,
        {
            "ready": False,
            "broker": "reachable",
            "vendors": [],
            "plugin_failures": [BROKEN_REPORT],
        },
    )


@dataclass(frozen=True, slots=True)
class RedisServer:
    process: asyncio.subprocess.Process
    port: int

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/ensure-redis-server.sh)")
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        binary,
        "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no",
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    server = RedisServer(process, port)
    try:
        async with Redis(host=HOST, port=port) as redis, asyncio.timeout(5):
            while True:
                try:
                    await redis.ping()
                    break
                except RedisConnectionError:
                    await asyncio.sleep(0.02)
        yield server
    finally:
        await server.stop()


async def test_readiness_follows_the_redis_broker(
    settings_tree: dict[str, Any], aiohttp_client: ClientFactory, redis_server: RedisServer
) -> None:
    broker_url = f"redis://{HOST}:{redis_server.port}/0"
    settings = Settings(**{**settings_tree, "broker": {"url": broker_url}})
    catalog = catalog_with_broken_plugin(installed=True)
    client = await aiohttp_client(build_app(compose(settings, catalog)))
    status, report = await health(client)
    assert (status, report["ready"], report["broker"]) == (200, True, "reachable")
    reachable_since = datetime.fromisoformat(report["broker_since"])

    await redis_server.stop()

    status, report = await health(client)
    assert (status, report["ready"], report["broker"]) == (503, False, "unreachable")
    # Since when it is unreachable: after it was last seen reachable.
    assert datetime.fromisoformat(report["broker_since"]) > reachable_since
    assert report["vendors"] == INSTALLED
    assert BROKEN_REPORT in report["plugin_failures"]


async def test_a_plugin_written_for_another_api_version_is_named_while_the_others_serve(
    settings_tree: dict[str, Any], aiohttp_client: ClientFactory
) -> None:
    settings = Settings(**settings_tree)
    future = EntryPoint(
        name="future_optumplus", value="tests.plugins.future_api", group=ENTRY_POINT_GROUP
    )
    catalog = catalog_from_entry_points([*entry_points(group=ENTRY_POINT_GROUP), future])
    client = await aiohttp_client(build_app(compose(settings, catalog)))

    status, report = await health(client)

    assert (status, report["ready"]) == (200, True)
    assert report["vendors"] == INSTALLED
    assert (
        "future_optumplus: IncompatiblePlugin: written for plugin API 2.x, this gateway speaks 1.1"
        in report["plugin_failures"]
    )
