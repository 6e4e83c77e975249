"""The suite's own rule (docs/testing.md): shared helpers live in fixture modules and are
imported from there; a ``conftest.py`` only declares fixtures, and nothing imports from one."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module named, and every name imported from one (``from tests import conftest``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name}


def test_no_module_of_the_suite_imports_from_a_conftest() -> None:
    importers = sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if any(name.split(".")[-1] == "conftest" for name in _imported_modules(path))
    )
    assert importers == []
