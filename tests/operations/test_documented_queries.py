"""Every PromQL query the README, docs/operations.md and docs/production.md write runs, as
written, on a real Prometheus (the shipped rule files loaded, scraping every second) watching
live processes: a Redis, the ``simulators``, one ``serve`` gateway and a ``worker`` host of two
processes (tests/rehearsal/world.py's loopback production), through which a few rides went —
priced, fallen back, refused by order-core and by the vendor, a stale meter ride — besides a
dead letter and a killed worker process. A query against a misspelt or removed metric, or a
label value nothing has, fails here naming the query, its document and its section.

Each query must execute; each selector in it must find series. A query as a whole may
legitimately be empty (a ratio of errors, or a rate whose window saw no increase at the moment
it runs); its selectors finding series is what says it reads what the processes export.

Every jq log filter the docs write runs, as written (its placeholders filled with the run's
ids), on the JSON lines those processes wrote: it must find lines, and print no field its
closing ``{…}`` names as null. Every Redis command they write runs through ``redis-cli`` on
that Redis and prints what its line says it shows."""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import redis
import redis.asyncio
from prometheus_client.parser import text_string_to_metric_families

from gateway.settings import BrokerSettings
from tests.operations.artifacts import recorded_names, selectors
from tests.operations.documented import (
    Written,
    documented_jq_filters,
    documented_promql,
    documented_redis_commands,
)
from tests.operations.scrapes import exposed_series, fetch_metrics
from tests.processes import HOST
from tests.production.rides import start_ride_message
from tests.production.stream import StreamProbe, eventually
from tests.rehearsal.runbooks import null_fields, run_jq
from tests.rehearsal.world import World, ride_seed, running_world

pytestmark = pytest.mark.timeout(180)

QUERIED = {"README.md", "operations.md", "production.md"}
# Scraped and evaluated this often: a fresh sample of every event within a second or two.
INTERVAL = "1s"
THROTTLED_REDELIVERY_MS = 3000
EVENT_TIMEOUT_S = 30.0
SERIES_TIMEOUT_S = 30.0
MONITEX_START = "POST /ride"
MONITEX_STOP = "PUT /rides/{rideId}"
ORDER_CORE_READ = "POST /internal/processing/v1/order-proc/get-fields"
# Over start-ride's 128 characters: the worker sets it aside at its first delivery.
DEAD_LETTER_ORDER_ID = "hand-added-" + "x" * 120
# The shipped vendors refuse no start for a business reason; the example vendor does (a driver
# with a trip running is `driver_busy`): routed to Germany, its refusal feeds
# meters_vendor_refusals_total.
GERMANY = {"zone": "berlin", "id_document_type": "national_id_deu"}
# Events no input or fault makes a correct process write, each with why: its filter is only
# compiled, and the test is skipped saying so.
CANNOT_PRODUCE = {
    "finish_ride.crashed": "a bug in the gateway itself (an exception outside the refusal "
    "table and the vendor's errors); no request or simulator fault makes a correct gateway "
    "write it",
}
REDIS_CLI_TIMEOUT_S = 30.0
# Claims an earlier release wrote, its ride id joined bare (docs/operations.md "Upgrading to
# encoded keys"): one holding `:`, one holding `%`, one holding neither.
UNENCODED_CLAIMS = {
    ":": "meters:ride_ledger:monitex:ride:1",
    "%": "meters:ride_ledger:monitex:ride%1",
    "": "meters:ride_ledger:monitex:ride-1",
}
# What docs/operations.md says each listing pattern finds: the claims whose ride id holds it.
SCAN_FINDS = {"meters:ride_ledger:*:*:*": ":", "meters:ride_ledger:*%*": "%"}
_OFFSET = re.compile(r"\s+offset\s+-?[0-9a-z]+$")
# `metric{label, label}`: prose naming a metric and its labels, not a selector.
_LABELLED = re.compile(r"(\w+)\{(\w+(?:, ?\w+)*)\}")


@dataclass(frozen=True)
class Live:
    """What the live run left: its world (Prometheus and the processes' logs among it), the
    metric families (by type) and series names its processes export, and the ids the docs'
    jq placeholders stand for."""

    world: World
    families: dict[str, str]
    series: set[str]
    placeholders: dict[str, str]


