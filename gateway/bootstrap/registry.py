"""Finds vendor plugins through their entry points, each isolated from the others' failures."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from inspect import signature
from types import ModuleType
from typing import Any

import pluggy

from gateway.plugins import hookspecs
from gateway.plugins.api_version import check_plugin_api
from gateway.plugins.hookspecs import SettingsSimulatorFactory
from gateway.plugins.meter_vendor import OPERATIONS, Capability, MeterVendor, VendorSettings
from gateway.plugins.simulator import Simulator
from gateway.plugins.vendor_errors import REFUSAL_CODE


@dataclass(frozen=True, slots=True)
class PluginFailure:
    plugin: str
    error: str


@dataclass(frozen=True, slots=True)
class RegisteredSimulator:
    """A plugin's simulator factory, and what it is to be given."""

    factory: SettingsSimulatorFactory
    """Given the settings where ``takes_settings``, else their token (a ``SimulatorFactory``)."""
    takes_settings: bool = False

    def build(self, settings: VendorSettings) -> Simulator:
        """The simulator of the vendor so configured: handed the settings (1.1) or, for a
        factory registered without ``takes_settings`` (1.0), their token."""
        if self.takes_settings:
            return self.factory(settings)
        return self.factory(settings.token.get_secret_value())


@dataclass(slots=True)
class VendorCatalog:
    """What the plugins registered, by vendor name, and the plugins that could not register."""

    vendors: dict[str, type[MeterVendor]] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    simulators: dict[str, RegisteredSimulator] = field(default_factory=dict)


def discover_vendor_plugins() -> VendorCatalog:
    return catalog_from_entry_points(entry_points(group=hookspecs.ENTRY_POINT_GROUP))


def catalog_from_entry_points(found: Iterable[EntryPoint]) -> VendorCatalog:
    catalog = VendorCatalog()
    modules: list[tuple[str, ModuleType]] = []
    for entry_point in found:
        try:
            modules.append((entry_point.name, entry_point.load()))
        except Exception as error:  # a broken third-party package must not take the others down
            catalog.failures.append(PluginFailure(entry_point.name, _describe(error)))
    return catalog_from_modules(modules, catalog)


def catalog_from_modules(
    modules: Iterable[tuple[str, ModuleType]], catalog: VendorCatalog | None = None
) -> VendorCatalog:
    catalog = catalog or VendorCatalog()
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for plugin_name, module in modules:
        try:
            check_plugin_api(module)
            manager.register(module, name=plugin_name)
        except Exception as error:
            catalog.failures.append(PluginFailure(plugin_name, _describe(error)))
    for implementation in manager.hook.register_vendors.get_hookimpls():
        for (vendor_class,), _ in _registered_by(implementation, catalog, _check_vendor_class):
            catalog.vendors[vendor_class.name] = vendor_class
    # Simulators come second: each must stand in for a vendor that registered.
    for implementation in manager.hook.register_simulators.get_hookimpls():
        for (vendor_name, factory), options in _registered_by(
            implementation, catalog, _check_simulator
        ):
            catalog.simulators[vendor_name] = RegisteredSimulator(factory, **options)
    return catalog


def _registered_by(
    implementation: pluggy.HookImpl,
    catalog: VendorCatalog,
    check: Callable[..., None],
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The arguments, positional and by keyword, of each ``register`` call one plugin made;
    none if it raised or any is bad (``check`` accepts only the arguments its hook's
    ``register`` takes, the vendor class, name and factory by position only, so that the
    entries unpacked from them are always whole).

    Each implementation is called on its own so that one plugin raising skips only itself.
    """
    registered: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    try:
        implementation.function(
            register=lambda *args, **options: registered.append((args, options))
        )
        for args, options in registered:
            try:
                signature(check).bind(catalog, *args, **options)
            except TypeError as error:  # named for the plugin's call, not this module's check
                raise TypeError(f"register(): {error}") from None
            check(catalog, *args, **options)
    except Exception as error:
        catalog.failures.append(PluginFailure(implementation.plugin_name, _describe(error)))
        return []
    return registered


def _check_vendor_class(catalog: VendorCatalog, vendor_class: object, /) -> None:
    if not (isinstance(vendor_class, type) and issubclass(vendor_class, MeterVendor)):
        raise TypeError(f"{vendor_class!r} is not a MeterVendor subclass")
    name = getattr(vendor_class, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{vendor_class.__qualname__} has no vendor name")
    capabilities = getattr(vendor_class, "capabilities", None)
    if not isinstance(capabilities, frozenset):
        raise TypeError(f"{vendor_class.__qualname__} declares no capabilities")
    if Capability.CLOSE_ENDS_ORPHAN in capabilities and (
        Capability.CANCEL_RIDE in capabilities or Capability.STOP_RIDE not in capabilities
    ):
        raise TypeError(
            f"{vendor_class.__qualname__}: close_ends_orphan is for a vendor that stops rides "
            "and cannot cancel them"
        )
    if not capabilities & OPERATIONS:
        raise TypeError(f"{vendor_class.__qualname__} declares no operation")
    bad_codes = sorted(
        repr(code)
        for code in vendor_class.refusal_codes
        if not (isinstance(code, str) and REFUSAL_CODE.fullmatch(code))
    )
    if bad_codes:
        raise ValueError(
            f"{vendor_class.__qualname__}: refusal codes {', '.join(bad_codes)} are not "
            f"{REFUSAL_CODE.pattern}"
        )
    if name in catalog.vendors:
        raise ValueError(f"vendor name {name!r} is already registered")


def _check_simulator(
    catalog: VendorCatalog,
    vendor_name: object,
    factory: object,
    /,
    *,
    takes_settings: object = False,
) -> None:
    if not isinstance(takes_settings, bool):
        raise TypeError(f"takes_settings for {vendor_name!r} is {takes_settings!r}, not a bool")
    if vendor_name not in catalog.vendors:
        raise ValueError(f"simulator for {vendor_name!r}, which is not a registered vendor")
    if not callable(factory):
        raise TypeError(f"simulator factory for {vendor_name!r} is not callable")
    if vendor_name in catalog.simulators:
        raise ValueError(f"vendor {vendor_name!r} already has a simulator")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
