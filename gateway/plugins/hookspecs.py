"""The hooks a vendor plugin implements. A plugin is a module with ``@hookimpl`` functions
and ``PLUGIN_API_MAJOR``, the major version of the plugin API it was written for."""

from collections.abc import Callable
from typing import TypeAlias

import pluggy

from gateway.plugins.meter_vendor import MeterVendor
from gateway.plugins.simulator import Simulator

PROJECT_NAME = "meters_integration_api"
ENTRY_POINT_GROUP = "meters_integration_api.vendors"

SimulatorFactory: TypeAlias = Callable[[str], Simulator]
"""Builds a vendor's simulator that accepts the given token (as ``[vendors.NAME] token``)."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    """Register vendor classes by calling ``register(VendorClass)``; do no I/O here."""


@hookspec
def register_simulators(register: Callable[[str, SimulatorFactory], None]) -> None:
    """Optional: register a stand-in for a vendor's API by calling ``register(name, factory)``.

    The sandbox, the demo and the conformance kit serve it in place of the vendor named
    ``name``; do no I/O here.
    """
