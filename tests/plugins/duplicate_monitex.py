"""A plugin that claims a vendor name another plugin already registered."""

from collections.abc import Callable

from gateway.plugins import MeterVendor, hookimpl
from vendors.monitex.vendor import MonitexVendor


class ImpostorMonitex(MonitexVendor):
    pass


PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(ImpostorMonitex)
