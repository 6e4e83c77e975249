"""The version of the plugin API (``gateway.plugins``), and the check of what a plugin states.

Semantic: the minor version grows with additions a plugin may use or ignore; the major one
changes when a plugin written for the previous one could break. A plugin module states the
major version it was written for as a literal, ``PLUGIN_API_MAJOR = 1``; a plugin stating
another one (or none) is refused at load, named in ``/health`` and ``check-config``, and the
other plugins keep working.
"""

from types import ModuleType

PLUGIN_API_VERSION = "1.1"
PLUGIN_API_MAJOR = int(PLUGIN_API_VERSION.split(".")[0])
STATED_BY_PLUGIN = "PLUGIN_API_MAJOR"
"""The name of the plugin module's attribute that states its major version."""


class IncompatiblePlugin(Exception):
    pass


def check_plugin_api(module: ModuleType) -> None:
    """Raise IncompatiblePlugin unless the module was written for this major version."""
    stated = getattr(module, STATED_BY_PLUGIN, None)
    if stated is None:
        raise IncompatiblePlugin(
            f"the plugin module states no {STATED_BY_PLUGIN}; this gateway speaks plugin API "
            f"{PLUGIN_API_VERSION} (add {STATED_BY_PLUGIN} = {PLUGIN_API_MAJOR})"
        )
    if stated != PLUGIN_API_MAJOR:
        raise IncompatiblePlugin(
            f"written for plugin API {stated}.x, this gateway speaks {PLUGIN_API_VERSION}"
        )
