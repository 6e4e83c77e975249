"""The aiohttp application and its lifetime: one HTTP session, the services, the broker."""

import asyncio
from collections.abc import AsyncIterator
from functools import partial

import structlog
from aiohttp import web
from taskiq import InMemoryBroker

from gateway.bootstrap.process import Process
from gateway.bootstrap.services import open_services
from gateway.http.app_keys import BROKER, CATALOG, SERVICES, SETTINGS
from gateway.http.error_answers import json_errors_middleware
from gateway.http.finish_ride_handler import finish_ride_handler
from gateway.http.limits import MAX_BODY_BYTES, SERVER_LIMITS
from gateway.http.probes import (
    health_handler,
    index_handler,
    metrics_handler,
    openapi_handler,
    ping_handler,
)
from gateway.http.protocol_errors import handle_client_protocol_errors
from gateway.http.request_id import request_id_middleware
from gateway.http.start_ride_handler import start_ride_handler

FINISH_RIDE_PATH = "/driver/v1/meters-integration-api/finish-ride"
START_RIDE_PATH = "/internal/meters-integration-api/v1/start-ride"


def build_app(process: Process) -> web.Application:
    handle_client_protocol_errors()
    # The bounds travel with the app, so `serve`, the sandbox and the tests' servers share them.
    app = web.Application(
        middlewares=[request_id_middleware, json_errors_middleware],
        client_max_size=MAX_BODY_BYTES,
        handler_args=SERVER_LIMITS,
    )
    app[SETTINGS] = process.settings
    app[CATALOG] = process.catalog
    app[BROKER] = process.broker
    app.cleanup_ctx.append(partial(_services_and_broker, process))
    app.router.add_post(FINISH_RIDE_PATH, finish_ride_handler)
    app.router.add_post(START_RIDE_PATH, start_ride_handler)
    app.router.add_get("/", index_handler)
    app.router.add_get("/ping", ping_handler)
    app.router.add_get("/health", health_handler)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/openapi.yaml", openapi_handler)
    return app


async def _services_and_broker(process: Process, app: web.Application) -> AsyncIterator[None]:
    broker = process.broker
    async with open_services(process.settings, process.catalog, process.pool) as services:
        app[SERVICES] = services
        # With the in-memory broker the task runs in this process and shares these services.
        broker.state.services = services
        await broker.startup()
        try:
            yield
        finally:
            if isinstance(broker, InMemoryBroker):
                await _let_started_rides_finish(broker, process.settings.worker.shutdown_grace_ms)
            await broker.shutdown()


async def _let_started_rides_finish(broker: InMemoryBroker, grace_ms: int) -> None:
    """In-process tasks get the workers' grace before the HTTP session under them closes."""
    try:
        async with asyncio.timeout(grace_ms / 1000):
            await broker.wait_all()
    except TimeoutError:
        structlog.get_logger("gateway").warning("gateway.tasks_cut_short", grace_ms=grace_ms)
