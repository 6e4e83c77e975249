"""Vendor simulators come from the vendor plugins' register_simulators hook, not from the core."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from pydantic import SecretStr

from gateway.bootstrap.registry import (
    PluginFailure,
    RegisteredSimulator,
    catalog_from_modules,
    discover_vendor_plugins,
)
from gateway.plugins import PLUGIN_API_MAJOR, MeterVendor, Simulator, VendorSettings, hookimpl
from gateway.sandbox.world import (
    NOT_YET_LISTENING,
    SimulatedWorld,
    configured_world,
    vendor_simulators,
)
from gateway.settings import Settings
from vendors.monitex.settings import MonitexSettings
from vendors.monitex.simulator import MonitexSimulator
from vendors.monitex.vendor import MonitexVendor
from vendors.optumplus.simulator import OptumPlusSimulator


def plugin_module(name: str, **hooks: Callable[..., None]) -> ModuleType:
    module = ModuleType(name)
    module.PLUGIN_API_MAJOR = PLUGIN_API_MAJOR  # type: ignore[attr-defined]
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


def registers_monitex(register: Callable[[type[MeterVendor]], None]) -> None:
    register(MonitexVendor)


def test_shipped_plugins_register_their_simulators() -> None:
    catalog = discover_vendor_plugins()

    assert catalog.simulators["monitex"] == RegisteredSimulator(MonitexSimulator)
    assert catalog.simulators["optumplus"] == RegisteredSimulator(OptumPlusSimulator)


def test_world_builds_each_vendor_simulator_with_its_token_and_leaves_out_the_rest() -> None:
    catalog = discover_vendor_plugins()
    configured = {
        "monitex": MonitexSettings(url=NOT_YET_LISTENING, token=SecretStr("token-m")),
        "no_such_vendor": VendorSettings(url=NOT_YET_LISTENING, token=SecretStr("token-x")),
    }

    world = SimulatedWorld(vendor_simulators(catalog, configured))

    assert list(world.vendors) == ["monitex"]
    monitex = world.vendors["monitex"]
    assert isinstance(monitex, MonitexSimulator)
    assert monitex.token == "token-m"
    assert list(world.simulators())[-1] == "monitex"
    assert world.simulators()["order_core"] is world.order_core


def raising(register: Callable[..., None]) -> None:
    raise RuntimeError("simulator registration exploded")


@pytest.mark.parametrize(
    ("register_simulators", "error"),
    [
        pytest.param(
            lambda register: register("acme", MonitexSimulator),
            "ValueError: simulator for 'acme', which is not a registered vendor",
            id="unknown-vendor",
        ),
        pytest.param(
            lambda register: register("monitex", "not a factory"),
            "TypeError: simulator factory for 'monitex' is not callable",
            id="not-callable",
        ),
        pytest.param(
            lambda register: register(MonitexSimulator),
            "TypeError: ",
            id="wrong-arguments",
        ),
        pytest.param(
            lambda register: register("monitex", MonitexSimulator, takes_settings="yes"),
            "TypeError: takes_settings for 'monitex' is 'yes', not a bool",
            id="takes-settings-not-a-bool",
        ),
        pytest.param(
            lambda register: register("monitex", MonitexSimulator, settings=True),
            "TypeError: register(): got an unexpected keyword argument 'settings'",
            id="unknown-option",
        ),
        pytest.param(
            lambda register: register(vendor_name="monitex", factory=MonitexSimulator),
            "TypeError: register(): 'vendor_name' parameter is positional only, but was passed "
            "as a keyword",
            id="by-keyword",
        ),
        pytest.param(raising, "RuntimeError: simulator registration exploded", id="raises"),
    ],
)
def test_bad_simulator_registration_is_reported_and_spares_the_vendor(
    register_simulators: Callable[[Any], None], error: str
) -> None:
    module = plugin_module(
        "broken", register_vendors=registers_monitex, register_simulators=register_simulators
    )

    catalog = catalog_from_modules([("broken", module)])

    assert catalog.vendors == {"monitex": MonitexVendor}
    assert catalog.simulators == {}
    [failure] = catalog.failures
    assert failure.plugin == "broken"
    assert failure.error.startswith(error)


def test_second_simulator_for_one_vendor_is_refused() -> None:
    first = plugin_module(
        "first",
        register_vendors=registers_monitex,
        register_simulators=lambda register: register("monitex", MonitexSimulator),
    )
    second = plugin_module(
        "second", register_simulators=lambda register: register("monitex", OptumPlusSimulator)
    )

    catalog = catalog_from_modules([("first", first), ("second", second)])

    assert catalog.simulators == {"monitex": RegisteredSimulator(MonitexSimulator)}
    assert catalog.failures == [
        PluginFailure("second", "ValueError: vendor 'monitex' already has a simulator")
    ]


def test_a_simulator_that_takes_settings_is_built_from_the_vendors_validated_section() -> None:
    built_from: list[object] = []

    def simulator_of(settings: MonitexSettings) -> Simulator:
        built_from.append(settings)
        return MonitexSimulator(settings.token.get_secret_value())

    module = plugin_module(
        "acme",
        register_vendors=registers_monitex,
        register_simulators=lambda register: register("monitex", simulator_of, takes_settings=True),
    )
    catalog = catalog_from_modules([("acme", module)])
    settings = Settings.model_validate(
        {
            "zones": {"tel_aviv": "IL"},
            "countries": {"IL": {"vendor": "monitex"}},
            "vendors": {
                "monitex": {"url": "http://127.0.0.1:9301", "token": "t-1", "pending_polls": 7}
            },
        }
    )

    world, addresses = configured_world(settings, catalog)

    assert built_from == [
        MonitexSettings(url="http://127.0.0.1:9301", token=SecretStr("t-1"), pending_polls=7)
    ]
    assert isinstance(world.vendors["monitex"], MonitexSimulator)
    assert addresses["monitex"] == ("127.0.0.1", 9301)


def test_a_vendor_registered_by_keyword_is_that_plugins_failure_alone() -> None:
    module = plugin_module(
        "broken", register_vendors=lambda register: register(vendor_class=MonitexVendor)
    )

    catalog = catalog_from_modules([("broken", module)])

    assert catalog.vendors == {}
    assert catalog.failures == [
        PluginFailure(
            "broken",
            "TypeError: register(): 'vendor_class' parameter is positional only, "
            "but was passed as a keyword",
        )
    ]
