"""``meters-integration-api simulators``: every simulator the settings name, without a gateway.

Gateways and workers started with the same settings file call them, so the production
topology (Redis, several gateways, worker hosts) can be rehearsed on one machine.
"""

import asyncio
import signal
import sys
from collections.abc import Mapping

import structlog

from gateway.bootstrap.registry import VendorCatalog
from gateway.plugins.serving import serve_app
from gateway.sandbox.addresses import Address
from gateway.sandbox.demo_rides import DemoRide, demo_rides
from gateway.sandbox.world import SimulatedWorld, configured_world
from gateway.sandbox.world_control import RIDES, SIMULATORS, world_control_app
from gateway.settings import Settings

EXIT_CANNOT_LISTEN = 1
CONTROL_HOST = "127.0.0.1"
DEFAULT_CONTROL_PORT = 8100
# The control API answers at once; nothing in flight is worth waiting for.
SHUTDOWN_TIMEOUT_S = 1.0
READY = "Ready. Stop with Ctrl-C."


def run_simulators(settings: Settings, catalog: VendorCatalog, control_port: int) -> int:
    """Serve until SIGINT or SIGTERM; raises ConfigError for URLs no simulator here can answer."""
    world, addresses = configured_world(settings, catalog)
    try:
        asyncio.run(_serve(world, addresses, demo_rides(settings), control_port))
    except OSError as error:  # a port already taken, most likely
        print(f"simulators cannot listen: {error}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    return 0


async def _serve(
    world: SimulatedWorld, addresses: dict[str, Address], rides: list[DemoRide], control_port: int
) -> None:
    for ride in rides:
        world.seed_ride(ride.seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    async with world.running(addresses) as urls:
        control = world_control_app(world, urls)
        async with serve_app(
            control, CONTROL_HOST, control_port, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        ) as control_url:
            without_simulator = sorted(set(addresses) - set(urls))
            print(_banner(control_url, urls, without_simulator, rides), flush=True)
            structlog.get_logger("gateway.sandbox").info(
                "simulators.ready", control=control_url, simulators=urls
            )
            await stop.wait()
    structlog.get_logger("gateway.sandbox").info("simulators.stopped")


def _banner(
    control_url: str,
    urls: Mapping[str, str],
    without_simulator: list[str],
    rides: list[DemoRide],
) -> str:
    return "\n".join(
        [
            "meters-integration-api simulators: the platform services and vendors the settings "
            "name, simulated (no gateway).",
            "Start gateways and workers with the same settings file; docs/simulators.md lists "
            "every endpoint.",
            "",
            f"Control  {control_url}  (POST {RIDES}: seed a whole ride; GET {SIMULATORS})",
            "Simulators (GET /_sim/calls: what each was asked; POST /_sim/faults: make it fail)",
            *(f"  {name:<22} {url}" for name, url in urls.items()),
            *(
                f"  {name:<22} no simulator: its plugin ships none, calls to it fail"
                for name in without_simulator
            ),
            "",
            "Demo orders seeded:",
            *(
                f"  {ride.country}  {ride.vendor:<12} order {ride.seed.order_id:<12} "
                f"alias {ride.seed.alias_id:<20} driver {ride.seed.park_id}/"
                f"{ride.seed.driver_profile_id}"
                for ride in rides
            ),
            READY,
        ]
    )
