"""What one log line costs: a finish-ride canonical line through our route and the stdlib route.

Each route runs in a process of its own (logging is configured process-wide) with stdout sent
to /dev/null, and times ``lines`` lines of the shape finish-ride writes: the request's context,
its result and three calls. Our route is structlog's BytesLogger with orjson
(``gateway/logging_setup.py``); the stdlib route is what a library's record goes through.
"""

import asyncio
import json
import sys
from dataclasses import dataclass

from bench.procs import PYTHON, REPO

_TIMING = """
import logging, sys, time
import structlog
from gateway.logging_setup import configure_logging

route, lines = sys.argv[1], int(sys.argv[2])
configure_logging("INFO", secrets=["monitex-secret-token", "optumplus-secret-token"])
structlog.contextvars.bind_contextvars(request_id="0123456789abcdef0123456789abcdef")
calls = [
    {"call": "order_core.get_order", "outcome": "ok", "status": 200, "ms": 1.2},
    {"call": "monitex.stop_ride", "outcome": "ok", "status": 200, "ms": 1.1},
    {"call": "monitex.get_price", "outcome": "ok", "status": 200, "ms": 0.9},
]
fields = dict(alias_id="alias-1", vendor="monitex", country="IL", result="priced",
              reason="ok", status=200, duration_ms=3.2, calls=calls)
ours = structlog.get_logger("gateway.finish_ride")
theirs = logging.getLogger("some.library")
started = time.perf_counter()
for _ in range(lines):
    if route == "ours":
        ours.info("finish_ride.answered", **fields)
    else:
        theirs.info("finish_ride.answered %s", fields)
print((time.perf_counter() - started) / lines * 1e6, file=sys.stderr)
"""


@dataclass(frozen=True, slots=True)
class LogLineResults:
    lines: int
    ours_us: float
    stdlib_us: float


async def measure(lines: int, rounds: int) -> LogLineResults:
    """Best of ``rounds`` alternating runs of each route, in microseconds per line."""
    best = {"ours": float("inf"), "stdlib": float("inf")}
    for _ in range(rounds):
        for route in best:
            best[route] = min(best[route], await _time(route, lines))
    return LogLineResults(lines, round(best["ours"], 1), round(best["stdlib"], 1))


async def _time(route: str, lines: int) -> float:
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-c",
        _TIMING,
        route,
        str(lines),
        cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        sys.stderr.write(err.decode())
        raise RuntimeError(f"the {route} log-line timing failed")
    return float(json.loads(err.decode().strip().splitlines()[-1]))
