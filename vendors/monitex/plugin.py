"""Entry point of the Monitex plugin (group ``meters_integration_api.vendors``)."""

from collections.abc import Callable

from gateway.plugins.hookspecs import hookimpl
from gateway.plugins.meter_vendor import MeterVendor
from vendors.monitex.vendor import MonitexVendor


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(MonitexVendor)
