"""``new-vendor`` end to end through the real CLI: the package it writes installs into a fresh
venv, passes the conformance kit unchanged, and a configuration routing a country to it passes
``check-config`` and plays in ``demo --config``.

The fresh venv sees this test venv's packages through a ``.pth`` file (much cheaper than
installing the gateway again); the scaffold itself is installed into it with pip.
"""

import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.scaffold.new_vendor import ScaffoldError, new_vendor

CLI = ["-m", "gateway.cli"]
PIP_QUIET = ["-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check"]
CONFIG = """
[zones]
athens = "GR"
riga = "LV"

[countries.GR]
vendor = "acmemeter"

[countries.LV]
vendor = "optumplus"
id_document_type = "national_id_lva"

[vendors.acmemeter]
url = "https://api.acmemeter.example"
token = "acmemeter-token"  # a routed vendor's secret is required (check-config, serve, worker)

[vendors.optumplus]
url = "https://api.optumplus.example"
token = "optumplus-token"
"""


@dataclass(frozen=True, slots=True)
class FreshVenv:
    python: Path
    written: list[str]
    """The files new-vendor wrote, before pip built anything beside them."""

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args], cwd=cwd, capture_output=True, text=True, timeout=300
        )


@pytest.fixture(scope="module")
def acmemeter(tmp_path_factory: pytest.TempPathFactory) -> tuple[FreshVenv, Path]:
    """A fresh venv holding the package ``new-vendor acmemeter`` wrote, installed with pip."""
    root = tmp_path_factory.mktemp("scaffold")
    package = root / "acmemeter"
    written = subprocess.run(
        [sys.executable, *CLI, "new-vendor", "acmemeter", "--dest", str(package)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert written.returncode == 0, written.stderr
    environment = root / "venv"
    venv.create(environment, with_pip=False)
    python = environment / "bin" / "python"
    fresh_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # addsitedir, unlike a bare path line, also runs this venv's own .pth files (the gateway's
    # editable install is one).
    ours = sysconfig.get_paths()["purelib"]
    (Path(fresh_site) / "gateway_test_venv.pth").write_text(
        f"import site; site.addsitedir({ours!r})\n"
    )
    fresh = FreshVenv(
        python,
        sorted(str(path.relative_to(package)) for path in package.rglob("*") if path.is_file()),
    )
    installed = fresh.run(*PIP_QUIET, str(package), cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return fresh, package


def test_new_vendor_writes_a_complete_package(acmemeter: tuple[FreshVenv, Path]) -> None:
    fresh, package = acmemeter

    assert fresh.written == [
        "README.md",
        "pyproject.toml",
        "src/meters_vendor_acmemeter/__init__.py",
        "src/meters_vendor_acmemeter/api.py",
        "src/meters_vendor_acmemeter/plugin.py",
        "src/meters_vendor_acmemeter/py.typed",
        "src/meters_vendor_acmemeter/settings.py",
        "src/meters_vendor_acmemeter/simulator.py",
        "src/meters_vendor_acmemeter/vendor.py",
        "tests/test_conformance.py",
    ]
    assert (
        'acmemeter = "meters_vendor_acmemeter.plugin"' in (package / "pyproject.toml").read_text()
    )


def test_the_installed_package_passes_the_kit_unchanged(acmemeter: tuple[FreshVenv, Path]) -> None:
    fresh, package = acmemeter

    run = fresh.run("-m", "pytest", "-p", "no:cacheprovider", "-q", cwd=package)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("67 passed, 1 skipped")
    assert "acmemeter does not declare idempotent_start: 1 test skipped" in run.stdout


def test_a_config_routing_a_country_to_it_checks_and_plays(
    acmemeter: tuple[FreshVenv, Path], tmp_path: Path
) -> None:
    fresh, _ = acmemeter
    config = tmp_path / "meters.toml"
    config.write_text(CONFIG)

    checked = fresh.run(*CLI, "check-config", str(config), cwd=tmp_path)
    played = fresh.run(*CLI, "demo", "--config", str(config), cwd=tmp_path)

    assert checked.returncode == 0, checked.stderr
    assert "GR: vendor acmemeter, zones athens" in checked.stdout
    assert played.returncode == 0, played.stdout + played.stderr
    assert "PASS    GR (acmemeter): the whole ride" in played.stdout
    assert "PASS    GR (acmemeter): the vendor's API fails" in played.stdout
    assert played.stdout.rstrip().endswith("4 scenarios: 4 behaved as expected, 0 did not")


def test_demo_config_fails_when_a_routed_vendor_cannot_be_played(tmp_path: Path) -> None:
    config = tmp_path / "meters.toml"
    config.write_text(
        '[zones]\nriga = "LV"\n[countries.LV]\nvendor = "optumplus"\n'
        '[countries.EE]\nvendor = "optumplus"\n[vendors.optumplus]\nurl = "http://o"\n'
    )

    played = subprocess.run(
        [sys.executable, *CLI, "demo", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert played.returncode == 1
    assert "cannot play EE: no zone of [zones] maps to it" in played.stdout
    assert "PASS    LV (optumplus): a finish-only ride" in played.stdout


@pytest.mark.parametrize("name", ["Acme", "9meter", "acme-meter", ""])
def test_a_name_that_cannot_be_a_vendor_key_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ScaffoldError, match="is not a vendor name"):
        new_vendor(name, tmp_path / "pkg")


def test_a_directory_with_files_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")

    with pytest.raises(ScaffoldError, match="is not an empty directory"):
        new_vendor("acmemeter", tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
