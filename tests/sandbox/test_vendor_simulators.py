"""Vendor simulators come from the vendor plugins' register_simulators hook, not from the core."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from gateway.bootstrap.registry import PluginFailure, catalog_from_modules, discover_vendor_plugins
from gateway.plugins import PLUGIN_API_MAJOR, MeterVendor, hookimpl
from gateway.sandbox.world import SimulatedWorld, vendor_simulators
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

    assert catalog.simulators["monitex"] is MonitexSimulator
    assert catalog.simulators["optumplus"] is OptumPlusSimulator


def test_world_builds_each_vendor_simulator_with_its_token_and_leaves_out_the_rest() -> None:
    catalog = discover_vendor_plugins()

    world = SimulatedWorld(
        vendor_simulators(catalog, {"monitex": "token-m", "no_such_vendor": "token-x"})
    )

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

    assert catalog.simulators == {"monitex": MonitexSimulator}
    assert catalog.failures == [
        PluginFailure("second", "ValueError: vendor 'monitex' already has a simulator")
    ]
