"""Writes a complete vendor package from the templates shipped in ``templates/``.

The package (plugin, vendor, settings, simulator, kit test, README, pyproject with the entry
point) installs and passes the conformance kit as written, so an integrator starts from green
and edits towards their vendor's API.
"""

import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

VENDOR_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
TEMPLATE_SUFFIX = ".tmpl"
PACKAGE_DIRECTORY = "package"


class ScaffoldError(Exception):
    pass


def new_vendor(name: str, dest: Path) -> list[Path]:
    """Write the package for vendor ``name`` into ``dest`` (absent or empty); answer the files."""
    if not VENDOR_NAME.fullmatch(name):
        raise ScaffoldError(
            f"{name!r} is not a vendor name: lower case letters, digits and _, starting with a "
            "letter (it becomes the [vendors.NAME] key and a Python package name)"
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScaffoldError(f"{dest} exists and is not an empty directory")
    words = {
        "{{name}}": name,
        "{{NAME}}": name.upper(),
        "{{Name}}": "".join(part.capitalize() for part in name.split("_")),
        "{{package}}": f"meters_vendor_{name}",
        "{{dist}}": f"meters-vendor-{name.replace('_', '-')}",
    }
    written: list[Path] = []
    for relative, template in _templates(files("gateway.scaffold") / "templates", Path()):
        target = dest / _target_path(relative, words["{{package}}"])
        target.parent.mkdir(parents=True, exist_ok=True)
        text = template.read_text(encoding="utf-8")
        for word, value in words.items():
            text = text.replace(word, value)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return sorted(written)


def _templates(directory: Traversable, relative: Path) -> list[tuple[Path, Traversable]]:
    found: list[tuple[Path, Traversable]] = []
    for entry in directory.iterdir():
        if entry.is_dir():
            found += _templates(entry, relative / entry.name)
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            found.append((relative / entry.name.removesuffix(TEMPLATE_SUFFIX), entry))
    return found


def _target_path(relative: Path, package: str) -> Path:
    return Path(*(package if part == PACKAGE_DIRECTORY else part for part in relative.parts))
