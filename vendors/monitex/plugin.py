"""Entry point of the Monitex plugin (group ``meters_integration_api.vendors``)."""

from collections.abc import Callable

from gateway.plugins import MeterVendor, SimulatorFactory, hookimpl
from vendors.monitex.simulator import MonitexSimulator
from vendors.monitex.vendor import MonitexVendor

PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(MonitexVendor)


@hookimpl
def register_simulators(register: Callable[[str, SimulatorFactory], None]) -> None:
    register(MonitexVendor.name, MonitexSimulator)
