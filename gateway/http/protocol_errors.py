"""Requests the HTTP parser rejects, logged as the client's mistake they are.

aiohttp (3.14) answers a request it cannot parse (bad request line, a header past
``max_field_size``, too many headers, bad chunking that arrives with the headers) by itself:
``400`` text/plain, before any middleware or handler runs, with no public way to shape that
answer (aio-libs/aiohttp#3287, open). What it does let us choose is the log: it reports such a
request through the ``aiohttp.server`` logger at ERROR with a traceback whose message quotes
the offending bytes (a header's value, which may be a token). This filter replaces each such
record with one INFO event, ``http.malformed_request``, naming the parser's error class only.
The gateway's own faults on that logger (a handler's unhandled exception) are left as they are.
"""

import logging

import structlog
from aiohttp.http_exceptions import HttpProcessingError

SERVER_LOGGER = "aiohttp.server"

log = structlog.get_logger("gateway.http")


class ClientProtocolErrorFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        # aiohttp already logs a likely non-HTTP first request (a TLS probe) at DEBUG.
        if record.levelno < logging.WARNING or not isinstance(error, HttpProcessingError):
            return True
        # Status and class only: the message quotes what the client sent.
        log.info("http.malformed_request", status=error.code, error=type(error).__name__)
        return False


def quiet_client_protocol_errors() -> None:
    """Install the filter on aiohttp's server logger, once per process."""
    server_logger = logging.getLogger(SERVER_LOGGER)
    if not any(isinstance(f, ClientProtocolErrorFilter) for f in server_logger.filters):
        server_logger.addFilter(ClientProtocolErrorFilter())
