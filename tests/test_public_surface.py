"""The vendor SDK is one import surface: ``gateway.plugins`` (and, for tests, the kit's
``gateway.testing``). Shipped vendors, the example package, the scaffold and the vendor guide
use nothing else, so the rest of ``gateway`` may move without breaking a vendor."""

import ast
import re
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

import gateway.plugins
from gateway.scaffold.new_vendor import new_vendor

REPOSITORY = Path(__file__).parents[1]
EXAMPLE = REPOSITORY / "examples" / "meters-vendor-taxameter"
PLUGIN_SURFACE = {"gateway.plugins"}
TEST_SURFACE = {"gateway.plugins", "gateway.testing"}


def gateway_imports(source: str) -> set[str]:
    """The ``gateway`` modules a piece of Python imports from."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "gateway"}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "gateway"
        ):
            found.add(node.module)
    return found


def vendor_sources(tmp_path: Path) -> dict[Path, set[str]]:
    """Every Python file of a vendor package we ship or write, with what it may import."""
    scaffold = tmp_path / "scaffold"
    new_vendor("acmemeter", scaffold)
    packages = [REPOSITORY / "vendors", EXAMPLE / "src", scaffold / "src"]
    tests = [EXAMPLE / "tests", scaffold / "tests"]
    return {
        **{path: PLUGIN_SURFACE for root in packages for path in root.rglob("*.py")},
        **{path: TEST_SURFACE for root in tests for path in root.rglob("*.py")},
    }


def test_vendor_packages_import_only_the_public_surface(tmp_path: Path) -> None:
    sources = vendor_sources(tmp_path)
    beyond = {
        str(path): sorted(gateway_imports(path.read_text()) - allowed)
        for path, allowed in sources.items()
        if gateway_imports(path.read_text()) - allowed
    }

    assert len(sources) > 20
    assert beyond == {}


def test_the_vendor_guide_imports_only_the_public_surface() -> None:
    guide = (REPOSITORY / "docs" / "vendor-guide.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)

    imported = set().union(*(gateway_imports(block) for block in blocks))

    assert blocks
    assert imported <= TEST_SURFACE, imported


def test_every_public_name_resolves() -> None:
    missing = [name for name in gateway.plugins.__all__ if not hasattr(gateway.plugins, name)]

    assert missing == []
    assert {
        "MeterVendor",
        "hookimpl",
        "MeterRideStart",
        "VendorRefused",
        "PLUGIN_API_VERSION",
        "VendorHttp",
        "OAuth2ClientCredentials",
        "to_minor_units",
        "Simulator",
    } <= set(gateway.plugins.__all__)


TOOLS = ("gateway.cli", "gateway.demo", "gateway.sandbox", "gateway.scaffold", "gateway.testing")


@pytest.mark.parametrize(
    "module", ["gateway.bootstrap.process", "gateway.http.app", "gateway.worker.supervisor"]
)
def test_loading_plugins_does_not_import_the_sandbox(module: str) -> None:
    # The vendors' plugin modules are loaded through their entry points, as serve and worker
    # load them: each imports its simulator, which must need only the SDK's kit.
    probe = (
        f"import sys, {module}\n"
        "from gateway.bootstrap.registry import discover_vendor_plugins\n"
        "catalog = discover_vendor_plugins()\n"
        "assert catalog.vendors and not catalog.failures, catalog\n"
        f"print(sorted(m for m in sys.modules if m.startswith({TOOLS!r})))"
    )

    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )

    assert run.stdout.strip() == "[]"


def test_installing_the_gateway_adds_no_pytest_plugin() -> None:
    # An auto-loaded pytest11 entry point would change every test run in the environment.
    groups = {ep.group for ep in distribution("meters-integration-api").entry_points}

    assert "pytest11" not in groups
    assert "kit" in (
        distribution("meters-integration-api").metadata.get_all("Provides-Extra") or []
    )


def test_every_public_name_has_its_line_in_the_guides_reference() -> None:
    guide = (REPOSITORY / "docs" / "vendor-guide.md").read_text()
    reference = guide[guide.index("## Reference: every name of `gateway.plugins`") :]
    listed = set(re.findall(r"^\| `(\w+)` \|", reference, flags=re.MULTILINE))

    assert listed == set(gateway.plugins.__all__)
