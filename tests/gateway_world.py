"""The simulated platform and the gateway the tests drive: the fixtures in ``conftest.py`` build
them; tests import these types and constants from here."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp.test_utils import TestClient
from taskiq import AsyncBroker, InMemoryBroker

from gateway.bootstrap.registry import VendorCatalog, discover_vendor_plugins
from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH
from gateway.plugins import VendorSettings
from gateway.sandbox.world import NOT_YET_LISTENING, SimulatedWorld, vendor_simulators
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


def configured_as(
    catalog: VendorCatalog, sections: dict[str, dict[str, Any]]
) -> dict[str, VendorSettings]:
    """Each named vendor's settings validated from its section, as its simulator is built from
    them before it listens (at ``NOT_YET_LISTENING``)."""
    return {
        name: catalog.vendors[name].settings_model.model_validate(
            {"url": NOT_YET_LISTENING, **section}
        )
        for name, section in sections.items()
    }


class ShippedWorld(SimulatedWorld):
    """The world with the shipped vendors' simulators, as their plugins register them."""

    def __init__(self) -> None:
        catalog = discover_vendor_plugins()
        sections = {"monitex": {"token": MONITEX_TOKEN}, "optumplus": {"token": OPTUMPLUS_TOKEN}}
        super().__init__(vendor_simulators(catalog, configured_as(catalog, sections)))

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

    def change_order(self, order_id: str, path: str, value: Any) -> None:
        """Order-core holds ``value`` at the dotted ``path`` of the order from now on (the
        platform changed it: a new fixed price, another car); the rest stays as it is."""
        document = self.order_core.order(order_id)
        *parents, leaf = path.split(".")
        place = document
        for name in parents:
            place = place.setdefault(name, {})
        place[leaf] = value
        revision = self.order_core.revision(order_id)
        self.order_core.add_order(
            order_id, document, revision["order.version"], revision["processing.version"]
        )


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


GatewayFactory = Callable[..., Awaitable[Gateway]]
