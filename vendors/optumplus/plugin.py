"""Entry point of the OptumPlus plugin (group ``meters_integration_api.vendors``)."""

from collections.abc import Callable

from gateway.plugins.hookspecs import SimulatorFactory, hookimpl
from gateway.plugins.meter_vendor import MeterVendor
from vendors.optumplus.simulator import OptumPlusSimulator
from vendors.optumplus.vendor import OptumPlusVendor


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(OptumPlusVendor)


@hookimpl
def register_simulators(register: Callable[[str, SimulatorFactory], None]) -> None:
    register(OptumPlusVendor.name, OptumPlusSimulator)
