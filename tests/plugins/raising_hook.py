"""A vendor plugin whose registration hook raises."""

from collections.abc import Callable

from gateway.plugins import MeterVendor, hookimpl

PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    raise RuntimeError("registration exploded")
