"""The architecture, guarded (docs/design.md "Architecture"): the layers top to bottom, every
import pointing down, no cycle between packages, and the ride core importing no infrastructure.

Every import statement counts, at any depth (inside a function or under TYPE_CHECKING too): a
lazy import is still a dependency. A failure names the importing module, the line and the
import, so the fix starts from the message.
"""

import ast
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parent.parent

# Top to bottom; a module may import its own layer and the layers below it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "tools",
        ("gateway.cli", "gateway.demo", "gateway.sandbox", "gateway.scaffold", "gateway.testing"),
    ),
    ("entrypoints", ("gateway.http", "gateway.worker", "gateway.bootstrap")),
    ("adapters", ("gateway.broker", "gateway.coordination", "gateway.platform")),
    ("core", ("gateway.rides",)),
    ("SDK", ("gateway.plugins",)),
    (
        "leaf",
        (
            "gateway.money",
            "gateway.settings",
            "gateway.metrics",
            "gateway.observability",
            "gateway.call_timeout",
            "gateway.logging_setup",
            "gateway.workarounds",
            "gateway.redis_connection",
            "gateway.sentinel_url",
        ),
    ),
)
# What the ride core may import besides the standard library and itself (issue 23): its vendor
# port, money and settings, and structlog for its own debug lines.
CORE = "gateway.rides"
CORE_MAY_IMPORT = ("structlog", "gateway.plugins", "gateway.money", "gateway.settings")
# The shipped vendors are plugins like any other: they import the public plugin API only.
VENDOR_PACKAGES = ("vendors", "examples/meters-vendor-taxameter/src/meters_vendor_taxameter")
PLUGIN_API = "gateway.plugins"


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    """The importing module."""
    line: int
    target: str
    """The module imported: ``a.b`` for ``from a.b import c``, and ``a.b.c`` when ``a.b`` is no
    package of the layers (``from gateway import rides``)."""

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def _module_name(path: Path, package_root: Path) -> str:
    parts = path.relative_to(package_root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules_of(package: Path, package_root: Path) -> dict[str, str]:
    """Each module under ``package`` by its dotted name, with its source."""
    return {
        _module_name(path, package_root): path.read_text(encoding="utf-8")
        for path in sorted(package.rglob("*.py"))
    }


def imports_of(module: str, source: str, is_package: bool = False) -> Iterator[Import]:
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if unit_of(base) is not None:
                yield Import(module, node.lineno, base)
                continue
            for alias in node.names:
                yield Import(module, node.lineno, f"{base}.{alias.name}")


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def unit_of(name: str) -> str | None:
    """The package of LAYERS a module belongs to; None outside them (third party, or gateway's
    own ``__init__``)."""
    for _, units in LAYERS:
        for unit in units:
            if _within(name, unit):
                return unit
    return None


def layer_of(unit: str) -> int:
    return next(depth for depth, (_, units) in enumerate(LAYERS) if unit in units)


def upward_imports(modules: Mapping[str, str]) -> list[str]:
    found = []
    for module, source in modules.items():
        unit = unit_of(module)
        if unit is None:
            continue
        for imported in imports_of(module, source, module in _packages(modules)):
            target = unit_of(imported.target)
            if target is not None and layer_of(target) < layer_of(unit):
                found.append(
                    f"{imported}: {LAYERS[layer_of(unit)][0]} -> {LAYERS[layer_of(target)][0]}"
                )
    return sorted(set(found))


def _packages(modules: Mapping[str, str]) -> set[str]:
    return {name for name in modules if any(other.startswith(name + ".") for other in modules)}


def package_cycles(modules: Mapping[str, str]) -> list[list[str]]:
    """Each cycle among the packages of LAYERS, as the units it passes through."""
    edges: dict[str, set[str]] = {}
    for module, source in modules.items():
        unit = unit_of(module)
        if unit is None:
            continue
        for imported in imports_of(module, source, module in _packages(modules)):
            target = unit_of(imported.target)
            if target is not None and target != unit:
                edges.setdefault(unit, set()).add(target)
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(path: list[str]) -> None:
        for following in sorted(edges.get(path[-1], ())):
            if following == path[0]:
                if frozenset(path) not in seen:
                    seen.add(frozenset(path))
                    cycles.append([*path, following])
            elif following not in path and following > path[0]:
                walk([*path, following])

    for start in sorted(edges):
        walk([start])
    return cycles


def outside(modules: Mapping[str, str], within: str, allowed: Iterable[str]) -> list[str]:
    """The imports of the modules under ``within`` of anything but the standard library, the
    package itself and ``allowed``."""
    permitted = (within, *allowed)
    return sorted(
        {
            str(imported)
            for module, source in modules.items()
            if _within(module, within)
            for imported in imports_of(module, source, module in _packages(modules))
            if imported.target.split(".")[0] not in sys.stdlib_module_names
            and not any(_within(imported.target, name) for name in permitted)
        }
    )


def gateway_imports_beside(modules: Mapping[str, str], allowed: str) -> list[str]:
    """The imports of any module of the gateway but ``allowed`` itself."""
    return sorted(
        {
            str(imported)
            for module, source in modules.items()
            for imported in imports_of(module, source, module in _packages(modules))
            if _within(imported.target, "gateway") and imported.target != allowed
        }
    )


GATEWAY = modules_of(ROOT / "gateway", ROOT)


def test_every_module_of_the_gateway_has_a_layer() -> None:
    assert [name for name in GATEWAY if name != "gateway" and unit_of(name) is None] == []


def test_every_import_points_down() -> None:
    assert upward_imports(GATEWAY) == []


def test_no_packages_import_each_other_in_a_cycle() -> None:
    assert package_cycles(GATEWAY) == []


def test_the_ride_core_imports_no_infrastructure() -> None:
    assert outside(GATEWAY, CORE, CORE_MAY_IMPORT) == []


def test_the_shipped_vendors_import_only_the_plugin_api() -> None:
    for package in VENDOR_PACKAGES:
        path = ROOT / package
        modules = modules_of(path, path.parent)
        assert modules, package
        assert gateway_imports_beside(modules, PLUGIN_API) == [], package


# The checks themselves, on modules written here: each finds what it is for.


def test_an_upward_import_is_named_with_its_layers() -> None:
    modules = {
        "gateway.rides.start_ride": "import asyncio\n\nfrom gateway.broker.delivery import x\n"
    }

    assert upward_imports(modules) == [
        "gateway.rides.start_ride:3 imports gateway.broker.delivery: core -> adapters"
    ]


def test_a_lazy_or_relative_import_counts() -> None:
    modules = {
        "gateway.platform.order_core": "def later():\n    from ..http import app\n",
    }

    assert upward_imports(modules) == [
        "gateway.platform.order_core:2 imports gateway.http: adapters -> entrypoints"
    ]


def test_a_cycle_within_one_layer_is_found() -> None:
    modules = {
        "gateway.broker.a": "from gateway.coordination import b\n",
        "gateway.coordination.b": "import gateway.platform.c\n",
        "gateway.platform.c": "from gateway.broker import a\n",
    }

    assert package_cycles(modules) == [
        ["gateway.broker", "gateway.coordination", "gateway.platform", "gateway.broker"]
    ]


def test_the_core_may_not_import_telemetry_even_from_below() -> None:
    modules = {
        "gateway.rides.finish_ride": (
            "import decimal\nimport structlog\nfrom gateway.plugins import MeterVendor\n"
            "from gateway.metrics import RIDES\nimport aiohttp\n"
        )
    }

    assert outside(modules, CORE, CORE_MAY_IMPORT) == [
        "gateway.rides.finish_ride:4 imports gateway.metrics",
        "gateway.rides.finish_ride:5 imports aiohttp",
    ]


def test_a_vendor_reaching_past_the_plugin_api_is_named() -> None:
    modules = {
        "vendors.acme.vendor": (
            "import aiohttp\nfrom gateway.plugins import MeterVendor\n"
            "from gateway.plugins.vendor_http import VendorHttp\nfrom gateway import settings\n"
        )
    }

    assert gateway_imports_beside(modules, PLUGIN_API) == [
        "vendors.acme.vendor:3 imports gateway.plugins.vendor_http",
        "vendors.acme.vendor:4 imports gateway.settings",
    ]
