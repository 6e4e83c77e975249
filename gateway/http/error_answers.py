"""Every refusal answered as JSON ``{"code", "message"}``, aiohttp's own included (404, 405, 413).

One middleware for every route: it turns the ``InputRefused`` a handler raises and the
``web.HTTPException`` aiohttp raises (no route, wrong method, a body past ``client_max_size``)
into the JSON error body, and logs the client's mistake at INFO without a traceback; a
handler's unexpected exception becomes ``500 internal_error``, logged at ERROR. A body
declared larger than the bound is refused here, before any handler reads it. Requests the HTTP
parser itself rejects never reach a middleware: see ``protocol_errors``.
"""

from collections.abc import Awaitable, Callable
from http import HTTPStatus

import structlog
from aiohttp import hdrs, web

from gateway.http.errors import InputRefused, error_response
from gateway.http.limits import MAX_BODY_BYTES
from gateway.http.request_body import payload_too_large
from gateway.observability.crash_site import crash_site

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Codes of the statuses aiohttp raises by itself; others are named after their phrase.
_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
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
        return _refusal(request, refused.status, refused.code, refused.message)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = _CODES.get(error.status) or HTTPStatus(error.status).phrase.lower().replace(" ", "_")
        response = _refusal(request, error.status, code, error.reason)
        if hdrs.ALLOW in error.headers:  # a 405 names the methods the path takes
            response.headers[hdrs.ALLOW] = error.headers[hdrs.ALLOW]
        return response
    except Exception as error:  # our own fault: ERROR, and still the JSON shape
        path = request.path[:_LOGGED_PATH]
        log.error("http.crashed", method=request.method, path=path, **crash_site(error))
        return error_response(500, "internal_error", "the gateway failed")


def _refusal(request: web.Request, status: int, code: str, message: str) -> web.Response:
    # A 5xx aiohttp raised is not the caller's mistake.
    logged = log.info if status < 500 else log.error
    logged(
        "http.refused",
        method=request.method,
        path=request.path[:_LOGGED_PATH],
        status=status,
        code=code,
        reason=message,
    )
    return error_response(status, code, message)
