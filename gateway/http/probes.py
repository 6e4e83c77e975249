"""The index, liveness, readiness, metrics and the API document."""

from functools import cache
from typing import Any

import yaml
from aiohttp import web

from gateway.broker.health import broker_health
from gateway.http.app_keys import BROKER, CATALOG
from gateway.http.request_validation import openapi_text
from gateway.metrics import CONTENT_TYPE, exposition


async def index_handler(_: web.Request) -> web.Response:
    """What a person opening the gateway's address finds: its endpoints, from the API document."""
    return web.json_response(_index())


@cache
def _index() -> dict[str, Any]:
    document = yaml.safe_load(openapi_text())
    return {
        "service": document["info"]["title"],
        "version": document["info"]["version"],
        "endpoints": [
            {"method": method.upper(), "path": path, "summary": operation["summary"]}
            for path, operations in document["paths"].items()
            for method, operation in operations.items()
        ],
        "api_document": "/openapi.yaml",
    }


async def ping_handler(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def health_handler(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    broker = await broker_health(request.app[BROKER])
    broker_ok = broker.reachable
    # A plugin that failed to load is reported but keeps the instance ready: a vendor some
    # country routes to cannot be missing (the process refuses to start), and an unused one
    # must not take every instance out of rotation.
    ready = broker_ok and bool(catalog.vendors)
    return web.json_response(
        {
            "ready": ready,
            "broker": "reachable" if broker_ok else "unreachable",
            "broker_since": broker.since.isoformat(),
            "vendors": sorted(catalog.vendors),
            "plugin_failures": [f"{f.plugin}: {f.error}" for f in catalog.failures],
        },
        status=200 if ready else 503,
    )


async def metrics_handler(_: web.Request) -> web.Response:
    return web.Response(body=exposition(), headers={"Content-Type": CONTENT_TYPE})


async def openapi_handler(_: web.Request) -> web.Response:
    return web.Response(text=openapi_text(), content_type="application/yaml")
