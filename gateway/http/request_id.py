"""Every request gets an id (the caller's ``X-Request-Id`` or a new one) bound to its log lines.

The HTTP exchange core (``gateway.plugins.exchange``) reads it (``current_request_id``) and
forwards it, so one id follows a request through every upstream and vendor call it makes.
"""

import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.observability.request_ids import BoundRequestId

REQUEST_ID_HEADER = "X-Request-Id"
# The id is echoed, logged and sent on to other services: a caller's value that is not a plain
# token (too long, spaces, control or non-ASCII characters) is replaced rather than passed along.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _request_id_of(request: web.Request) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    # 32 hex digits, as uuid4().hex, at under a third of its cost (docs/benchmarks.md).
    return offered if _ACCEPTABLE_ID.fullmatch(offered) else secrets.token_hex(16)


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = _request_id_of(request)
    with BoundRequestId(request_id):
        try:
            response = await handler(request)
        except web.HTTPException as error:
            # An HTTPException json_errors_middleware lets through (below 400) carries the id too.
            error.headers[REQUEST_ID_HEADER] = request_id
            raise
    response.headers[REQUEST_ID_HEADER] = request_id
    return response
