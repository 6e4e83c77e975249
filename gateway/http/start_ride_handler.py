"""``POST /internal/meters-integration-api/v1/start-ride``: enqueue the start-ride task."""

import structlog
from aiohttp import web
from opentelemetry.trace import SpanKind

from gateway.broker.enqueue import MAY_BE_ENQUEUED, BrokerUnavailable, enqueue_start_ride
from gateway.http.app_keys import BROKER
from gateway.http.error_catalog import Refusal
from gateway.http.errors import error_response
from gateway.http.request_body import read_body
from gateway.http.request_validation import parse_body
from gateway.observability.tracing import continued_trace

log = structlog.get_logger("gateway.start_ride")

START_RIDE = "startRide"


async def start_ride_handler(request: web.Request) -> web.Response:
    # The span the task run's will join: its context travels in the task's labels.
    with continued_trace("POST start-ride", request.headers, SpanKind.SERVER):
        return await _enqueue(request)


async def _enqueue(request: web.Request) -> web.Response:
    # A refusal (InputRefused) is answered by json_errors_middleware.
    body = parse_body(START_RIDE, await read_body(request, START_RIDE))
    order_id: str = body["order_id"]
    try:
        task_id = await enqueue_start_ride(request.app[BROKER], order_id, body.get("task_id"))
    except BrokerUnavailable as error:
        log.error(
            "start_ride.enqueue_failed", order_id=order_id, result=error.result, cause=error.cause
        )
        message = MAY_BE_ENQUEUED if error.may_be_enqueued else "the task broker is unreachable"
        return error_response(Refusal.BROKER_UNAVAILABLE, message)
    log.info("start_ride.enqueued", order_id=order_id, task_id=task_id)
    return web.json_response({"task_id": task_id}, status=202)
