"""``meters-integration-api demo``: plays every scripted ride and says whether each behaved."""

import asyncio

import aiohttp

from gateway.demo.finish_scenarios import FINISH_SCENARIOS
from gateway.demo.model import Scenario
from gateway.demo.player import ScenarioResult, play
from gateway.demo.report import scenario_report, summary
from gateway.demo.start_scenarios import START_SCENARIOS
from gateway.plugins.registry import VendorCatalog

SCENARIOS: tuple[Scenario, ...] = (*START_SCENARIOS, *FINISH_SCENARIOS)
EXIT_MISBEHAVED = 1
EXIT_NO_SCENARIO = 2


def run_demo(catalog: VendorCatalog, only: str | None = None) -> int:
    chosen = [s for s in SCENARIOS if only is None or only.lower() in s.name.lower()]
    if not chosen:
        print(f"no scenario name contains {only!r}")
        return EXIT_NO_SCENARIO
    results = asyncio.run(_play_all(chosen, catalog))
    print(summary(results), flush=True)
    return 0 if all(result.ok for result in results) else EXIT_MISBEHAVED


async def _play_all(scenarios: list[Scenario], catalog: VendorCatalog) -> list[ScenarioResult]:
    results = []
    async with aiohttp.ClientSession() as http:
        for number, scenario in enumerate(scenarios, start=1):
            try:
                result = await play(scenario, catalog, http)
            except Exception as error:  # one broken ride is reported and the others still play
                result = ScenarioResult(scenario, [], error=f"{type(error).__name__}: {error}")
            print(scenario_report(number, len(scenarios), result), "", sep="\n", flush=True)
            results.append(result)
    return results
