"""A vendor plugin whose registration hook raises."""

from collections.abc import Callable

from gateway.plugins.hookspecs import hookimpl
from gateway.plugins.meter_vendor import MeterVendor


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    raise RuntimeError("registration exploded")
