"""The example third-party vendor package: passes the kit, and rides through the unchanged gateway
once a configuration routes a country to it.

It must be installed next to the gateway (``make setup`` does it).
"""

import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from taskiq import InMemoryBroker

from gateway.bootstrap.process import compose
from gateway.bootstrap.registry import discover_vendor_plugins
from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH, build_app
from gateway.sandbox.world import RideSeed, SimulatedWorld, vendor_simulators
from gateway.settings import load_settings
from tests.gateway_world import configured_as
from tests.vendors.test_kit_catches_bugs import UNUSED_PLUGINS

EXAMPLE = Path(__file__).parents[2] / "examples" / "meters-vendor-taxameter"
NOT_INSTALLED = "install the example next to the gateway: pip install -e " + str(EXAMPLE)
TOKEN = "taxameter-e2e-token"
GERMAN_RIDE = RideSeed(
    "order-de-1",
    "alias-de-1",
    zone="berlin",
    national_id="T22000129",
    id_document_type="national_id_deu",
    permit="B-KONZ-7",
    car_number="B-TX-100",
)


def test_example_passes_its_own_tests_with_the_kit_and_lacks_no_operation() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *UNUSED_PLUGINS, "-v"],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    closing = run.stdout.strip().splitlines()[-1]
    # Its start is idempotent per order, not per driver (a busy driver is refused): the one
    # check it skips is the trait it rightly does not declare.
    assert re.fullmatch(r"=+ \d+ passed, 1 skipped in [\d.]+s =+", closing), closing
    assert "taxameter does not declare idempotent_start: 1 test skipped" in run.stdout
    kit = "tests/test_conformance.py::TestTaxameterConformance::"
    for check in (
        "test_auth_smoke_the_simulators_credentials_are_accepted",
        "test_registration_does_no_io",
        "test_stopping_twice_keeps_the_final_price",
        "test_started_ride_can_be_cancelled",
    ):
        assert f"{kit}{check} PASSED" in run.stdout


def german_config(tmp_path: Path, urls: dict[str, str]) -> Path:
    """A settings file that adds Germany and routes it to Taxameter: the only change needed."""
    upstreams = "".join(
        f'[upstreams.{name}]\nurl = "{urls[name]}"\n\n'
        for name in (
            "order_core",
            "driver_profiles",
            "personal",
            "fleet_vehicles",
            "driver_orders_builder",
            "client_notify",
        )
    )
    config = tmp_path / "meters.toml"
    config.write_text(
        upstreams
        + f"""
[zones]
berlin = "DE"

[countries.DE]
vendor = "taxameter"
id_document_type = "national_id_deu"

[vendors.taxameter]
url = "{urls["taxameter"]}"
token = "{TOKEN}"   # the API key, sent as X-Taxameter-Key
fleet_id = "berlin-north"
"""
    )
    return config


async def test_germany_rides_through_the_unchanged_gateway_by_configuration_alone(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]]
) -> None:
    catalog = discover_vendor_plugins()
    assert "taxameter" in catalog.vendors, NOT_INSTALLED
    sections = {"taxameter": {"token": TOKEN, "fleet_id": "berlin-north"}}
    world = SimulatedWorld(vendor_simulators(catalog, configured_as(catalog, sections)))
    world.seed_ride(GERMAN_RIDE)
    async with world.running() as urls:
        settings = load_settings(german_config(tmp_path, urls))
        process = compose(settings, catalog)
        broker = process.broker
        assert isinstance(broker, InMemoryBroker)
        gateway = await aiohttp_client(build_app(process))

        started = await gateway.post(START_RIDE_PATH, json={"order_id": "order-de-1"})
        assert started.status == 202
        await broker.wait_all()
        taxameter = world.vendors["taxameter"]
        [start] = taxameter.calls.to("POST /fleets/{fleet}/trips")
        trip_id = world.order_core.order("order-de-1")["order"]["external_meter_ride_id"]
        assert start.path == "/fleets/berlin-north/trips"
        assert start.body == {
            "reference": "order-de-1",
            "driverIdNumber": "T22000129",
            "concession": "B-KONZ-7",
            "fareCap": "42.24",
        }
        assert world.driver_orders_builder.setcar_value("alias-de-1", "park1", "driver1") == "true"

        fare = await gateway.session.post(
            urls["taxameter"] + "/_sim/fare", json={"concession": "B-KONZ-7", "fare": "40.04"}
        )
        assert fare.status == 201
        finished = await gateway.post(
            FINISH_RIDE_PATH,
            json={"order_id": "alias-de-1", "user_price": 42.24, "driver_price": 42.24},
            headers=GERMAN_RIDE.driver_headers(),
        )

        assert (finished.status, await finished.json()) == (200, {"price": 40.04})
        [close] = taxameter.calls.to("POST /fleets/{fleet}/trips/{trip}/close")
        assert close.path == f"/fleets/berlin-north/trips/{trip_id}/close"
        assert close.body == {"payment": "cash"}
        assert close.headers["x-taxameter-key"] == TOKEN
        # Closing answered the fare: the trip is not read again.
        assert taxameter.calls.to("GET /fleets/{fleet}/trips/{trip}") == []
