"""The four incidents of issue 22, each on its own loopback production watched by a real
Prometheus with the shipped rules: which alerts page, how soon after the fault, and how soon
after the recovery they clear; and, as each alert first fires, every query of its runbook, run
as written.

Run by ``make rehearse`` (about 14 minutes: the rules' windows are production's), one process per
incident; each writes its figures to ``REHEARSAL_SUMMARY`` for docs/operations.md's table."""

import asyncio
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.production.stream import eventually
from tests.rehearsal.runbooks import confirm_queries, null_fields, run_jq
from tests.rehearsal.world import World, running_world

# Rides flow this long before the fault: longer than a ride (world.RIDE_LENGTH_S), so finishes
# flow too; every rate has samples, every gauge its first value.
WARM_UP_S = 90.0
POLL_S = 1.0
# The longest an alert may take to page, and to clear after the recovery, before the run gives
# up on it (the before-figures of docs/operations.md's table are within these).
FIRE_CAP_S = 900.0
CLEAR_CAP_S = 720.0
# After the recovery the run watches at least this long: an alert that pages late (after the
# recovery) is what it is looking for too.
WATCH_AFTER_RECOVERY_S = 150.0
# A new deployment's ledger is young for 7 days; its info notice (for: 15m) is not an incident's.
NOT_AN_INCIDENT = {"MetersRideLedgerYoung"}

HOLD_TIMEOUT_S = 30.0
MONITEX_ENDPOINTS = ("POST /ride", "GET /rides/{rideId}", "PUT /rides/{rideId}")
ORDER_CORE_ENDPOINTS = (
    "POST /internal/processing/v1/order-proc/get-fields",
    "POST /internal/processing/v1/order-proc/set-fields",
)

