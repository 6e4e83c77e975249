"""Every refusal answered as JSON ``{"code", "message"}``, aiohttp's own included (404, 405, 413).

One middleware for every route: it turns the ``InputRefused`` a handler raises and the
``web.HTTPException`` aiohttp raises (no route, wrong method, a body past ``client_max_size``)
into the JSON error body, and logs the client's mistake at INFO without a traceback; a
handler's unexpected exception becomes ``500 internal_error``, logged at ERROR. A body
declared larger than the bound is refused here, before any handler reads it. Requests the HTTP
parser itself rejects never reach a middleware: see ``protocol_errors``.
"""

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import hdrs, web

from gateway.http.error_catalog import REFUSAL_STATUS, Refusal
from gateway.http.errors import InputRefused, error_response
from gateway.http.limits import MAX_BODY_BYTES
from gateway.http.request_body import payload_too_large
from gateway.observability.crash_site import crash_site

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The refusal of each status aiohttp raises by itself (no route, wrong method, a body past
# client_max_size, a broken one).
_AIOHTTP_REFUSALS = {
    400: Refusal.BAD_REQUEST,
    404: Refusal.NOT_FOUND,
    405: Refusal.METHOD_NOT_ALLOWED,
    408: Refusal.REQUEST_TIMEOUT,
    413: Refusal.PAYLOAD_TOO_LARGE,
    415: Refusal.UNSUPPORTED_MEDIA_TYPE,
}
# A path is logged, not the caller's whole request line.
_LOGGED_PATH = 128

log = structlog.get_logger("gateway.http")


@web.middleware
async def json_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise payload_too_large()
        return await handler(request)
    except InputRefused as refused:
        return _refusal(request, refused.refusal, refused.message)
    except web.HTTPException as error:
        refusal = _AIOHTTP_REFUSALS.get(error.status)
        if refusal is None:
            raise  # a status the gateway raises on purpose (none today) or a redirect
        response = _refusal(request, refusal, error.reason)
        if hdrs.ALLOW in error.headers:  # a 405 names the methods the path takes
            response.headers[hdrs.ALLOW] = error.headers[hdrs.ALLOW]
        return response
    except Exception as error:  # our own fault: ERROR, and still the JSON shape
        path = request.path[:_LOGGED_PATH]
        log.error("http.crashed", method=request.method, path=path, **crash_site(error))
        return error_response(Refusal.INTERNAL_ERROR, "the gateway failed")


def _refusal(request: web.Request, refusal: Refusal, message: str) -> web.Response:
    log.info(
        "http.refused",
        method=request.method,
        path=request.path[:_LOGGED_PATH],
        status=REFUSAL_STATUS[refusal],
        code=refusal.value,
        reason=message,
    )
    return error_response(refusal, message)