def queries() -> list[Written]:
    return [query for query in documented_promql() if query.document in QUERIED]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    workdir: Path = tmp_path_factory.mktemp("documented-queries")
    async with (
        running_world(workdir, gateways=1, interval=INTERVAL, adjust=_with_germany) as world,
        aiohttp.ClientSession() as http,
    ):
        placeholders = await _play(world, http)
        gateway = world.gateways[0].base_url
        texts = [
            await fetch_metrics(gateway + "/metrics"),
            await fetch_metrics(f"http://{HOST}:{world.tree['worker']['metrics_port']}/metrics"),
        ]
        families = {
            family.name: family.type
            for text in texts
            for family in text_string_to_metric_families(text)
        }
        series = set().union(*map(exposed_series, texts))
        yield Live(world, families, series, placeholders)


def _with_germany(tree: dict[str, Any]) -> None:
    # A run left unacknowledged (a throttled start) is delivered again within seconds, not the
    # shipped minute.
    tree["broker"] = {**tree.get("broker", {}), "redelivery_timeout_ms": THROTTLED_REDELIVERY_MS}
    tree["zones"]["berlin"] = "DE"
    tree["countries"]["DE"] = {"vendor": "taxameter", "id_document_type": "national_id_deu"}
    tree["vendors"]["taxameter"] = {"token": "documented-taxameter-token", "fleet_id": "north"}


async def _play(world: World, http: aiohttp.ClientSession) -> dict[str, str]:
    """The rides and incidents whose series and log lines the docs' queries read; what each
    jq placeholder stands for: `"A"` a ride's alias id, `"…"` a dead letter's order id."""
    priced = await _ride(world, http, "priced", driver=1)
    # A stop slower than 500 ms (within Monitex's 3 s timeout): MetersFinishRideSlow's calls.
    await world.fault(http, "monitex", {"endpoint": MONITEX_STOP, "delay_ms": 600, "times": 1})
    assert await _finish(world, http, priced) == (200, "")
    # Both asks of the start (an idempotent vendor is asked twice) answer 503: a fallback.
    fallen = await _ride(
        world,
        http,
        "fallback",
        driver=2,
        reason="vendor_start_failed",
        faults=[("monitex", {"endpoint": MONITEX_START, "status": 503, "times": 2})],
    )
    assert await _finish(world, http, fallen) == (409, "meter_ride_not_found")
    # docs/operations.md's recipe: order-core fails the finish's read, the meter ride stays
    # open, and the next order of that driver and car is answered that ride.
    left_open = await _ride(world, http, "left-open", driver=3)
    await world.fault(http, "order_core", {"endpoint": ORDER_CORE_READ, "status": 500, "times": 1})
    assert await _finish(world, http, left_open) == (502, "order_core_error")
    await _ride(world, http, "stale", driver=3, reason="stale_meter_ride")
    vendor_failed = await _ride(world, http, "vendor-failed", driver=4)
    await world.fault(http, "monitex", {"endpoint": MONITEX_STOP, "status": 503, "times": 1})
    assert await _finish(world, http, vendor_failed) == (502, "vendor_error")
    # Monitex throttles a start once: the run is left for its redelivery, which starts it.
    throttled = await _ride(
        world,
        http,
        "throttled",
        driver=6,
        reason="vendor_rate_limited",
        faults=[("monitex", {"endpoint": MONITEX_START, "status": 429, "times": 1})],
    )
    await eventually(
        lambda: _logged(world, "start_ride.finished", order_id=throttled["order_id"], reason="ok"),
        EVENT_TIMEOUT_S,
        "the redelivery of the throttled start starts it",
    )
    await _ride(world, http, "germany", driver=5, zone=GERMANY)
    await _ride(world, http, "germany-busy", driver=5, reason="vendor_refused", zone=GERMANY)
    await _dead_letter(world)
    await _kill_a_worker_process(world)
    await _enqueue_while_redis_hangs(world, http)
    await _every_task_has_run(world)
    return {'"A"': json.dumps(priced["alias_id"]), '"…"': json.dumps(DEAD_LETTER_ORDER_ID)}


async def _every_task_has_run(world: World) -> None:
    """The stream empty and nothing pending: the enqueue Redis did not answer in time may
    still have landed once it resumed (docs/production.md), and its task run after."""
    client = redis.asyncio.Redis.from_url(world.redis.url)
    probe = StreamProbe(client, BrokerSettings(**world.tree["broker"]).queue_name)
    try:

        async def drained() -> bool:
            return await probe.is_empty() and not await probe.pending()

        await eventually(drained, EVENT_TIMEOUT_S, "every task has run")
    finally:
        await client.aclose()


