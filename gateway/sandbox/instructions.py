"""What the sandbox prints once it runs: where everything listens and requests to paste."""

import json
import shlex
from collections.abc import Mapping

from gateway.bootstrap.registry import VendorCatalog
from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH
from gateway.plugins.meter_vendor import Capability
from gateway.sandbox.demo_rides import DemoRide
from gateway.sandbox.platform.driver_profiles import RETRIEVE as IDENTITY_DOCS
from gateway.sandbox.world import RideSeed


def instructions(
    gateway_url: str,
    simulator_urls: Mapping[str, str],
    rides: list[DemoRide],
    catalog: VendorCatalog,
    vendors_without_simulator: list[str],
) -> str:
    lines = [
        "meters-integration-api sandbox: the gateway and a simulator of every service it calls.",
        "",
        f"Gateway  {gateway_url}  (GET /ping /health /metrics /openapi.yaml)",
        "Simulators (GET /_sim/calls: what each was asked; POST /_sim/faults: make it fail)",
        *(f"  {name:<22} {url}" for name, url in simulator_urls.items()),
        *(
            f"  {name:<22} no simulator: its plugin ships none, calls to it fail"
            for name in vendors_without_simulator
        ),
        "",
    ]
    if not rides:
        lines += [
            "No country routes to a vendor, so no demo orders were seeded;",
            "try: meters-integration-api sandbox --config config/meters.toml",
        ]
        return "\n".join(lines)
    lines += ["Demo orders (each with its own driver and car):"]
    lines += [
        f"  {ride.country}  {ride.vendor:<12} order {ride.seed.order_id:<12} "
        f"alias {ride.seed.alias_id:<20} driver {ride.seed.park_id}/{ride.seed.driver_profile_id}"
        f"  fixed price {ride.seed.fixed_price}"
        for ride in rides
    ]
    first, second = _starting_rides(rides, catalog)
    vendor_url = simulator_urls.get(first.vendor, "")
    lines += [
        "",
        f"# 1. Start the meter ride of order {first.seed.order_id} (the task runs in the sandbox):",
        _start_ride(gateway_url, first.seed),
        "# 2. Finish it as the driver app would, with the auth proxy's identity headers:",
        _curl(
            gateway_url + FINISH_RIDE_PATH,
            {
                "order_id": first.seed.alias_id,
                "user_price": first.seed.fixed_price,
                "driver_price": first.seed.fixed_price,
            },
            first.seed.driver_headers(),
        ),
        f"# 3. What the meter vendor ({first.vendor}) was asked:",
        f"curl -sS {vendor_url}/_sim/calls",
        f"# 4. Make driver-profiles fail once, start order {second.seed.order_id}, and see the "
        "fallback (setcar value false):",
        _curl(
            simulator_urls["driver_profiles"] + "/_sim/faults",
            {"endpoint": f"POST {IDENTITY_DOCS}", "status": 500, "times": 1},
        ),
        _start_ride(gateway_url, second.seed),
        f"curl -sS {simulator_urls['driver_orders_builder']}/_sim/setcars",
        "",
        "Every other order finishes like step 2, with its own alias id and driver.",
        "Stop with Ctrl-C.",
    ]
    return "\n".join(lines)


def _starting_rides(rides: list[DemoRide], catalog: VendorCatalog) -> tuple[DemoRide, DemoRide]:
    """Two rides of one country, preferring a vendor that starts rides, so steps 1 and 4 show
    the whole start flow."""
    starting = [
        ride for ride in rides if Capability.START_RIDE in catalog.vendors[ride.vendor].capabilities
    ]
    chosen = starting or rides
    return chosen[0], chosen[1]


def _start_ride(gateway_url: str, seed: RideSeed) -> str:
    return _curl(gateway_url + START_RIDE_PATH, {"order_id": seed.order_id})


def _curl(url: str, body: object, headers: Mapping[str, str] | None = None) -> str:
    parts = [f"curl -sS -X POST {url}", "-H 'Content-Type: application/json'"]
    parts += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in (headers or {}).items()]
    parts.append(f"-d {shlex.quote(json.dumps(body))}")
    return " \\\n  ".join(parts)
