"""What the sandbox derives from the settings: where each simulator listens, which orders exist."""

from pathlib import Path

import pytest

from gateway.plugins.meter_vendor import VendorSettings
from gateway.sandbox.addresses import simulator_addresses
from gateway.sandbox.demo_rides import demo_rides
from gateway.settings import ConfigError, Settings, load_settings

SHIPPED_CONFIG = Path(__file__).parents[2] / "config" / "meters.toml"


def test_shipped_config_names_the_documented_ports() -> None:
    settings = load_settings(SHIPPED_CONFIG)
    vendors = {
        name: VendorSettings(url=section["url"]) for name, section in settings.vendors.items()
    }

    addresses = simulator_addresses(settings, vendors)

    assert addresses == {
        "order_core": ("127.0.0.1", 8101),
        "driver_profiles": ("127.0.0.1", 8102),
        "personal": ("127.0.0.1", 8103),
        "fleet_vehicles": ("127.0.0.1", 8104),
        "driver_orders_builder": ("127.0.0.1", 8105),
        "client_notify": ("127.0.0.1", 8106),
        "monitex": ("127.0.0.1", 8201),
        "optumplus": ("127.0.0.1", 8202),
    }


ELSEWHERE = "the sandbox serves its simulators on this machine only"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://order-core.internal:443", ELSEWHERE),
        ("http://10.1.2.3:8101", ELSEWHERE),
        ("http://127.0.0.1:8101/api", "a simulator answers at the root, not under /api"),
    ],
)
def test_urls_a_local_simulator_cannot_answer_are_refused_by_key(url: str, problem: str) -> None:
    settings = Settings.model_validate({"upstreams": {"order_core": {"url": url}}})
    vendors = {"acme": VendorSettings(url="http://meters.example.com:80")}

    with pytest.raises(ConfigError) as refused:
        simulator_addresses(settings, vendors)

    assert str(refused.value).splitlines() == [
        f"upstreams.order_core.url: {url}: {problem}",
        f"vendors.acme.url: http://meters.example.com:80: {ELSEWHERE}",
    ]


def test_localhost_and_ipv6_loopback_are_local() -> None:
    settings = Settings.model_validate(
        {"upstreams": {"order_core": {"url": "http://localhost:9101"}}}
    )
    vendors = {"acme": VendorSettings(url="http://[::1]:9201")}

    addresses = simulator_addresses(settings, vendors)

    assert addresses["order_core"] == ("localhost", 9101)
    assert addresses["acme"] == ("::1", 9201)


def test_two_demo_orders_per_country_routed_to_a_vendor() -> None:
    settings = Settings.model_validate(
        {
            "zones": {"tel_aviv": "IL", "haifa": "IL", "riga": "LV", "paris": "FR"},
            "countries": {
                "IL": {"vendor": "monitex", "id_document_type": "national_id_isr"},
                "LV": {"vendor": "optumplus", "id_document_type": "national_id_lva"},
                "DE": {"vendor": "taxameter"},
            },
        }
    )

    rides = demo_rides(settings)

    assert [(r.country, r.vendor, r.seed.order_id, r.seed.zone) for r in rides] == [
        ("IL", "monitex", "demo-il-1", "haifa"),
        ("IL", "monitex", "demo-il-2", "haifa"),
        ("LV", "optumplus", "demo-lv-1", "riga"),
        ("LV", "optumplus", "demo-lv-2", "riga"),
    ]
    assert rides[2].seed.id_document_type == "national_id_lva"
    # A vendor may key running rides by driver: the two orders of a country never share one.
    first, second = rides[0].seed, rides[1].seed
    assert first.driver_profile_id != second.driver_profile_id
    assert first.national_id != second.national_id
    assert first.permit != second.permit
