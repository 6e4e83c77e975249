"""The plugin module the entry point names: registers the vendor and its simulator, no I/O."""

from collections.abc import Callable

from gateway.plugins.hookspecs import SimulatorFactory, hookimpl
from gateway.plugins.meter_vendor import MeterVendor

from meters_vendor_taxameter.simulator import TaxameterSimulator
from meters_vendor_taxameter.vendor import TaxameterVendor


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(TaxameterVendor)


@hookimpl
def register_simulators(register: Callable[[str, SimulatorFactory], None]) -> None:
    register(TaxameterVendor.name, TaxameterSimulator)
