"""Closed-loop load generator: N connections each sending the next request when the last returns.

Runs in a process of its own (``drive`` starts it), sends finish-ride's request to a loopback
URL, is bounded by a duration and a request count, and prints one LoadResult as JSON. A warm-up
phase opens the connections and is not counted.

    python -m bench.loadgen URL --concurrency 32 --duration 10 --max-requests 200000
"""

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass

import aiohttp

from bench import canned
from bench.procs import REPO


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    warmup_requests: int
    non_200: int
    statuses: dict[str, int]
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = min(max(1, math.ceil(fraction * len(sorted_values))), len(sorted_values))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class _Load:
    url: str
    body: bytes
    headers: dict[str, str]
    concurrency: int


async def _connection(
    http: aiohttp.ClientSession,
    load: _Load,
    until: float,
    budget: list[int],
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    while budget[0] > 0 and time.perf_counter() < until:
        budget[0] -= 1
        started = time.perf_counter()
        async with http.post(load.url, data=load.body, headers=load.headers) as response:
            await response.read()
        latencies.append(time.perf_counter() - started)
        statuses[response.status] += 1


async def _phase(
    http: aiohttp.ClientSession, load: _Load, seconds: float, max_requests: int
) -> tuple[float, list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    budget = [max_requests]
    started = time.perf_counter()
    until = started + seconds
    async with asyncio.TaskGroup() as group:
        for _ in range(load.concurrency):
            group.create_task(_connection(http, load, until, budget, latencies, statuses))
    return time.perf_counter() - started, latencies, statuses


async def run_load(
    load: _Load, *, warmup_s: float, duration_s: float, max_requests: int
) -> LoadResult:
    connector = aiohttp.TCPConnector(limit=load.concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        _, warmup, _ = await _phase(http, load, warmup_s, max_requests)
        seconds, latencies, statuses = await _phase(http, load, duration_s, max_requests)
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        warmup_requests=len(warmup),
        non_200=sum(count for status, count in statuses.items() if status != 200),
        statuses={str(status): count for status, count in sorted(statuses.items())},
        seconds=round(seconds, 3),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=round(percentile(latencies, 0.50) * 1000, 3),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 3),
        max_ms=round(latencies[-1] * 1000, 3) if latencies else float("nan"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds, not counted")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds counted")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="per phase")
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("load is only ever sent to loopback")
    body = json.dumps(canned.FINISH_RIDE_BODY).encode()
    load = _Load(args.url, body, canned.FINISH_RIDE_HEADERS, args.concurrency)
    result = asyncio.run(
        run_load(
            load, warmup_s=args.warmup, duration_s=args.duration, max_requests=args.max_requests
        )
    )
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()


async def drive(
    url: str,
    *,
    concurrency: int,
    duration_s: float,
    warmup_s: float = 1.0,
    max_requests: int = 1_000_000,
) -> LoadResult:
    """Run this module as a process of its own against ``url`` with finish-ride's request."""
    argv = [
        "-m",
        "bench.loadgen",
        url,
        f"--concurrency={concurrency}",
        f"--warmup={warmup_s}",
        f"--duration={duration_s}",
        f"--max-requests={max_requests}",
    ]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{err.decode()[-4000:]}")
    return LoadResult(**json.loads(out))
