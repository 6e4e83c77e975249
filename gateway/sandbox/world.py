"""A whole simulated platform: every upstream simulator, seeded with rides, on real ports.

The sandbox command, the demo and the test suite all stand on this, so a ride
seeded here looks the same to the gateway wherever it runs.
"""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from gateway.bootstrap.registry import VendorCatalog
from gateway.bootstrap.vendor_setup import validate_vendor_settings
from gateway.plugins.meter_vendor import VendorSettings
from gateway.plugins.simulator import Simulator, run_simulator
from gateway.sandbox.addresses import Address, simulator_addresses
from gateway.sandbox.platform.client_notify import ClientNotifySimulator
from gateway.sandbox.platform.driver_orders_builder import DriverOrdersBuilderSimulator
from gateway.sandbox.platform.driver_profiles import DriverProfilesSimulator
from gateway.sandbox.platform.fleet_vehicles import FleetVehiclesSimulator
from gateway.sandbox.platform.order_core import OrderCoreSimulator
from gateway.sandbox.platform.personal import PersonalSimulator
from gateway.settings import Settings, UpstreamsSettings

# A simulator is built before it listens, so the settings it is built from cannot name its URL
# yet: they are validated with this one in its place (no simulator reads its own URL).
NOT_YET_LISTENING = "http://127.0.0.1:0"


@dataclass(frozen=True, slots=True)
class RideSeed:
    """One order with everything the platform knows about its driver and car."""

    order_id: str
    alias_id: str
    zone: str = "tel_aviv"
    status: str = "assigned"
    fixed_price: float | None = 42.24
    payment_type: str = "cash"
    park_id: str = "park1"
    driver_profile_id: str = "driver1"
    car_id: str = "car1"
    car_number: str = "12-345-67"
    national_id: str | None = "123456782"
    id_document_type: str = "national_id_isr"
    permit: str | None = "PERMIT-7"
    external_meter_ride_id: str | None = None

    @property
    def pd_id(self) -> str:
        return f"pd-{self.park_id}-{self.driver_profile_id}"

    def driver_headers(self) -> dict[str, str]:
        """What the platform's driver auth proxy adds to the driver app's finish-ride request."""
        return {
            "X-YaTaxi-Park-Id": self.park_id,
            "X-YaTaxi-Driver-Profile-Id": self.driver_profile_id,
            "X-Request-Application": "taximeter",
            "X-Request-Application-Version": "9.80",
        }

    def order_document(self) -> dict[str, Any]:
        order: dict[str, Any] = {
            "nz": self.zone,
            "status": self.status,
            "performer": {
                "db_id": self.park_id,
                "uuid": self.driver_profile_id,
                "car_id": self.car_id,
                "car_number": self.car_number,
                "tariff": {"class": "econom"},
            },
            "application": "taximeter",
        }
        if self.fixed_price is not None:
            order["fixed_price"] = {"price": self.fixed_price}
        if self.external_meter_ride_id is not None:
            order["external_meter_ride_id"] = self.external_meter_ride_id
        return {
            "order": order,
            "payment_tech": {"type": self.payment_type},
            "performer": {"alias_id": self.alias_id},
            "candidates": {"taximeter_version": "9.80"},
        }


def vendor_simulators(
    catalog: VendorCatalog, vendor_settings: Mapping[str, VendorSettings]
) -> dict[str, Simulator]:
    """The simulator each vendor's plugin ships, configured as the gateway calling it is (built
    from the vendor's validated settings, or their token), by vendor name.

    Vendors whose plugin ships no simulator are left out.
    """
    return {
        name: catalog.simulators[name].build(settings)
        for name, settings in vendor_settings.items()
        if name in catalog.simulators
    }


def settings_before_listening(
    settings_tree: Callable[[Mapping[str, str]], dict[str, Any]], catalog: VendorCatalog
) -> dict[str, VendorSettings]:
    """The routed vendors' validated settings that ``settings_tree`` gives for simulators not
    listening yet (every URL ``NOT_YET_LISTENING``); raises ConfigError as the gateway would."""
    sections = [*UpstreamsSettings.model_fields, *catalog.simulators]
    tree = settings_tree({section: NOT_YET_LISTENING for section in sections})
    # model_validate, unlike the constructor, ignores METERS_* variables of the caller's shell.
    return validate_vendor_settings(Settings.model_validate(tree), catalog)


