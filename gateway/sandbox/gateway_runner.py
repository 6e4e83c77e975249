"""The gateway served inside the sandbox's event loop, with the embedded in-memory broker."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from taskiq import InMemoryBroker

from gateway.bootstrap.process import compose
from gateway.bootstrap.registry import VendorCatalog
from gateway.http.app import build_app
from gateway.plugins.serving import serve_app
from gateway.settings import BrokerSettings, Settings

# In-flight finish-ride requests get this long to complete when the sandbox stops.
SHUTDOWN_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class RunningGateway:
    url: str
    broker: InMemoryBroker

    async def wait_for_tasks(self) -> None:
        """Until every start-ride task enqueued so far has run."""
        await self.broker.wait_all()


@asynccontextmanager
async def running_gateway(
    settings: Settings, catalog: VendorCatalog
) -> AsyncIterator[RunningGateway]:
    """Serve the gateway at ``server.host``/``server.port``; its tasks run in this process.

    A Redis ``broker.url`` is ignored: the sandbox is a world of its own.
    """
    embedded = settings.model_copy(update={"broker": BrokerSettings()})
    process = compose(embedded, catalog)
    broker = process.broker
    assert isinstance(broker, InMemoryBroker), "the default broker settings are in-memory"
    app = build_app(process)
    server = embedded.server
    async with serve_app(app, server.host, server.port, shutdown_timeout=SHUTDOWN_TIMEOUT_S) as url:
        yield RunningGateway(url, broker)
