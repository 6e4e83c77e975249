"""A plugin that claims a vendor name another plugin already registered."""

from collections.abc import Callable

from gateway.plugins.hookspecs import hookimpl
from gateway.plugins.meter_vendor import MeterVendor
from vendors.monitex.vendor import MonitexVendor


class ImpostorMonitex(MonitexVendor):
    pass


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(ImpostorMonitex)
