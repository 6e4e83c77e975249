"""The ride flows' ports (``gateway.rides.ports``), built once per process around one shared
HTTP session: the platform clients, the vendor router and the coordination stores."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiohttp
from redis.asyncio import ConnectionPool

from gateway.bootstrap.registry import VendorCatalog
from gateway.bootstrap.vendor_setup import build_vendors, validate_vendor_settings
from gateway.coordination import StoredRideLedger, coordination_for
from gateway.platform.client_notify import ClientNotifyClient
from gateway.platform.driver_app import DriverAppChannel
from gateway.platform.driver_orders_builder import DriverOrdersBuilderClient
from gateway.platform.driver_profiles import DriverProfilesClient
from gateway.platform.fleet_vehicles import FleetVehiclesClient
from gateway.platform.identity import DriverIdentity
from gateway.platform.order_core import OrderCoreClient
from gateway.platform.personal import PersonalClient
from gateway.rides.ports import RidePorts, Services
from gateway.rides.routing import VendorRouter
from gateway.settings import Settings

# Every process that reports meters_ride_ledger_age_seconds reads the ledger's age this often,
# rides claimed or not: it reads where the ledger lives, so a Redis that came back empty shows.
LEDGER_AGE_REPORT_INTERVAL_S = 60.0


@asynccontextmanager
async def open_services(
    settings: Settings, catalog: VendorCatalog, pool: ConnectionPool | None
) -> AsyncIterator[Services]:
    """``pool``: the broker's Redis, where the coordination stores live; None keeps them in
    this process, beside the in-memory broker."""
    vendor_settings = validate_vendor_settings(settings, catalog)
    coordination = coordination_for(pool, settings)
    await coordination.ride_ledger.report_age()
    reporting = asyncio.create_task(_keep_reporting_ledger_age(coordination.ride_ledger))
    upstreams = settings.upstreams
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    async with (
        _cancelled_on_exit(reporting),
        aiohttp.ClientSession(connector=connector, raise_for_status=False) as http,
    ):
        identity = DriverIdentity(
            DriverProfilesClient(http, upstreams.driver_profiles),
            PersonalClient(http, upstreams.personal),
        )
        driver_app = DriverAppChannel(
            DriverOrdersBuilderClient(http, upstreams.driver_orders_builder),
            ClientNotifyClient(http, upstreams.client_notify),
        )
        ports = RidePorts(
            order_core=OrderCoreClient(http, upstreams.order_core),
            identity=identity,
            vehicles=FleetVehiclesClient(http, upstreams.fleet_vehicles),
            driver_app=driver_app,
            router=VendorRouter(settings, build_vendors(vendor_settings, catalog, http)),
            order_lease=coordination.order_lease,
            ride_ledger=coordination.ride_ledger,
            finish_replay=coordination.finish_replay,
            finished_first=coordination.finished_first,
        )
        yield Services(settings=settings, ports=ports)


async def _keep_reporting_ledger_age(ledger: StoredRideLedger) -> None:
    # A gauge says what its last set said: without this, a gateway (which claims no rides) or
    # an idle worker would report its start-up age forever, and the alert on the youngest
    # ledger seen would fire for ever after a young start.
    while True:
        await asyncio.sleep(LEDGER_AGE_REPORT_INTERVAL_S)
        await ledger.report_age()


@asynccontextmanager
async def _cancelled_on_exit(task: "asyncio.Task[None]") -> AsyncIterator[None]:
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
