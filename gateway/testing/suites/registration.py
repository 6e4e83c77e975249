"""The plugin is found through its entry point and registers a well-formed vendor class."""

from importlib.metadata import EntryPoint, entry_points

import pytest

from gateway.bootstrap.registry import VendorCatalog, catalog_from_entry_points
from gateway.plugins.hookspecs import ENTRY_POINT_GROUP
from gateway.plugins.meter_vendor import OPERATIONS, Capability, MeterVendor, VendorSettings
from gateway.plugins.vendor_errors import REFUSAL_CODE
from gateway.testing.suites.subject import VendorUnderTest

# A finish-ride request stops the meter ride and reads its price, whatever else a vendor can do.
FINISH_CAPABILITIES = frozenset({Capability.STOP_RIDE, Capability.GET_PRICE})


class RegistrationSuite(VendorUnderTest):
    def entry_point(self) -> EntryPoint:
        name = self.entry_point_name or self.vendor_name
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        assert found, (
            f"no entry point {name!r} in group {ENTRY_POINT_GROUP!r}: declare it in the "
            "package's pyproject.toml and install the package (pip install -e .)"
        )
        return found[0]

    def registered(self) -> VendorCatalog:
        catalog = catalog_from_entry_points([self.entry_point()])
        assert catalog.failures == [], f"the plugin failed to load or register: {catalog.failures}"
        return catalog

    def test_entry_point_registers_the_vendor_class(self) -> None:
        assert self.registered().vendors == {self.vendor_name: self.vendor_class}

    def test_entry_point_registers_the_simulator(self) -> None:
        factory = self.registered().simulators.get(self.vendor_name)
        assert factory is not None, (
            "the plugin registers no simulator: implement the register_simulators hook so the "
            "sandbox and the demo can stand in for the vendor's API"
        )
        settings = self.kit_settings()
        assert type(factory.build(settings)) is type(self.simulator_for(settings)), (
            "the plugin registers a simulator of another type than the kit's simulator_for"
        )

    def test_vendor_class_names_itself_and_its_settings(self) -> None:
        vendor_class: type[MeterVendor] = self.vendor_class
        assert isinstance(vendor_class.name, str)
        assert vendor_class.name.isidentifier(), "the name is a [vendors.NAME] key: a word"
        assert issubclass(vendor_class.settings_model, VendorSettings)

    def test_capabilities_are_declared(self) -> None:
        capabilities = self.vendor_class.capabilities
        assert isinstance(capabilities, frozenset)
        assert all(isinstance(capability, Capability) for capability in capabilities)
        missing = FINISH_CAPABILITIES - capabilities
        assert not missing, f"finish-ride needs {sorted(missing)}"

    def test_refusal_codes_are_bounded_labels(self) -> None:
        codes = self.vendor_class.refusal_codes
        assert isinstance(codes, frozenset)
        bad = sorted(str(code) for code in codes if not REFUSAL_CODE.fullmatch(str(code)))
        assert not bad, f"refusal codes {bad} are not {REFUSAL_CODE.pattern}"

    @pytest.mark.parametrize("capability", sorted(OPERATIONS), ids=str)
    def test_declared_capability_is_implemented(self, capability: Capability) -> None:
        self.require(capability)
        method = capability.value
        assert getattr(self.vendor_class, method) is not getattr(MeterVendor, method), (
            f"{capability.value} is declared but {self.vendor_class.__name__}.{method} is "
            "MeterVendor's, which refuses"
        )
