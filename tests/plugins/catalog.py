"""Vendor catalogs for tests: the shipped plugins plus chosen test plugins, via entry points."""

from importlib.metadata import EntryPoint, entry_points

from gateway.bootstrap.registry import VendorCatalog, catalog_from_entry_points
from gateway.plugins.hookspecs import ENTRY_POINT_GROUP


def plugin(name: str, module: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"tests.plugins.{module}", group=ENTRY_POINT_GROUP)


def shipped_entry_points() -> list[EntryPoint]:
    # Third-party vendor packages (the example one, for instance) may be installed beside ours.
    return [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.value.startswith("vendors.")]


def catalog_with_cancellable_monitex() -> VendorCatalog:
    return catalog_from_entry_points(
        [*shipped_entry_points(), plugin("cancellable_monitex", "cancellable_monitex")]
    )


def catalog_with_refusing_monitex() -> VendorCatalog:
    return catalog_from_entry_points(
        [*shipped_entry_points(), plugin("refusing_monitex", "refusing_monitex")]
    )


def catalog_with_closing_monitex() -> VendorCatalog:
    return catalog_from_entry_points(
        [*shipped_entry_points(), plugin("closing_monitex", "closing_monitex")]
    )


def catalog_with_crashing_monitex() -> VendorCatalog:
    return catalog_from_entry_points(
        [*shipped_entry_points(), plugin("crashing_monitex", "crashing_monitex")]
    )
