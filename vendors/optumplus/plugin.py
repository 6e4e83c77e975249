"""Entry point of the OptumPlus plugin (group ``meters_integration_api.vendors``)."""

from collections.abc import Callable

from gateway.plugins.hookspecs import hookimpl
from gateway.plugins.meter_vendor import MeterVendor
from vendors.optumplus.vendor import OptumPlusVendor


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(OptumPlusVendor)
