"""Reading a gateway's ``/metrics`` (Prometheus text format) without a parser of its own."""

import aiohttp


async def scrape(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as response:
        response.raise_for_status()
        return await response.text()


def sample_total(text: str, name: str, **labels: str) -> float:
    """The sum of sample ``name`` over the label sets that include ``labels``."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line[len(name) : len(name) + 1] not in ("{", " "):
            continue
        series, _, value = line.rpartition(" ")
        if all(label in series for label in wanted):
            total += float(value)
    return total
