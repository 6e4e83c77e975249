"""Shared fixtures: a simulated platform on real ports and a gateway wired to it
(their types and constants: ``tests.gateway_world``); and the session's check that the run
leaves no process behind (``tests.left_behind``)."""

import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.bootstrap.process import compose
from gateway.bootstrap.registry import VendorCatalog, discover_vendor_plugins
from gateway.http.app import build_app
from gateway.sandbox.world import settings_for
from gateway.settings import Settings
from tests.gateway_world import (
    MONITEX_TOKEN,
    OPTUMPLUS_TOKEN,
    Gateway,
    GatewayFactory,
    RunningWorld,
    ShippedWorld,
)
from tests.left_behind import left_behind, mark_session
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_cancellable_monitex

# The on-call rehearsal needs tens of minutes of real time (its alerts' windows are production's):
# `make rehearse` runs it (REHEARSE=1), `make test` does not collect it.
collect_ignore = [] if os.environ.get("REHEARSE") == "1" else ["rehearsal"]

# Processes the run leaves behind fail it, named in the summary (tests/left_behind.py).
_LEFT_BEHIND = pytest.StashKey[list[str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    mark_session()


def pytest_collection_finish(session: pytest.Session) -> None:
    # The ~190,000 objects the imports and the collection made live for the whole run: frozen,
    # the collector no longer walks them. Walked, a full collection of the run's ~330,000
    # took 230-400 ms late in a run, past the conformance kit's 300 ms vendor timeout, which a
    # transport-fault test then lost (measured with gc.callbacks).
    gc.collect()
    gc.freeze()


def pytest_sessionfinish(session: pytest.Session) -> None:
    leftovers = [str(process) for process in left_behind()]
    session.config.stash[_LEFT_BEHIND] = leftovers
    if leftovers:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    leftovers = config.stash.get(_LEFT_BEHIND, [])
    if leftovers:
        terminalreporter.section("processes left behind", red=True)
        for leftover in leftovers:
            terminalreporter.write_line(leftover)


@pytest.fixture
async def world() -> AsyncIterator[RunningWorld]:
    sims = ShippedWorld()
    async with sims.running() as urls:
        yield RunningWorld(sims, urls)


@pytest.fixture
def settings_tree(world: RunningWorld) -> dict[str, Any]:
    """The gateway's settings as a TOML file would give them; a test may edit it before use."""
    return settings_for(world.urls, monitex_token=MONITEX_TOKEN, optumplus_token=OPTUMPLUS_TOKEN)


@pytest.fixture
def make_gateway(
    settings_tree: dict[str, Any],
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> GatewayFactory:
    async def make(catalog: VendorCatalog | None = None) -> Gateway:
        settings = Settings(**settings_tree)
        process = compose(settings, catalog or discover_vendor_plugins())
        client = await aiohttp_client(build_app(process))
        return Gateway(client, process.broker)

    return make


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway()


@pytest.fixture
async def cancellable_gateway(
    settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> Gateway:
    """A gateway whose Israeli vendor is Monitex that can also cancel a ride it started."""
    settings_tree["countries"]["IL"]["vendor"] = "cancellable_monitex"
    settings_tree["vendors"]["cancellable_monitex"] = settings_tree["vendors"]["monitex"]
    CancellableMonitex.cancelled.clear()
    return await make_gateway(catalog_with_cancellable_monitex())
