"""Simulators of the platform services the gateway calls (docs/design.md §5).

Also home of the dotted-path projection that order-core and fleet-vehicles share: both let the
caller name the fields it wants as ``a.b.c``.
"""

import copy
from typing import Any


def project(document: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A nested copy of the document holding only those of the paths that exist in it."""
    projection: dict[str, Any] = {}
    for path in paths:
        found, value = _lookup(document, path)
        if not found:
            continue
        *parents, leaf = path.split(".")
        target = projection
        for key in parents:
            target = target.setdefault(key, {})
        target[leaf] = copy.deepcopy(value)
    return projection


def _lookup(document: dict[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = document
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node
