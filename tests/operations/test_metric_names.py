"""Every metric the rules, their unit tests and the dashboard read is one a live gateway or
worker exposes, so renaming a metric breaks the build instead of silencing an alert."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.operations.artifacts import (
    dashboard_queries,
    dashboard_variable_metrics,
    fed_series,
    metric_names,
    recorded_names,
    rules,
)
from tests.processes import HOST, free_port, serving
from tests.production.redis_server import RedisServer
from tests.production.workers import Workers

# The series a family of each type is scraped as (prometheus-client also writes ``_created``).
SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}
METRICS_FETCH_TIMEOUT_S = 10.0


def exposed_series(text: str) -> set[str]:
    """The series names a scrape of this text can hold, samples or not yet."""
    return {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in SERIES_SUFFIXES.get(family.type, ("",))
    }


async def fetch_metrics(url: str) -> str:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=METRICS_FETCH_TIMEOUT_S)) as http,
        http.get(url) as response,
    ):
        assert response.status == 200, url
        return await response.text()


@pytest.fixture
async def production_scrapes(
    settings_tree: dict[str, Any], tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """What a real ``serve`` and a real ``worker`` on a throwaway Redis expose."""
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
            yield (
                await fetch_metrics(gateway.base_url + "/metrics"),
                await fetch_metrics(f"http://{HOST}:{worker_port}/metrics"),
            )
    finally:
        await workers.close()
        await asyncio.to_thread(redis.stop)


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


def test_the_unit_tests_feed_raw_metrics_only() -> None:
    """A fed recording rule's output would be checked against nothing."""
    fed = set().union(*map(metric_names, fed_series()))

    assert fed & recorded_names() == set()
