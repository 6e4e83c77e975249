"""The vendor plugin boundary: discovery through entry points, isolation of broken plugins."""

from types import ModuleType
from typing import Any

import pytest

from gateway.bootstrap.registry import (
    PluginFailure,
    catalog_from_entry_points,
    catalog_from_modules,
    discover_vendor_plugins,
)
from gateway.plugins import Capability, hookimpl
from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import MONITEX_START, PUSH, SET_FIELDS, setcar_values
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_cancellable_monitex, plugin, shipped_entry_points
from vendors.monitex.vendor import MonitexVendor
from vendors.optumplus.vendor import OptumPlusVendor


def test_shipped_vendors_register_through_the_entry_point_group() -> None:
    assert {(ep.name, ep.value) for ep in shipped_entry_points()} >= {
        ("monitex", "vendors.monitex.plugin"),
        ("optumplus", "vendors.optumplus.plugin"),
    }
    catalog = discover_vendor_plugins()
    assert catalog.vendors["monitex"] is MonitexVendor
    assert catalog.vendors["optumplus"] is OptumPlusVendor
    assert catalog.failures == []


def test_vendors_declare_what_they_can_do() -> None:
    assert MonitexVendor.capabilities == {
        Capability.START_RIDE,
        Capability.STOP_RIDE,
        Capability.GET_PRICE,
        Capability.IDEMPOTENT_START,
    }
    assert OptumPlusVendor.capabilities == {Capability.STOP_RIDE, Capability.GET_PRICE}


def test_broken_plugins_are_reported_and_do_not_take_the_others_down() -> None:
    catalog = catalog_from_entry_points(
        [
            plugin("broken_import", "broken_import"),
            *shipped_entry_points(),
            plugin("raising_hook", "raising_hook"),
            plugin("not_a_vendor", "not_a_vendor"),
            plugin("duplicate_monitex", "duplicate_monitex"),
            plugin("future_optumplus", "future_api"),
        ]
    )

    assert catalog.vendors == {"monitex": MonitexVendor, "optumplus": OptumPlusVendor}
    assert catalog.failures == [
        PluginFailure(
            "broken_import",
            "ModuleNotFoundError: No module named 'meters_vendor_dependency_that_is_not_installed'",
        ),
        # Refused at load, before any hook runs.
        PluginFailure(
            "future_optumplus",
            "IncompatiblePlugin: written for plugin API 2.x, this gateway speaks 1.1",
        ),
        PluginFailure("raising_hook", "RuntimeError: registration exploded"),
        PluginFailure("not_a_vendor", "TypeError: <class 'dict'> is not a MeterVendor subclass"),
        PluginFailure(
            "duplicate_monitex", "ValueError: vendor name 'monitex' is already registered"
        ),
    ]


async def test_orphaned_ride_is_cancelled_when_the_vendor_can(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    settings_tree["countries"]["IL"]["vendor"] = "cancellable_monitex"
    settings_tree["vendors"]["cancellable_monitex"] = settings_tree["vendors"]["monitex"]
    gateway = await make_gateway(catalog_with_cancellable_monitex())
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=409))
    CancellableMonitex.cancelled.clear()

    await gateway.start_ride("order-il-1")

    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1
    assert CancellableMonitex.cancelled == list(world.sims.monitex.rides)
    assert setcar_values(world.sims) == ["false"]
    assert len(world.sims.client_notify.calls.to(PUSH)) == 1


class _Lying(OptumPlusVendor):
    name = "lying"


@pytest.mark.parametrize(
    ("capabilities", "refusal_codes", "error"),
    [
        pytest.param(
            frozenset({Capability.CLOSE_ENDS_ORPHAN, Capability.STOP_RIDE, Capability.CANCEL_RIDE}),
            frozenset(),
            "TypeError: _Lying: close_ends_orphan is for a vendor that stops rides and cannot "
            "cancel them",
            id="closes-orphans-yet-cancels",
        ),
        pytest.param(
            frozenset({Capability.IDEMPOTENT_START}),
            frozenset(),
            "TypeError: _Lying declares no operation",
            id="traits-only",
        ),
        pytest.param(
            OptumPlusVendor.capabilities,
            frozenset({"driver_busy", "Driver Busy"}),
            "ValueError: _Lying: refusal codes 'Driver Busy' are not [a-z0-9_]{1,32}",
            id="refusal-code-not-a-label",
        ),
    ],
)
def test_a_vendor_class_declaring_the_impossible_is_refused_at_registration(
    monkeypatch: pytest.MonkeyPatch,
    capabilities: frozenset[Capability],
    refusal_codes: frozenset[str],
    error: str,
) -> None:
    monkeypatch.setattr(_Lying, "capabilities", capabilities)
    monkeypatch.setattr(_Lying, "refusal_codes", refusal_codes)
    module = ModuleType("lying")
    module.PLUGIN_API_MAJOR = 1  # type: ignore[attr-defined]
    module.register_vendors = hookimpl(lambda register: register(_Lying))  # type: ignore[attr-defined]

    catalog = catalog_from_modules([("lying", module)])

    assert catalog.vendors == {}
    assert catalog.failures == [PluginFailure("lying", error)]
