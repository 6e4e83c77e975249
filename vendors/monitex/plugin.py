"""Entry point of the Monitex plugin (group ``meters_integration_api.vendors``)."""

from collections.abc import Callable

from gateway.plugins.hookspecs import SimulatorFactory, hookimpl
from gateway.plugins.meter_vendor import MeterVendor
from vendors.monitex.simulator import MonitexSimulator
from vendors.monitex.vendor import MonitexVendor


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(MonitexVendor)


@hookimpl
def register_simulators(register: Callable[[str, SimulatorFactory], None]) -> None:
    register(MonitexVendor.name, MonitexSimulator)