class SimulatedWorld:
    """Simulators of the six platform services and of the vendors given, by vendor name."""

    def __init__(self, vendors: Mapping[str, Simulator] | None = None) -> None:
        self.order_core = OrderCoreSimulator()
        self.driver_profiles = DriverProfilesSimulator()
        self.personal = PersonalSimulator()
        self.fleet_vehicles = FleetVehiclesSimulator()
        self.driver_orders_builder = DriverOrdersBuilderSimulator()
        self.client_notify = ClientNotifySimulator()
        self.vendors = dict(vendors or {})

    def simulators(self) -> dict[str, Simulator]:
        """By the name of the settings section that points at each: upstreams.X or vendors.X."""
        return {
            "order_core": self.order_core,
            "driver_profiles": self.driver_profiles,
            "personal": self.personal,
            "fleet_vehicles": self.fleet_vehicles,
            "driver_orders_builder": self.driver_orders_builder,
            "client_notify": self.client_notify,
            **self.vendors,
        }

    @asynccontextmanager
    async def running(
        self, addresses: Mapping[str, Address] | None = None, host: str = "127.0.0.1"
    ) -> AsyncIterator[dict[str, str]]:
        """Serve every simulator at its address by section name, the others on free ports of
        ``host``; yields base URLs by section name."""
        async with AsyncExitStack() as stack:
            urls = {
                name: await stack.enter_async_context(
                    run_simulator(simulator, *(addresses or {}).get(name, (host, 0)))
                )
                for name, simulator in self.simulators().items()
            }
            yield urls

    def seed_ride(self, ride: RideSeed) -> None:
        self.order_core.add_order(ride.order_id, ride.order_document())
        driver_key = f"{ride.park_id}_{ride.driver_profile_id}"
        if ride.national_id is not None:
            self.driver_profiles.add_docs(
                driver_key,
                [
                    {"id": "doc-license", "data": {"type": "driver_license", "number_pd_id": "x"}},
                    {
                        "id": "doc-id",
                        "data": {"type": ride.id_document_type, "number_pd_id": ride.pd_id},
                    },
                ],
            )
            self.personal.add_identification(ride.pd_id, ride.national_id)
        car_key = f"{ride.park_id}_{ride.car_id}"
        self.fleet_vehicles.add_vehicle(
            car_key, {"permit_num": ride.permit} if ride.permit is not None else {}
        )
        self.driver_orders_builder.add_setcar(ride.alias_id, ride.park_id, ride.driver_profile_id)

    def forget_calls(self) -> None:
        for simulator in self.simulators().values():
            simulator.calls.clear()


def configured_world(
    settings: Settings, catalog: VendorCatalog
) -> tuple[SimulatedWorld, dict[str, Address]]:
    """The world the settings point at: each routed vendor's simulator built from its
    configured settings, and every simulator's address by settings section.

    Raises ConfigError naming each URL a simulator on this machine cannot answer.
    """
    vendor_settings = validate_vendor_settings(settings, catalog)
    addresses = simulator_addresses(settings, vendor_settings)
    return SimulatedWorld(vendor_simulators(catalog, vendor_settings)), addresses


def settings_for(
    urls: Mapping[str, str], *, monitex_token: str, optumplus_token: str
) -> dict[str, Any]:
    """A settings tree (as a TOML file would give it) routing Israel and Latvia to the world."""
    upstream_names = (
        "order_core",
        "driver_profiles",
        "personal",
        "fleet_vehicles",
        "driver_orders_builder",
        "client_notify",
    )
    return {
        "upstreams": {name: {"url": urls[name], "timeout_ms": 500} for name in upstream_names},
        "zones": {"tel_aviv": "IL", "jerusalem": "IL", "riga": "LV", "paris": "FR"},
        "countries": {
            "IL": {"vendor": "monitex", "id_document_type": "national_id_isr"},
            "LV": {"vendor": "optumplus", "id_document_type": "national_id_lva"},
        },
        "vendors": {
            "monitex": {
                "url": urls["monitex"],
                "token": monitex_token,
                "timeout_ms": 1000,
                "pending_polls": 3,
                "pending_poll_interval_ms": 10,
            },
            "optumplus": {"url": urls["optumplus"], "token": optumplus_token, "timeout_ms": 1000},
        },
    }
