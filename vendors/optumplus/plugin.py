"""Entry point of the OptumPlus plugin (group ``meters_integration_api.vendors``)."""

from collections.abc import Callable

from gateway.plugins import MeterVendor, SimulatorFactory, hookimpl
from vendors.optumplus.simulator import OptumPlusSimulator
from vendors.optumplus.vendor import OptumPlusVendor

PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(OptumPlusVendor)


@hookimpl
def register_simulators(register: Callable[[str, SimulatorFactory], None]) -> None:
    register(OptumPlusVendor.name, OptumPlusSimulator)