Action = Callable[[World, aiohttp.ClientSession], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Expected:
    severity: str
    fires_within_s: float
    clears_within_s: float


@dataclass(frozen=True)
class Incident:
    name: str
    inject: Action
    recover: Action
    pages: dict[str, Expected]
    # A fault held this long (the Redis outage); None: held until every expected alert paged.
    hold_s: float | None = None
    # Alerts that may page beside the expected ones, each with why.
    may_also_page: dict[str, str] = field(default_factory=dict)


def _faulted(section: str, faults: list[dict[str, object]]) -> Action:
    """Inject these faults into one simulator (docs/simulators.md, ``POST /_sim/faults``)."""

    async def inject(world: World, http: aiohttp.ClientSession) -> None:
        for fault in faults:
            await world.fault(http, section, fault)

    return inject


def _cleared(section: str) -> Action:
    async def recover(world: World, http: aiohttp.ClientSession) -> None:
        await world.clear_faults(http, section)

    return recover


async def _kill_a_worker_process_mid_task(world: World, http: aiohttp.ClientSession) -> None:
    # Monitex answers every start in 2.5 s (within its 3 s timeout) until the kill, so a worker
    # process holds starts it has not acknowledged when it is SIGKILLed: their redelivery is
    # the incident.
    await world.fault(http, "monitex", {"endpoint": "POST /ride", "delay_ms": 2500})
    holding: list[int] = []

    async def one_holds_a_start() -> bool:
        for consumer, pid in world.worker_processes().items():
            if await world.pending_of(consumer) >= 1:
                holding.append(pid)
                return True
        return False

    await eventually(one_holds_a_start, HOLD_TIMEOUT_S, "a worker process holds a start")
    os.kill(holding[0], signal.SIGKILL)
    await world.clear_faults(http, "monitex")


async def _stop_redis(world: World, http: aiohttp.ClientSession) -> None:
    world.redis.stop()


async def _start_redis(world: World, http: aiohttp.ClientSession) -> None:
    world.redis.start()


async def _nothing(world: World, http: aiohttp.ClientSession) -> None:
    return None


INCIDENTS = [
    Incident(
        "monitex_503",
        _faulted("monitex", [{"endpoint": e, "status": 503} for e in MONITEX_ENDPOINTS]),
        _cleared("monitex"),
        pages={
            "MetersVendorErrors": Expected("critical", 180, 180),
            "MetersStartRideFallbacksHigh": Expected("warning", 420, 300),
            # Its finishes come a ride's length after the starts that fell back.
            "MetersFinishRideMeterMissing": Expected("warning", 480, 360),
        },
        may_also_page={
            "MetersFinishRideServerErrors": "the rides started before the outage finish with 502",
        },
    ),
    Incident(
        "worker_killed",
        _kill_a_worker_process_mid_task,
        _nothing,
        # Both notices look back 10 minutes (increase[10m]): they clear 10 minutes after.
        pages={
            "MetersWorkerRestarted": Expected("warning", 30, 660),
            "MetersStartRideRedelivered": Expected("warning", 120, 660),
        },
    ),
    Incident(
        "redis_down_61s",
        _stop_redis,
        _start_redis,
        hold_s=61.5,
        pages={"MetersBrokerDown": Expected("critical", 45, 30)},
        may_also_page={
            "MetersNoWorkerConsuming": "the consumers are gone while Redis is",
        },
    ),
    Incident(
        "order_core_slow",
        _faulted("order_core", [{"endpoint": e, "delay_ms": 800} for e in ORDER_CORE_ENDPOINTS]),
        _cleared("order_core"),
        pages={
            "MetersOrderCoreFailing": Expected("critical", 120, 60),
            "MetersFinishRideServerErrors": Expected("warning", 420, 330),
            "MetersUpstreamErrors": Expected("warning", 420, 330),
        },
        may_also_page={
            "MetersFinishRideMeterMissing": "the rides started during the outage (their start "
            "ended at the order read) finish with 409 meter_ride_not_found after it",
        },
    ),
]


@dataclass
class Watch:
    """When each alert was first and last seen firing, and how many times it paged: once per
    label set that started firing, again each time one started firing anew (a flapping alert
    pages each time)."""

    first: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    _firing: set[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=set)
    severity: dict[str, str] = field(default_factory=dict)
    runbooks: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def look(self, world: World, now: float) -> set[str]:
        firing = set()
        now_firing = set()
        for alert in await world.prometheus.firing():
            if alert.name in NOT_AN_INCIDENT:
                continue
            firing.add(alert.name)
            instance = (alert.name, tuple(sorted(alert.labels.items())))
            now_firing.add(instance)
            if instance not in self._firing:
                self.pages[alert.name] = self.pages.get(alert.name, 0) + 1
            if alert.name not in self.first:
                self.first[alert.name] = now
                # On-call runs the runbook when the page comes, not after the recovery.
                self.runbooks[alert.name] = await _run_runbook(world, alert.name)
            self.last[alert.name] = now
            self.severity[alert.name] = alert.severity
        self._firing = now_firing
        return firing


@pytest.mark.parametrize("incident", INCIDENTS, ids=lambda incident: incident.name)
async def test_the_incident_pages_soon_and_clears_with_the_recovery(
    incident: Incident, tmp_path: Path
) -> None:
    watch = Watch()
    async with running_world(tmp_path) as world, aiohttp.ClientSession() as http:
        rides = asyncio.create_task(world.drive(http))
        try:
            await asyncio.sleep(WARM_UP_S)
            assert await watch.look(world, 0.0) == set(), "an alert fired before the fault"
            fault_at = time.monotonic()
            await incident.inject(world, http)
            while True:
                elapsed = time.monotonic() - fault_at
                await watch.look(world, elapsed)
                if incident.hold_s is not None:
                    if elapsed >= incident.hold_s:
                        break
                elif set(incident.pages) <= set(watch.first) or elapsed > FIRE_CAP_S:
                    break
                await asyncio.sleep(POLL_S)
            await incident.recover(world, http)
            recovered_at = time.monotonic()
            while True:
                since = time.monotonic() - recovered_at
                firing = await watch.look(world, recovered_at - fault_at + since)
                watched = since >= WATCH_AFTER_RECOVERY_S
                if (watched and not firing) or since > CLEAR_CAP_S:
                    break
                await asyncio.sleep(POLL_S)
            held_s = recovered_at - fault_at
        finally:
            rides.cancel()
            await asyncio.gather(rides, return_exceptions=True)

    figures: dict[str, dict[str, Any]] = {
        name: {
            "severity": watch.severity[name],
            "fires_after_s": round(watch.first[name], 1),
            # Cleared at the first look after its last firing one.
            "clears_after_s": round(watch.last[name] - held_s + POLL_S, 1),
            "pages": watch.pages[name],
        }
        for name in sorted(watch.first)
    }
    summary = {
        "incident": incident.name,
        "fault_held_s": round(held_s, 1),
        "alerts": figures,
        "finish_answers": world.tally.answers,
        "ride_errors": world.tally.errors,
        "runbooks": watch.runbooks,
    }
    print(json.dumps(summary, indent=2))
    _keep(summary)

    unexpected = set(figures) - set(incident.pages) - set(incident.may_also_page)
    assert unexpected == set(), f"{incident.name} paged {sorted(unexpected)} too: {figures}"
    for name, expected in incident.pages.items():
        assert name in figures, f"{name} never paged in {incident.name}: {figures}"
        seen = figures[name]
        assert seen["severity"] == expected.severity, (name, seen)
        assert seen["pages"] == 1, f"{name} paged {seen['pages']} times: {seen}"
        assert seen["fires_after_s"] <= expected.fires_within_s, (name, seen)
        assert seen["clears_after_s"] <= expected.clears_within_s, (name, seen)
    for name, ran in watch.runbooks.items():
        assert ran["null_fields"] == [], f"{name}'s runbook jq prints null: {ran}"
        assert ran["empty_promql"] == [], f"{name}'s runbook PromQL finds no series: {ran}"
        assert ran["zero_rates"] == [], f"{name}'s runbook rates read all 0 while it fires: {ran}"


def _keep(summary: dict[str, object]) -> None:
    if "REHEARSAL_SUMMARY" in os.environ:
        Path(os.environ["REHEARSAL_SUMMARY"]).write_text(json.dumps(summary))


async def _run_runbook(world: World, alert: str) -> dict[str, Any]:
    """Every query of the alert's runbook, as written: PromQL on the Prometheus that paged,
    jq on the lines the processes wrote so far. A query either refuses fails the run; a
    runbook's rate that reads 0 everywhere while its alert fires (a series born with its first
    event, which rate() cannot see) is a runbook that misleads."""
    queries = confirm_queries(alert)
    lines = world.log_lines()
    promql = {query: await world.prometheus.query(query) for query in queries.promql}
    jq = {program: run_jq(program, lines) for program in queries.jq}
    return {
        "promql_values": {
            query: sorted(float(series["value"][1]) for series in result)
            for query, result in promql.items()
        },
        "empty_promql": sorted(query for query, result in promql.items() if not result),
        "zero_rates": sorted(
            query
            for query, result in promql.items()
            if ("rate(" in query or "increase(" in query)
            and result
            and all(float(series["value"][1]) == 0 for series in result)
        ),
        "jq_outputs": {program: len(outputs) for program, outputs in jq.items()},
        "null_fields": sorted(
            {key for program, outputs in jq.items() for key in null_fields(program, outputs)}
        ),
    }
