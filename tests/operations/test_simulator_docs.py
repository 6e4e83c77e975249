"""docs/simulators.md names every endpoint of the shipped simulators exactly, and no other."""

import re
from typing import Any

from aiohttp import web

from gateway.bootstrap.registry import discover_vendor_plugins
from gateway.sandbox.world import SimulatedWorld, vendor_simulators
from gateway.sandbox.world_control import world_control_app
from tests.gateway_world import configured_as
from tests.operations.artifacts import ROOT

SIMULATORS_DOC = ROOT / "docs" / "simulators.md"
SHIPPED_VENDORS = ("monitex", "optumplus")
ENDPOINT = re.compile(r"`(GET|POST|PUT|DELETE) (/[^` ]*)`")


def routes_of(router: web.UrlDispatcher) -> set[str]:
    return {
        f"{route.method} {route.resource.canonical}"
        for route in router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


def test_the_simulators_page_names_every_endpoint_and_only_real_ones() -> None:
    catalog = discover_vendor_plugins()
    sections: dict[str, dict[str, Any]] = {name: {"token": "token"} for name in SHIPPED_VENDORS}
    world = SimulatedWorld(vendor_simulators(catalog, configured_as(catalog, sections)))
    served = routes_of(world_control_app(world, {}).router)
    for simulator in world.simulators().values():
        served |= routes_of(simulator.build_app().router)

    documented = {
        f"{method} {path}" for method, path in ENDPOINT.findall(SIMULATORS_DOC.read_text())
    }

    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
