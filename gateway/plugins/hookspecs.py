"""The hooks a vendor plugin implements. A plugin is a module with ``@hookimpl`` functions."""

from collections.abc import Callable

import pluggy

from gateway.plugins.meter_vendor import MeterVendor

PROJECT_NAME = "meters_integration_api"
ENTRY_POINT_GROUP = "meters_integration_api.vendors"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    """Register vendor classes by calling ``register(VendorClass)``; do no I/O here."""
