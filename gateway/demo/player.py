"""Plays one scenario in a sandbox of its own and observes what each of its actions did."""

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from gateway.bootstrap.registry import VendorCatalog
from gateway.demo.model import (
    Action,
    FinishOutcome,
    FinishRide,
    Scenario,
    SimCall,
    StartOutcome,
    StartRide,
)
from gateway.demo.task_outcomes import counted_outcomes, outcome_since
from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH
from gateway.plugins.faults import RecordedCall
from gateway.sandbox.gateway_runner import RunningGateway, running_gateway
from gateway.sandbox.platform.client_notify import PUSH
from gateway.sandbox.platform.driver_orders_builder import UPDATE_LITE
from gateway.sandbox.world import (
    SimulatedWorld,
    settings_before_listening,
    settings_for,
    vendor_simulators,
)
from gateway.settings import Settings

DEMO_TOKENS = {"monitex": "demo-monitex-token", "optumplus": "demo-optumplus-token"}


def _shipped_settings(urls: Mapping[str, str]) -> dict[str, Any]:
    return settings_for(
        urls, monitex_token=DEMO_TOKENS["monitex"], optumplus_token=DEMO_TOKENS["optumplus"]
    )


@dataclass(frozen=True, slots=True)
class DemoSetup:
    """The settings routing a ride to the simulators it plays against; each vendor's simulator
    is built from its section of them."""

    settings_tree: Callable[[Mapping[str, str]], dict[str, Any]] = _shipped_settings
    """The gateway's settings tree for the simulators' URLs by section name."""


@dataclass(frozen=True, slots=True)
class Step:
    """One row of a ride's timeline."""

    at_ms: float | None
    """Since the action began; None for a summary row."""
    what: str
    service: str
    status: int | None
    ms: float | None
    outcome: str


@dataclass(frozen=True, slots=True)
class ActionResult:
    name: str
    steps: list[Step]
    expected: StartOutcome | FinishOutcome
    observed: StartOutcome | FinishOutcome

    @property
    def ok(self) -> bool:
        return self.expected == self.observed


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    scenario: Scenario
    actions: list[ActionResult]
    error: str = ""
    """Why the scenario could not be played to the end, if it could not."""

    @property
    def ok(self) -> bool:
        return not self.error and all(action.ok for action in self.actions)


class SetupFailed(Exception):
    pass


async def play(
    scenario: Scenario,
    catalog: VendorCatalog,
    http: aiohttp.ClientSession,
    setup: DemoSetup | None = None,
) -> ScenarioResult:
    setup = setup or DemoSetup()
    world = SimulatedWorld(
        vendor_simulators(catalog, settings_before_listening(setup.settings_tree, catalog))
    )
    for seed in (*scenario.earlier_rides, scenario.ride):
        world.seed_ride(seed)
    async with world.running() as urls:
        settings = _demo_settings(setup.settings_tree(urls), scenario.settings)
        async with running_gateway(settings, catalog) as gateway:
            stage = _Stage(scenario, world, urls, gateway, http)
            return ScenarioResult(
                scenario, [await stage.act(action) for action in scenario.actions]
            )


def _demo_settings(tree: dict[str, Any], overrides: Mapping[str, Any]) -> Settings:
    tree["server"] = {"port": 0}
    # model_validate, unlike the constructor, ignores METERS_* variables of the caller's shell.
    return Settings.model_validate(_merged(tree, overrides))


