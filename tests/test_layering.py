"""The package layering (README "Architecture"): each package of ``gateway`` sits in one layer,
and its imports point down, or sideways within its layer; never up. Imports under
``TYPE_CHECKING`` count: they are a dependency all the same."""

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).parent.parent / "gateway"

# Top to bottom.
LAYERS: list[tuple[str, set[str]]] = [
    ("tools", {"cli", "demo", "sandbox", "scaffold", "testing"}),
    ("entrypoints", {"http", "worker", "bootstrap"}),
    ("adapters", {"broker", "coordination", "platform"}),
    ("core", {"rides"}),
    ("SDK", {"plugins"}),
    (
        "leaf",
        {
            "money",
            "settings",
            "metrics",
            "observability",
            "call_timeout",
            "logging_setup",
            "workarounds",
            "redis_connection",
            "sentinel_url",
        },
    ),
]
RANK = {package: rank for rank, (_, packages) in enumerate(LAYERS) for package in packages}


def _package(module: str) -> str:
    """``gateway.broker.redis_streams`` -> ``broker``."""
    return module.split(".")[1]


def _imports() -> list[tuple[str, str]]:
    """Every (importing module, imported gateway module) pair between two packages."""
    found = []
    for path in sorted(GATEWAY.rglob("*.py")):
        module = ".".join(path.relative_to(GATEWAY.parent).with_suffix("").parts)
        if module == "gateway.__init__":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found.extend(
                (module, name)
                for name in names
                if name.startswith("gateway.") and _package(name) != _package(module)
            )
    return found


def test_every_package_has_a_layer() -> None:
    packages = {
        path.stem if path.is_file() else path.name
        for path in GATEWAY.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }

    assert packages - RANK.keys() == set()


@pytest.mark.parametrize(("layer", "packages"), LAYERS, ids=[layer for layer, _ in LAYERS])
def test_imports_point_down(layer: str, packages: set[str]) -> None:
    upward = sorted(
        f"{importer} -> {imported}"
        for importer, imported in _imports()
        if _package(importer) in packages and RANK[_package(imported)] < RANK[_package(importer)]
    )

    assert upward == []
