"""The request id of the request or task run in progress, for its log lines and its calls.

A request (``gateway.http.request_id``) or a task run (``gateway.broker.start_ride_task``)
binds its id once; every log line written inside carries it (structlog's context), and every
upstream and vendor call and every task enqueued inside reads it here to send it on. A context
variable of its own makes that read one lookup: structlog's ``get_contextvars`` walks the whole
context, once per call (benchmark: docs/benchmarks.md, "What was changed").
"""

from contextvars import ContextVar, Token
from typing import Any

import structlog

_CURRENT: ContextVar[str | None] = ContextVar("request_id", default=None)


class BoundRequestId:
    """Binds ``request_id`` (and any other ``log_fields``) for a block: on every log line
    written inside it, and as ``current_request_id()`` for the calls made inside it."""

    __slots__ = ("_log_fields", "_log_tokens", "_request_id", "_token")

    def __init__(self, request_id: str, **log_fields: Any) -> None:
        self._request_id = request_id
        self._log_fields = log_fields

    def __enter__(self) -> None:
        self._token: Token[str | None] = _CURRENT.set(self._request_id)
        self._log_tokens = structlog.contextvars.bind_contextvars(
            request_id=self._request_id, **self._log_fields
        )

    def __exit__(self, *_: object) -> None:
        structlog.contextvars.reset_contextvars(**self._log_tokens)
        _CURRENT.reset(self._token)


def current_request_id() -> str | None:
    """The id bound here, if any (code outside a request or a task run has none)."""
    return _CURRENT.get()
