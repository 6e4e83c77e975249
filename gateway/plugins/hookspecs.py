"""The hooks a vendor plugin implements. A plugin is a module with ``@hookimpl`` functions
and ``PLUGIN_API_MAJOR``, the major version of the plugin API it was written for."""

from collections.abc import Callable
from typing import Any, Protocol, TypeAlias

import pluggy

from gateway.plugins.meter_vendor import MeterVendor
from gateway.plugins.simulator import Simulator

PROJECT_NAME = "meters_integration_api"
ENTRY_POINT_GROUP = "meters_integration_api.vendors"

SimulatorFactory: TypeAlias = Callable[[str], Simulator]
"""Builds a vendor's simulator that accepts the given token (as ``[vendors.NAME] token``)."""

SettingsSimulatorFactory: TypeAlias = Callable[[Any], Simulator]
"""Since 1.1: builds a vendor's simulator from the vendor's validated settings, an instance of
its own ``settings_model`` (so the simulator can check the configured client id and secret,
not the token alone); registered with ``takes_settings=True``."""


class RegisterSimulator(Protocol):
    """The ``register`` that ``register_simulators`` is handed."""

    def __call__(
        self,
        vendor_name: str,
        factory: SimulatorFactory | SettingsSimulatorFactory,
        /,
        *,
        takes_settings: bool = False,
    ) -> None:
        """Register ``factory`` as the stand-in for ``vendor_name``'s API: called with the
        token (1.0), or with the validated settings where ``takes_settings`` (1.1)."""


hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    """Register vendor classes by calling ``register(VendorClass)``; do no I/O here."""


@hookspec
def register_simulators(register: RegisterSimulator) -> None:
    """Optional: register a stand-in for a vendor's API by calling ``register(name, factory)``
    (the factory is given the token) or ``register(name, factory, takes_settings=True)`` (it is
    given the vendor's validated settings).

    The sandbox, the demo, ``simulators`` and the conformance kit serve it in place of the
    vendor named ``name``, configured as the gateway that calls it is; do no I/O here.
    """
