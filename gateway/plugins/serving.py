"""Serving an aiohttp application on a port inside an already running event loop."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from yarl import URL


@asynccontextmanager
async def serve_app(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    shutdown_timeout: float,
    handler_cancellation: bool = False,
) -> AsyncIterator[str]:
    """Serve the app until the block exits; yields its base URL (port 0 = any free port)."""
    runner = web.AppRunner(
        app, shutdown_timeout=shutdown_timeout, handler_cancellation=handler_cancellation
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        yield str(URL.build(scheme="http", host=host, port=bound_port))
    finally:
        await runner.cleanup()
