"""``POST /driver/v1/meters-integration-api/finish-ride``: HTTP in, the core's finish_ride, HTTP
out: the handler counts, logs and answers the ``FinishOutcome`` it returns.

Each request gets a span (continuing the caller's ``traceparent``) and writes one canonical log
line, ``finish_ride.answered``: the only line that states its outcome (docs/design.md §9).
"""

import asyncio
import time
from decimal import Decimal

import structlog
from aiohttp import web
from opentelemetry.trace import SpanKind

from gateway.http.app_keys import SERVICES
from gateway.http.error_catalog import REFUSAL_STATUS, Refusal
from gateway.http.errors import InputRefused, error_response
from gateway.http.request_body import read_body, request_timeout
from gateway.http.request_validation import parse_body
from gateway.metrics import FINISH_RIDE_DURATION, RIDES_FINISHED
from gateway.observability.canonical_line import CanonicalLine, gathering
from gateway.observability.crash_site import crash_site
from gateway.observability.tracing import continued_trace, current_trace_id
from gateway.rides.finish_ride import (
    FinishDeadline,
    FinishOutcome,
    FinishRideRequest,
    Refused,
    finish_ride,
)
from gateway.rides.ports import Priced

FINISH_RIDE = "finishRide"
OK = "ok"
PARK_ID_HEADER = "X-YaTaxi-Park-Id"
DRIVER_PROFILE_ID_HEADER = "X-YaTaxi-Driver-Profile-Id"

log = structlog.get_logger("gateway.finish_ride")


async def finish_ride_handler(request: web.Request) -> web.Response:
    with (
        gathering() as line,
        continued_trace("POST finish-ride", request.headers, SpanKind.SERVER) as span,
    ):
        response = await _finish_ride(request, line)
        if span is not None:
            span.set_attribute("http.response.status_code", response.status)
        return response


async def _finish_ride(request: web.Request, line: CanonicalLine) -> web.Response:
    started = time.perf_counter()
    services = request.app[SERVICES]
    # The deadline covers reading the body too: the driver waits for all of it.
    deadline = FinishDeadline.after(services.settings.server.finish_ride_deadline_ms)
    try:
        try:
            async with asyncio.timeout_at(deadline.at):
                finish = await _read_request(request)
        except TimeoutError:  # the caller's body had not arrived in full
            raise request_timeout() from None
        outcome = await finish_ride(finish, services.ports, deadline)
    except InputRefused as refused:
        return _answer(line, started, "", "", refused.refusal, refused.message)
    except Exception as error:  # a bug still answers JSON, so the app falls back to manual entry
        log.error("finish_ride.crashed", **crash_site(error))
        return _answer(line, started, "", "", Refusal.INTERNAL_ERROR, "the gateway failed")
    return _answer_outcome(line, started, outcome)


async def _read_request(request: web.Request) -> FinishRideRequest:
    # docs/design.md §6's order: size and media type (read_body), identity, then the body.
    raw = await read_body(request, FINISH_RIDE)
    park_id = _identity(request, PARK_ID_HEADER)
    driver_profile_id = _identity(request, DRIVER_PROFILE_ID_HEADER)
    body = parse_body(FINISH_RIDE, raw)
    return FinishRideRequest(
        alias_id=body["order_id"],
        user_price=Decimal(body["user_price"]),
        driver_price=Decimal(body["driver_price"]),
        park_id=park_id,
        driver_profile_id=driver_profile_id,
    )


def _identity(request: web.Request, header: str) -> str:
    """The one value the auth proxy set; a repeated header may be a forged one next to it."""
    values = request.headers.getall(header, ())
    # aiohttp strips the whitespace around a value: a blank one arrives empty.
    if len(values) != 1 or not values[0]:
        raise InputRefused(Refusal.UNAUTHORIZED, f"{header} must be given once, with a value")
    return values[0]


def _answer_outcome(line: CanonicalLine, started: float, outcome: FinishOutcome) -> web.Response:
    """The flow's answer, after what its vendor calls left for our log."""
    if outcome.vendor_failure is not None:
        line.annotate(
            vendor_failure=outcome.vendor_failure.reason,
            vendor_detail=outcome.vendor_failure.detail,
        )
    if outcome.vendor_crash is not None:
        log.error("finish_ride.vendor_crashed", **crash_site(outcome.vendor_crash))
    answer = outcome.answer
    if isinstance(answer, Refused):
        refusal = Refusal.of_finish(answer.refusal)
        return _answer(line, started, outcome.vendor, outcome.country, refusal, answer.message)
    return _answer(line, started, outcome.vendor, outcome.country, answer)


def _answer(
    line: CanonicalLine,
    started: float,
    vendor: str,
    country: str,
    answer: Priced | Refusal,
    message: str = "",
) -> web.Response:
    """The price, or the refusal's JSON; counted, timed and written as one line."""
    if isinstance(answer, Refusal):
        code, status, result = answer.value, REFUSAL_STATUS[answer], "refused"
    else:
        code, status = OK, 200
        result = "replayed" if answer.replayed else "priced"
    RIDES_FINISHED.labels(vendor, country, result, code).inc()
    FINISH_RIDE_DURATION.labels(code).observe(time.perf_counter() - started)
    line.annotate(
        vendor=vendor,
        country=country,
        result=result,
        reason=code,
        status=status,
        trace_id=current_trace_id(),
    )
    if isinstance(answer, Refusal):
        line.annotate(message=message)
    # 500 is the gateway's own fault; 502 and 504 (the error catalog's) an upstream's or a
    # vendor's; every other refusal is the caller's mistake or the order's state.
    line.write(
        log, "finish_ride.answered", own_fault=status == 500, upstream_failed=status in (502, 504)
    )
    if isinstance(answer, Refusal):
        return error_response(answer, message)
    return web.json_response({"price": float(answer.price)})
