"""Finds vendor plugins through their entry points, each isolated from the others' failures."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

import pluggy

from gateway.plugins import hookspecs
from gateway.plugins.meter_vendor import MeterVendor


@dataclass(frozen=True, slots=True)
class PluginFailure:
    plugin: str
    error: str


@dataclass(slots=True)
class VendorCatalog:
    """The vendor classes that registered, by vendor name, and the plugins that could not."""

    vendors: dict[str, type[MeterVendor]] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)


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
            manager.register(module, name=plugin_name)
        except Exception as error:
            catalog.failures.append(PluginFailure(plugin_name, _describe(error)))
    # Each implementation is called on its own so one plugin raising skips only itself.
    for implementation in manager.hook.register_vendors.get_hookimpls():
        plugin_name = implementation.plugin_name
        registered: list[type[MeterVendor]] = []
        try:
            implementation.function(register=registered.append)
            for vendor_class in registered:
                _check_vendor_class(vendor_class, catalog)
        except Exception as error:
            catalog.failures.append(PluginFailure(plugin_name, _describe(error)))
            continue
        for vendor_class in registered:
            catalog.vendors[vendor_class.name] = vendor_class
    return catalog


def _check_vendor_class(vendor_class: object, catalog: VendorCatalog) -> None:
    if not (isinstance(vendor_class, type) and issubclass(vendor_class, MeterVendor)):
        raise TypeError(f"{vendor_class!r} is not a MeterVendor subclass")
    name = getattr(vendor_class, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{vendor_class.__qualname__} has no vendor name")
    if not isinstance(getattr(vendor_class, "capabilities", None), frozenset):
        raise TypeError(f"{vendor_class.__qualname__} declares no capabilities")
    if name in catalog.vendors:
        raise ValueError(f"vendor name {name!r} is already registered")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
