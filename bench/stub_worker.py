"""``meters-integration-api worker`` with the task's body replaced, for the pipeline's ceilings.

Same command, broker, receiver and settings as the real worker; only what
``meters_integration_api_call`` does is swapped:

- ``no-op``: nothing, so the rate is what the queue itself allows;
- ``bare``: a bare aiohttp client walking the task's nine upstream exchanges, so the rate is
  what any task doing that I/O allows.

    python -m bench.stub_worker no-op|bare --config FILE
"""

import sys
import tomllib

import aiohttp

import gateway.broker.start_ride_task as start_ride_task
from bench.bare_start_ride import walk
from gateway.cli import main
from gateway.rides.ports import RidePorts
from gateway.rides.start_ride import StartOutcome, StartResult

_sessions: dict[str, aiohttp.ClientSession] = {}


async def no_op(
    order_id: str, ports: RidePorts, *, last_delivery: bool = False, redelivered: bool = False
) -> StartOutcome:
    return StartOutcome(StartResult.SKIPPED, "bench_no_op")


async def bare(
    order_id: str, ports: RidePorts, *, last_delivery: bool = False, redelivered: bool = False
) -> StartOutcome:
    if not _sessions:
        _sessions["stand-in"] = aiohttp.ClientSession(_stand_in_url)
    await walk(_sessions["stand-in"])
    return StartOutcome(StartResult.STARTED, "bench_bare")


_stand_in_url = ""

if __name__ == "__main__":
    kind, *arguments = sys.argv[1:]
    with open(arguments[arguments.index("--config") + 1], "rb") as config:
        # Every upstream of the pipeline's settings is the one stand-in.
        _stand_in_url = tomllib.load(config)["upstreams"]["order_core"]["url"]
    start_ride_task.run_start_ride = {"no-op": no_op, "bare": bare}[kind]  # type: ignore[attr-defined]
    sys.exit(main(["worker", *arguments]))
