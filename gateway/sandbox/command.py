"""``meters-integration-api sandbox``: the gateway and every simulator in one event loop."""

import asyncio
import signal
import sys

import structlog

from gateway.bootstrap.registry import VendorCatalog
from gateway.sandbox.addresses import Address
from gateway.sandbox.demo_rides import demo_rides
from gateway.sandbox.gateway_runner import running_gateway
from gateway.sandbox.instructions import instructions
from gateway.sandbox.world import SimulatedWorld, configured_world
from gateway.settings import Settings

EXIT_CANNOT_LISTEN = 1


def run_sandbox(settings: Settings, catalog: VendorCatalog) -> int:
    """Serve until SIGINT or SIGTERM, then stop cleanly; raises ConfigError for unusable URLs."""
    world, addresses = configured_world(settings, catalog)
    try:
        asyncio.run(_serve(world, addresses, settings, catalog))
    except OSError as error:  # a port already taken, most likely
        print(f"sandbox cannot listen: {error}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    return 0


async def _serve(
    world: SimulatedWorld,
    addresses: dict[str, Address],
    settings: Settings,
    catalog: VendorCatalog,
) -> None:
    rides = demo_rides(settings)
    for ride in rides:
        world.seed_ride(ride.seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    async with (
        world.running(addresses) as urls,
        running_gateway(settings, catalog) as gateway,
    ):
        without_simulator = sorted(set(addresses) - set(urls))
        print(instructions(gateway.url, urls, rides, catalog, without_simulator), flush=True)
        structlog.get_logger("gateway.sandbox").info("sandbox.ready", gateway=gateway.url)
        await stop.wait()
    structlog.get_logger("gateway.sandbox").info("sandbox.stopped")
