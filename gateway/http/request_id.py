"""Every request gets an id (the caller's ``X-Request-Id`` or a new one) bound to its log lines."""

import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

REQUEST_ID_HEADER = "X-Request-Id"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response
