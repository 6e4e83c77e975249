"""``meters-integration-api demo``: plays every scripted ride (or, with ``--config``, generic
rides for the vendors a settings file routes to) and says whether each behaved."""

import asyncio

import aiohttp

from gateway.bootstrap.registry import VendorCatalog
from gateway.demo.finish_scenarios import FINISH_SCENARIOS
from gateway.demo.generic_rides import NotPlayable, configured_setup, generic_scenarios
from gateway.demo.model import Scenario
from gateway.demo.player import DemoSetup, ScenarioResult, play
from gateway.demo.report import scenario_report, summary
from gateway.demo.start_scenarios import START_SCENARIOS
from gateway.settings import Settings

SCENARIOS: tuple[Scenario, ...] = (*START_SCENARIOS, *FINISH_SCENARIOS)
EXIT_MISBEHAVED = 1
EXIT_NO_SCENARIO = 2


def run_demo(catalog: VendorCatalog, only: str | None = None) -> int:
    chosen = [s for s in SCENARIOS if only is None or only.lower() in s.name.lower()]
    if not chosen:
        print(f"no scenario name contains {only!r}")
        return EXIT_NO_SCENARIO
    return _report(asyncio.run(_play_all(chosen, catalog, DemoSetup())))


def run_configured_demo(settings: Settings, catalog: VendorCatalog, only: str | None = None) -> int:
    """Generic rides for every vendor the settings route a country to; exit 1 if any misbehaved
    or a routed vendor cannot be played."""
    found = generic_scenarios(settings, catalog)
    unplayable = [entry for entry in found if isinstance(entry, NotPlayable)]
    chosen = [
        entry
        for entry in found
        if isinstance(entry, Scenario) and (only is None or only.lower() in entry.name.lower())
    ]
    for problem in unplayable:
        print(f"cannot play {problem}")
    if not chosen:
        print("no ride to play" + (f" whose name contains {only!r}" if only else ""))
        return EXIT_MISBEHAVED if unplayable else EXIT_NO_SCENARIO
    code = _report(asyncio.run(_play_all(chosen, catalog, configured_setup(settings))))
    return EXIT_MISBEHAVED if unplayable else code


def _report(results: list[ScenarioResult]) -> int:
    print(summary(results), flush=True)
    return 0 if all(result.ok for result in results) else EXIT_MISBEHAVED


async def _play_all(
    scenarios: list[Scenario], catalog: VendorCatalog, setup: DemoSetup
) -> list[ScenarioResult]:
    results = []
    async with aiohttp.ClientSession() as http:
        for number, scenario in enumerate(scenarios, start=1):
            try:
                result = await play(scenario, catalog, http, setup)
            except Exception as error:  # one broken ride is reported and the others still play
                result = ScenarioResult(scenario, [], error=f"{type(error).__name__}: {error}")
            print(scenario_report(number, len(scenarios), result), "", sep="\n", flush=True)
            results.append(result)
    return results
