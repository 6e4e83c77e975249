"""Requests the HTTP parser rejects: aiohttp's own 400, without quoting the caller, logged at INFO.

aiohttp answers a request it cannot parse (a bad request line, a header past
``max_field_size``, too many headers, bad chunking or stray bytes that arrive with the
headers) by itself, before any middleware or handler runs: ``400`` text/plain, connection
closed. Its public API offers no hook to shape that answer (aio-libs/aiohttp#3287, open), so
it stays aiohttp's and is not our JSON ``bad_request`` (docs/operations.md, "Hostile input").
Two things about it are not acceptable and are handled here:

- The log: aiohttp reports the request through the ``aiohttp.server`` logger at ERROR with a
  traceback (and a body whose framing or encoding breaks off again, after our JSON 400).
  ``ClientProtocolErrorFilter`` (public ``logging`` API) replaces that record with
  one INFO event, ``http.malformed_request``, naming the parser's error class only.
- The answer's text quotes the offending bytes, e.g. the first 100 bytes of an oversized
  header's value, which may be a token. No public option stops it, so ``_answer_unquoted``
  wraps ``RequestHandler.handle_error`` to pass a fixed text instead; status, media type and
  connection handling stay aiohttp's. Workaround gated on ``_QUOTING_AIOHTTP`` (aiohttp 3.x,
  whose parser errors all quote their input); delete it when aiohttp offers a hook for
  parser errors (aio-libs/aiohttp#3287) or stops quoting, and at the latest on aiohttp 4.
"""

import logging

import aiohttp
import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

SERVER_LOGGER = "aiohttp.server"
UNQUOTED_TEXT = "Bad Request: the request could not be parsed as HTTP/1.1"
_QUOTING_AIOHTTP = aiohttp.__version__.startswith("3.")
# The parser's errors, and a body that breaks off in its framing or content encoding, which
# aiohttp logs again (as "Unhandled exception") when it drains the rest after our 400.
_CLIENT_PROTOCOL_ERRORS = (HttpProcessingError, web.RequestPayloadError)

log = structlog.get_logger("gateway.http")


class ClientProtocolErrorFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        # aiohttp already logs a likely non-HTTP first request (a TLS probe) at DEBUG.
        if record.levelno < logging.WARNING or not isinstance(error, _CLIENT_PROTOCOL_ERRORS):
            return True
        # Status and class only: the message quotes what the client sent.
        log.info("http.malformed_request", status=400, error=type(error).__name__)
        return False


_aiohttp_handle_error = web.RequestHandler.handle_error


def _answer_unquoted(
    self: web.RequestHandler,
    request: web.BaseRequest,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> web.StreamResponse:
    if isinstance(exc, HttpProcessingError):
        message = UNQUOTED_TEXT
    return _aiohttp_handle_error(self, request, status, exc, message)


def handle_client_protocol_errors() -> None:
    """Install the log filter and, where gated, the unquoted answer; once per process."""
    server_logger = logging.getLogger(SERVER_LOGGER)
    if not any(isinstance(f, ClientProtocolErrorFilter) for f in server_logger.filters):
        server_logger.addFilter(ClientProtocolErrorFilter())
    if _QUOTING_AIOHTTP:
        web.RequestHandler.handle_error = _answer_unquoted  # type: ignore[method-assign]
