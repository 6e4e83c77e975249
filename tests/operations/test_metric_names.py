"""Every metric the rules, their unit tests and the dashboard read is one a live gateway or
worker exposes, with the labels they match and group on, so renaming a metric or a label breaks
the build instead of silencing an alert."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH
from gateway.sandbox.world import RideSeed
from tests.gateway_world import RunningWorld
from tests.operations.artifacts import (
    dashboard_queries,
    dashboard_variable_metrics,
    every_query,
    fed_series,
    metric_names,
    recorded_names,
    rules,
    used_labels,
)
from tests.operations.scrapes import exposed_series, fetch_metrics
from tests.processes import HOST, free_port, serving
from tests.production.redis_server import RedisServer
from tests.production.rides import meter_flag
from tests.production.stream import eventually
from tests.production.workers import Workers

RIDE_TIMEOUT_S = 15.0
# Labels Prometheus adds to every series it scrapes.
TARGET_LABELS = {"job", "instance"}
RIDE = RideSeed(order_id="order-metric-names", alias_id="alias-metric-names")


def sample_labels(text: str) -> dict[str, set[str]]:
    """The label names each sampled series name carries in this scrape."""
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return found


@pytest.fixture
async def production_scrapes(
    world: RunningWorld, settings_tree: dict[str, Any], tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """What a real ``serve`` and a real ``worker`` on a throwaway Redis expose once one ride
    has started (through the queue) and finished."""
    redis = RedisServer(tmp_path)
    redis.start()
    worker_port = free_port()
    tree = {
        **settings_tree,
        "broker": {"url": redis.url, "queue_name": "meters-metric-names"},
        "worker": {"processes": 1, "metrics_host": HOST, "metrics_port": worker_port},
    }
    workers = Workers(tree, tmp_path)
    try:
        await workers.start("worker")
        async with serving(tree, tmp_path) as gateway:
            await ride_once(gateway.base_url, world)
            yield (
                await fetch_metrics(gateway.base_url + "/metrics"),
                await fetch_metrics(f"http://{HOST}:{worker_port}/metrics"),
            )
    finally:
        await workers.close()
        await asyncio.to_thread(redis.stop)


async def ride_once(gateway_url: str, world: RunningWorld) -> None:
    world.sims.seed_ride(RIDE)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            gateway_url + START_RIDE_PATH, json={"order_id": RIDE.order_id}
        ) as started:
            assert started.status == 202
        await eventually(
            lambda: meter_flag(world.sims, RIDE) == "true", RIDE_TIMEOUT_S, "the worker ran it"
        )
        async with http.post(
            gateway_url + FINISH_RIDE_PATH,
            json={"order_id": RIDE.alias_id, "user_price": 42.24, "driver_price": 42.24},
            headers=RIDE.driver_headers(),
        ) as finished:
            assert finished.status == 200


async def test_everything_the_rules_and_the_dashboard_read_is_exposed(
    production_scrapes: tuple[str, str],
) -> None:
    gateway_text, worker_text = production_scrapes
    exposed = exposed_series(gateway_text) | exposed_series(worker_text)
    read: dict[str, set[str]] = {
        "the rules": set().union(*(metric_names(rule["expr"]) for rule in rules())),
        "the rule unit tests' input_series": set().union(*map(metric_names, fed_series())),
        "the dashboard": set().union(*map(metric_names, dashboard_queries().values()))
        | dashboard_variable_metrics(),
    }

    missing = {where: sorted(names - exposed - recorded_names()) for where, names in read.items()}

    assert missing == {where: [] for where in read}, "\n".join(
        f"read by {where} but exposed by neither a live gateway nor a live worker: {names}"
        for where, names in missing.items()
    )


async def test_the_labels_the_queries_use_are_on_the_live_samples(
    production_scrapes: tuple[str, str],
) -> None:
    """Checked on every series one ride leaves samples of (a labelled series with no sample yet
    shows no labels): outcomes, calls and durations."""
    sampled: dict[str, set[str]] = {}
    for text in production_scrapes:
        for name, labels in sample_labels(text).items():
            sampled.setdefault(name, set()).update(labels)
    used: dict[str, set[str]] = {}
    for query in every_query():
        for name, labels in used_labels(query).items():
            used.setdefault(name, set()).update(labels - TARGET_LABELS)

    unknown = {
        name: sorted(labels - sampled[name])
        for name, labels in used.items()
        if name in sampled and labels - sampled[name]
    }

    assert unknown == {}, f"labels the queries use but the live series lack: {unknown}"
    assert {"meters_rides_started_total", "meters_rides_finished_total"} <= sampled.keys()


def test_the_unit_tests_feed_raw_metrics_only() -> None:
    """A fed recording rule's output would be checked against nothing."""
    fed = set().union(*map(metric_names, fed_series()))

    assert fed & recorded_names() == set()
