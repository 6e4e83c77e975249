"""The plugin module the entry point names: registers the vendor and its simulator, no I/O."""

from collections.abc import Callable

from gateway.plugins import MeterVendor, SimulatorFactory, hookimpl

from meters_vendor_taxameter.simulator import TaxameterSimulator
from meters_vendor_taxameter.vendor import TaxameterVendor

PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(TaxameterVendor)


@hookimpl
def register_simulators(register: Callable[[str, SimulatorFactory], None]) -> None:
    register(TaxameterVendor.name, TaxameterSimulator)
