"""``meters-integration-api worker`` with the task's body replaced, for the pipeline's ceilings.

Same command, broker, receiver and settings as the real worker; only what
``meters_integration_api_call`` does is swapped:

- ``no-op``: nothing, so the rate is what the queue itself allows;
- ``bare``: a bare aiohttp client walking the task's nine upstream exchanges, so the rate is
  what any task doing that I/O allows.

    python -m bench.stub_worker no-op|bare --config FILE
"""

import sys

import aiohttp

import gateway.broker.start_ride_task as start_ride_task
from bench.bare_start_ride import walk
from gateway.cli import main
from gateway.rides.start_ride import StartOutcome, StartResult
from gateway.services import Services

_sessions: dict[str, aiohttp.ClientSession] = {}


async def no_op(order_id: str, services: Services) -> StartOutcome:
    return StartOutcome(StartResult.SKIPPED, "bench_no_op")


async def bare(order_id: str, services: Services) -> StartOutcome:
    url = services.settings.upstreams.order_core.url
    if url not in _sessions:
        _sessions[url] = aiohttp.ClientSession(url)
    await walk(_sessions[url])
    return StartOutcome(StartResult.STARTED, "bench_bare")


if __name__ == "__main__":
    kind, *arguments = sys.argv[1:]
    start_ride_task.start_ride = {"no-op": no_op, "bare": bare}[kind]  # type: ignore[attr-defined]
    sys.exit(main(["worker", *arguments]))