async def _ride(
    world: World,
    http: aiohttp.ClientSession,
    name: str,
    driver: int,
    reason: str = "ok",
    faults: Sequence[tuple[str, dict[str, Any]]] = (),
    zone: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Seed a ride (in Israel unless ``zone`` says where), inject the faults, start it and wait
    until the worker has run its task to this reason."""
    seed = {**ride_seed(f"documented-{name}", driver=driver), **(zone or {})}
    seed["headers"] = await world.seed(http, seed)
    for section, fault in faults:
        await world.fault(http, section, fault)
    assert await world.start(http, world.gateways[0], seed["order_id"]) == 202
    await eventually(
        lambda: _logged(world, "start_ride.finished", order_id=seed["order_id"], reason=reason),
        EVENT_TIMEOUT_S,
        f"the worker ran {seed['order_id']} to {reason}",
    )
    return seed


async def _finish(
    world: World, http: aiohttp.ClientSession, seed: dict[str, Any]
) -> tuple[int, str]:
    return await world.finish(http, world.gateways[0], seed["alias_id"], seed["headers"])


def _logged(world: World, event: str, **fields: object) -> bool:
    for line in world.log_lines():
        record = json.loads(line)
        if record.get("event") == event and all(record.get(k) == v for k, v in fields.items()):
            return True
    return False


async def _dead_letter(world: World) -> None:
    """An entry another producer added with an order id start-ride would refuse: set aside
    without running (docs/production.md)."""
    message = start_ride_message("hand-added-1", DEAD_LETTER_ORDER_ID)
    client = redis.asyncio.Redis.from_url(world.redis.url)
    try:
        stream = BrokerSettings(**world.tree["broker"]).queue_name
        await client.xadd(stream, {"data": message})
    finally:
        await client.aclose()
    await eventually(
        lambda: _logged(world, "broker.dead_lettered", order_id=DEAD_LETTER_ORDER_ID),
        EVENT_TIMEOUT_S,
        "the worker sets the entry aside",
    )


async def _kill_a_worker_process(world: World) -> None:
    """SIGKILL one of the worker host's processes: its supervisor restarts it."""
    [(_, pid), *_] = world.worker_processes().items()
    os.kill(pid, signal.SIGKILL)
    await eventually(
        lambda: _logged(world, "worker.process_died", pid=pid),
        EVENT_TIMEOUT_S,
        "the supervisor sees its process die",
    )
    await eventually(
        lambda: len(world.worker_processes()) == 3, EVENT_TIMEOUT_S, "the supervisor restarts it"
    )


async def _enqueue_while_redis_hangs(world: World, http: aiohttp.ClientSession) -> None:
    """A start-ride whose enqueue Redis does not answer within its 1 s: 503, and the
    gateway's ``start_ride.enqueue_failed`` line."""
    order_id = "documented-enqueue-failed"
    world.redis.freeze()
    try:
        assert await world.start(http, world.gateways[0], order_id) == 503
    finally:
        world.redis.resume()


@pytest.mark.parametrize("query", queries(), ids=str)
@pytest.mark.asyncio(loop_scope="module")
async def test_a_documented_query_runs_on_prometheus_and_reads_exported_series(
    live: Live, query: Written
) -> None:
    labelled = _LABELLED.fullmatch(query.text)
    promql = labelled.group(1) if labelled else query.text
    answer = await live.world.prometheus.answer(promql)
    assert answer["status"] == "success", f"{query}: Prometheus refuses it: {answer}"

    for selector in selectors(promql):
        name = selector.name
        if _is_family(live, promql, name):
            # A table's bare family name (a histogram's): it names the metric, and has no
            # series of its own; its _bucket, _count and _sum are what queries read.
            continue
        assert name in live.series or name in recorded_names(), (
            f"{query}: selects {name}, which no live process exports"
        )
        # An offset reaches back before the live run began (a runbook's "first seen in the
        # last 10 m" reads 10 m back): the series it names are the ones it finds without it.
        present = _OFFSET.sub("", str(selector))
        found = await _series(live, present, f"{query}: series for {present}")
        if labelled:
            labels = {label.strip() for label in labelled.group(2).split(",")}
            carried = set().union(*(series["metric"] for series in found))
            assert labels <= carried, f"{query}: its series carry no {sorted(labels - carried)}"


async def _series(live: Live, promql: str, what: str) -> list[dict[str, Any]]:
    """The series the selector finds, once Prometheus has scraped some; fails after
    ``SERIES_TIMEOUT_S`` without."""
    found: list[dict[str, Any]] = []

    async def finds_series() -> bool:
        found[:] = await live.world.prometheus.query(promql)
        return bool(found)

    await eventually(finds_series, SERIES_TIMEOUT_S, what)
    return found


def _is_family(live: Live, query: str, name: str) -> bool:
    return query == name and live.families.get(name) in {"histogram", "summary"}


def test_the_docs_write_the_queries_on_call_runs() -> None:
    """The extraction finds the runbooks' queries, those of the alerts the rehearsal does not
    play among them."""
    written = {query.text for query in queries()}

    assert "max(instance:meters_broker_dead_letter_stream_length:last_read)" in written
    assert "min(meters_ride_ledger_age_seconds)" in written
    assert "sum by (vendor, country) (increase(meters_stale_meter_rides_total[1h]))" in written
    assert len(written) >= 30, sorted(written)


@pytest.mark.parametrize("program", documented_jq_filters(), ids=str)
def test_a_documented_jq_filter_finds_its_lines_in_the_live_logs(
    live: Live, program: Written
) -> None:
    """Run as ``jq -c`` over every JSON line the gateway and the worker host wrote: it yields
    something, and no field its closing ``{…}`` names is null on what it yields."""
    written = program.text.removeprefix("jq ").removeprefix("-c ").strip("'")
    for placeholder, value in live.placeholders.items():
        written = written.replace(placeholder, value)
    unproducible = [why for event, why in CANNOT_PRODUCE.items() if f'"{event}"' in written]
    if unproducible:
        assert run_jq(written, []) == [], str(program)
        pytest.skip(f"compiled only: {unproducible[0]}")

    outputs = run_jq(written, live.world.log_lines())

    assert outputs, f"{program}: no line of the live run matches"
    assert null_fields(written, outputs) == set(), f"{program}: prints null for them"


@pytest.mark.parametrize("command", documented_redis_commands(), ids=str)
def test_a_documented_redis_command_runs_on_the_live_redis(live: Live, command: Written) -> None:
    """Through ``redis-cli``, on the run's Redis (a line that names no host and port is
    pointed at it); what each prints is what its line says it shows."""
    words = shlex.split(command.text)
    words = words[1:] if words[0] == "redis-cli" else words
    if "sentinel" in words:
        pytest.skip("needs a Sentinel, which this run has none of; Sentinel itself is played by "
                    "tests/production/test_sentinel_failover.py")  # fmt: skip
    redis_server = live.world.redis
    queue = BrokerSettings(**live.world.tree["broker"]).queue_name
    filled = {"HOST": HOST, "PORT": str(redis_server.port), "<queue_name>": queue, "<queue>": queue}
    words = [filled.get(word, word) for word in words]
    connection = [] if "-h" in words else ["-h", HOST, "-p", str(redis_server.port)]
    # A Redis command (`XLEN …`): its reply as a terminal shows it, an error as "(error) …".
    mode = ["--no-raw"] if words[0].isupper() else []
    pattern = words[words.index("--pattern") + 1] if "--pattern" in words else None
    if pattern is not None:
        _with_claims(redis_server.url)

    printed = _redis_cli([*mode, *connection, *words]).splitlines()

    assert printed, f"{command}: printed nothing"
    assert not printed[0].startswith("(error)"), f"{command}: {printed}"
    if "ping" in words:
        assert printed == ["PONG"], f"{command}: {printed}"
    elif "replication" in words:
        assert "role:master" in printed, f"{command}: {printed}"
    elif "--latency" in words:
        # min, max, average (ms) and the samples taken
        assert re.fullmatch(r"\d+ \d+ [\d.]+ \d+", printed[0]), f"{command}: {printed}"
    elif pattern is not None:
        assert printed == [UNENCODED_CLAIMS[SCAN_FINDS[pattern]]], f"{command}: {printed}"
    elif "XLEN" in words:
        assert re.fullmatch(r"\(integer\) \d+", printed[0]), f"{command}: {printed}"
    else:
        # XPENDING of the consumer group: every task has run, none is pending.
        assert words[:2] == ["XPENDING", queue], command
        assert printed == ["(empty array)"], f"{command}: {printed}"


def _with_claims(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for key in UNENCODED_CLAIMS.values():
            client.set(key, "order-of-an-earlier-release")
    finally:
        client.close()


def _redis_cli(words: list[str]) -> str:
    binary = shutil.which("redis-cli")
    assert binary is not None, "redis-cli is not installed (Debian: apt-get install redis-tools)"
    ran = subprocess.run(
        [binary, *words], capture_output=True, text=True, timeout=REDIS_CLI_TIMEOUT_S, check=False
    )
    assert ran.returncode == 0, f"redis-cli {words}: {ran.stderr}"
    return ran.stdout
