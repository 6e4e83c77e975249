"""Generic rides for every vendor a settings file routes a country to, third-party ones included:
the whole ride, then the same ride with the vendor's API failing. They need nothing of a vendor
but its plugin, its simulator and its capabilities."""

from collections.abc import Mapping
from typing import Any

from gateway.bootstrap.registry import VendorCatalog
from gateway.demo.model import (
    FinishRide,
    Scenario,
    SimCall,
    StartRide,
    fault,
    fell_back,
    left_alone,
    priced,
    refused,
    started,
)
from gateway.demo.player import DemoSetup
from gateway.http.error_catalog import Refusal
from gateway.plugins.meter_vendor import Capability
from gateway.rides.fallback_policy import StartStep
from gateway.rides.start_ride import StartResult
from gateway.sandbox.world import RideSeed, settings_before_listening
from gateway.settings import ConfigError, Settings

UPSTREAMS = (
    "order_core",
    "driver_profiles",
    "personal",
    "fleet_vehicles",
    "driver_orders_builder",
    "client_notify",
)
# What a meter left alone charges in every shipped simulator and the scaffold's: the limit.
FIXED_PRICE = "42.24"


class NotPlayable(Exception):
    """A routed vendor the demo cannot play: no simulator, or a country without a zone."""


def configured_setup(settings: Settings) -> DemoSetup:
    """The file's zones, countries and vendor sections, pointed at simulators: every routed
    vendor's simulator accepting a demo token, dry run off and every driver in the rollout."""
    routed = sorted({country.vendor for country in settings.countries.values()})
    tokens = {vendor: f"demo-{vendor}-token" for vendor in routed}

    def tree(urls: Mapping[str, str]) -> dict[str, Any]:
        return {
            "upstreams": {name: {"url": urls[name], "timeout_ms": 500} for name in UPSTREAMS},
            "zones": dict(settings.zones),
            "countries": {
                code: {
                    **country.model_dump(mode="json"),
                    "dry_run": False,
                    "drivers": ["*"],
                }
                for code, country in settings.countries.items()
            },
            "vendors": {
                vendor: {
                    **settings.vendors.get(vendor, {}),
                    "url": urls[vendor],
                    "token": tokens[vendor],
                }
                for vendor in routed
                if vendor in urls
            },
        }

    return DemoSetup(settings_tree=tree)


def generic_scenarios(settings: Settings, catalog: VendorCatalog) -> list[Scenario | NotPlayable]:
    """Two rides per routed country, or why the country cannot be played."""
    scenarios: list[Scenario | NotPlayable] = []
    # Each routed vendor's simulator is built from its settings, as play() builds it.
    refused = ""
    try:
        simulated = settings_before_listening(configured_setup(settings).settings_tree, catalog)
    except ConfigError as error:
        simulated, refused = {}, str(error)
    for code, country in sorted(settings.countries.items()):
        vendor = country.vendor
        zones = settings.zones_of_country(code)
        if vendor not in catalog.simulators:
            scenarios.append(NotPlayable(f"{code}: vendor {vendor!r} ships no simulator"))
            continue
        if not zones:
            scenarios.append(NotPlayable(f"{code}: no zone of [zones] maps to it"))
            continue
        ride = RideSeed(
            f"order-{code.lower()}-demo",
            f"alias-{code.lower()}-demo",
            zone=zones[0],
            id_document_type=country.id_document_type,
        )
        if refused:
            scenarios.append(NotPlayable(f"{code}: the settings the demo plays with: {refused}"))
            continue
        endpoints = sorted(catalog.simulators[vendor].build(simulated[vendor]).endpoints())
        api_fails = tuple(fault(vendor, endpoint, status=500) for endpoint in endpoints)
        scenarios += _rides(code, vendor, catalog.vendors[vendor].capabilities, ride, api_fails)
    return scenarios


def _rides(
    code: str,
    vendor: str,
    capabilities: frozenset[Capability],
    ride: RideSeed,
    api_fails: tuple[SimCall, ...],
) -> list[Scenario]:
    label = f"{code} ({vendor})"
    if Capability.START_RIDE in capabilities:
        return [
            Scenario(
                f"{label}: the whole ride",
                "§3 steps 1-8, then §4 answered 200",
                ride,
                (StartRide(started()), FinishRide(priced(FIXED_PRICE))),
            ),
            Scenario(
                f"{label}: the vendor's API fails",
                "§3 fallback matrix: vendor start fails",
                ride,
                (StartRide(fell_back(StartStep.VENDOR_START.value), api_fails),),
            ),
        ]
    cannot_start = left_alone(StartResult.SKIPPED, "vendor_cannot_start")
    return [
        Scenario(
            f"{label}: a finish-only ride",
            "§3 step 2 vendor cannot start rides; §4 answered 200",
            ride,
            (StartRide(cannot_start), FinishRide(priced(FIXED_PRICE))),
        ),
        Scenario(
            f"{label}: the vendor's API fails",
            "§4 vendor_error",
            ride,
            (FinishRide(refused(Refusal.VENDOR_ERROR, vendor_called=True), api_fails),),
        ),
    ]
