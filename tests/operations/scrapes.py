"""What a live process's ``/metrics`` holds: fetched, and read as the series names a
Prometheus scraping it can hold."""

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

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
