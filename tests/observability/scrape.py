"""Reading Prometheus text the way a scraper does, and comparing two scrapes."""

from collections import Counter
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]


def samples(text: str, sample_name: str) -> dict[Labels, float]:
    """Every sample of that exact name (e.g. ``x_total`` or ``x_seconds_count``) by its labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == sample_name
    }


def increase(before: str, after: str, sample_name: str) -> Counter[Labels]:
    """How much each labelled sample grew between two scrapes; unchanged ones are left out."""
    old = samples(before, sample_name)
    grown: Counter[Labels] = Counter()
    for labels, value in samples(after, sample_name).items():
        if value != old.get(labels, 0.0):
            grown[labels] = int(value - old.get(labels, 0.0))
    return grown


def labels(**values: str) -> Labels:
    return tuple(sorted(values.items()))


async def scrape(client: TestClient[Any, Any]) -> str:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return await response.text()