def _merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Stage:
    def __init__(
        self,
        scenario: Scenario,
        world: SimulatedWorld,
        urls: Mapping[str, str],
        gateway: RunningGateway,
        http: aiohttp.ClientSession,
    ) -> None:
        self._ride = scenario.ride
        self._world = world
        self._urls = urls
        self._gateway = gateway
        self._http = http

    async def act(self, action: Action) -> ActionResult:
        for call in action.setup:
            await self._control(call)
        self._world.forget_calls()
        if isinstance(action, StartRide):
            return await self._start(action)
        return await self._finish(action)

    async def _control(self, call: SimCall) -> None:
        url = self._urls[call.section] + call.path
        async with self._http.post(url, json=call.body) as response:
            if response.status >= 300:
                raise SetupFailed(f"{call.section} {call.path}: {await response.text()}")

    async def _start(self, action: StartRide) -> ActionResult:
        before = counted_outcomes()
        began, clock = time.time(), time.perf_counter()
        url = self._gateway.url + START_RIDE_PATH
        order_id = action.order_id or self._ride.order_id
        async with self._http.post(url, json={"order_id": order_id}) as response:
            status, body = response.status, await response.json()
        enqueued_ms = _since(clock)
        await self._gateway.wait_for_tasks()
        result, reason = outcome_since(before)
        calls = self._calls()
        setcars = [call for _, call in calls if call.endpoint == f"POST {UPDATE_LITE}"]
        order = self._world.order_core.order(order_id)["order"]
        observed = StartOutcome(
            result,
            reason,
            setcar=setcars[-1].body["changes"][-1]["value"] if setcars else None,
            pushed=any(call.endpoint == f"POST {PUSH}" for _, call in calls),
            stored="external_meter_ride_id" in order,
        )
        steps = [
            Step(0, "start-ride", "gateway", status, enqueued_ms, _enqueue_outcome(body)),
            *_call_steps(calls, began),
            Step(None, "start-ride task", "gateway", None, _since(clock), f"{result} ({reason})"),
        ]
        return ActionResult("start-ride", steps, action.expect, observed)

    async def _finish(self, action: FinishRide) -> ActionResult:
        headers = self._ride.driver_headers() if action.headers is None else dict(action.headers)
        body = action.raw_body or json.dumps(
            {
                "order_id": action.alias_id or self._ride.alias_id,
                "user_price": action.price,
                "driver_price": action.price
                if action.driver_price is None
                else action.driver_price,
            }
        )
        began, clock = time.time(), time.perf_counter()
        async with self._http.post(
            self._gateway.url + FINISH_RIDE_PATH,
            data=body,
            headers={**headers, "Content-Type": "application/json"},
        ) as response:
            status, answer_body = response.status, await response.json()
        ms = _since(clock)
        answer = answer_body.get("code") or f"price {answer_body.get('price')}"
        calls = self._calls()
        observed = FinishOutcome(
            status, answer, vendor_called=any(name in self._world.vendors for name, _ in calls)
        )
        steps = [
            Step(0, "finish-ride", "gateway", status, ms, answer),
            *_call_steps(calls, began),
        ]
        return ActionResult("finish-ride", steps, action.expect, observed)

    def _calls(self) -> list[tuple[str, RecordedCall]]:
        """Every call the simulators received since the action began, in order of arrival."""
        calls = [
            (name, call)
            for name, simulator in self._world.simulators().items()
            for call in simulator.calls.all()
        ]
        return sorted(calls, key=lambda named: named[1].received_at)


def _call_steps(calls: list[tuple[str, RecordedCall]], began: float) -> list[Step]:
    return [
        Step(
            (call.received_at - began) * 1000,
            call.endpoint,
            name,
            call.status,
            call.duration_ms,
            _call_outcome(call),
        )
        for name, call in calls
    ]


def _enqueue_outcome(body: Mapping[str, Any]) -> str:
    task_id = body.get("task_id")
    return f"enqueued, task {str(task_id)[:8]}" if task_id else f"refused: {body.get('code')}"


def _call_outcome(call: RecordedCall) -> str:
    if call.fault:
        return f"injected: {call.fault}"
    if call.status is None:
        return "no answer: the gateway gave up first"
    return "ok" if call.status < 400 else "error"


def _since(clock: float) -> float:
    return (time.perf_counter() - clock) * 1000
