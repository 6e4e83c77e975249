"""A plugin that registers something that is not a MeterVendor."""

from collections.abc import Callable
from typing import Any

from gateway.plugins import hookimpl

PLUGIN_API_MAJOR = 1


@hookimpl
def register_vendors(register: Callable[[Any], None]) -> None:
    register(dict)
