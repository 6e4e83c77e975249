"""Shared fixtures: a simulated platform on real ports and a gateway wired to it."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from taskiq import AsyncBroker, InMemoryBroker

from gateway.broker.factory import build_broker
from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH, build_app
from gateway.plugins.registry import VendorCatalog, discover_vendor_plugins
from gateway.sandbox.world import SimulatedWorld, settings_for, vendor_simulators
from gateway.settings import Settings
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_cancellable_monitex
from vendors.monitex.simulator import MonitexSimulator
from vendors.optumplus.simulator import OptumPlusSimulator

MONITEX_TOKEN = "monitex-secret-token-5f2a"
OPTUMPLUS_TOKEN = "optumplus-secret-token-9c1e"
DRIVER_HEADERS = {
    "X-YaTaxi-Park-Id": "park1",
    "X-YaTaxi-Driver-Profile-Id": "driver1",
    "X-Request-Application": "taximeter",
    "X-Request-Application-Version": "9.80",
}


class ShippedWorld(SimulatedWorld):
    """The world with the shipped vendors' simulators, as their plugins register them."""

    def __init__(self) -> None:
        tokens = {"monitex": MONITEX_TOKEN, "optumplus": OPTUMPLUS_TOKEN}
        super().__init__(vendor_simulators(discover_vendor_plugins(), tokens))

    @property
    def monitex(self) -> MonitexSimulator:
        simulator = self.vendors["monitex"]
        assert isinstance(simulator, MonitexSimulator)
        return simulator

    @property
    def optumplus(self) -> OptumPlusSimulator:
        simulator = self.vendors["optumplus"]
        assert isinstance(simulator, OptumPlusSimulator)
        return simulator


@dataclass
class RunningWorld:
    sims: ShippedWorld
    urls: dict[str, str]


@dataclass
class Gateway:
    client: TestClient[Any, Any]
    broker: AsyncBroker

    async def start_ride(self, order_id: str) -> None:
        """Enqueue the task through the HTTP endpoint and wait until it has run."""
        response = await self.client.post(START_RIDE_PATH, json={"order_id": order_id})
        assert response.status == 202, await response.text()
        await self.wait_for_tasks()

    async def wait_for_tasks(self) -> None:
        assert isinstance(self.broker, InMemoryBroker)
        await self.broker.wait_all()

    async def finish_ride(
        self,
        alias_id: str,
        price: Decimal | float = 42.24,
        *,
        driver_price: Decimal | float | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        body = {
            "order_id": alias_id,
            "user_price": float(price),
            "driver_price": float(price if driver_price is None else driver_price),
        }
        response = await self.client.post(
            FINISH_RIDE_PATH, json=body, headers=DRIVER_HEADERS if headers is None else headers
        )
        return response.status, await response.json()


@pytest.fixture
async def world() -> AsyncIterator[RunningWorld]:
    sims = ShippedWorld()
    async with sims.running() as urls:
        yield RunningWorld(sims, urls)


@pytest.fixture
def settings_tree(world: RunningWorld) -> dict[str, Any]:
    """The gateway's settings as a TOML file would give them; a test may edit it before use."""
    return settings_for(world.urls, monitex_token=MONITEX_TOKEN, optumplus_token=OPTUMPLUS_TOKEN)


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
def make_gateway(
    settings_tree: dict[str, Any],
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> GatewayFactory:
    async def make(catalog: VendorCatalog | None = None) -> Gateway:
        settings = Settings(**settings_tree)
        broker = build_broker(settings.broker)
        app = build_app(settings, catalog or discover_vendor_plugins(), broker)
        client = await aiohttp_client(app)
        return Gateway(client, broker)

    return make


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway()


@pytest.fixture
async def cancellable_gateway(
    settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> Gateway:
    """A gateway whose Israeli vendor is Monitex that can also cancel a ride it started."""
    settings_tree["countries"]["IL"]["vendor"] = "cancellable_monitex"
    settings_tree["vendors"]["cancellable_monitex"] = settings_tree["vendors"]["monitex"]
    CancellableMonitex.cancelled.clear()
    return await make_gateway(catalog_with_cancellable_monitex())
