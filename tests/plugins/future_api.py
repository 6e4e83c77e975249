"""A vendor plugin written for a plugin API this gateway does not speak yet."""

from collections.abc import Callable

from gateway.plugins import MeterVendor, hookimpl
from vendors.optumplus.vendor import OptumPlusVendor

PLUGIN_API_MAJOR = 2


class FutureOptumPlus(OptumPlusVendor):
    name = "future_optumplus"


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(FutureOptumPlus)
