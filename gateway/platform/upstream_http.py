"""One call to a platform service over the shared exchange core (``gateway.plugins.exchange``)."""

from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import structlog

from gateway.call_timeout import call_timeout
from gateway.metrics import UPSTREAM_CALL_DURATION, UPSTREAM_CALL_ERROR_ANSWERS
from gateway.plugins.exchange import Counterpart, ErrorModel, exchange
from gateway.rides.errors import (
    UpstreamError,
    UpstreamErrorStatus,
    UpstreamMalformedResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from gateway.settings import UpstreamSettings

CONSUMER = "meters-integration-api"
JSON = "application/json"

UPSTREAM_ERRORS = ErrorModel(
    base=UpstreamError,
    timeout=UpstreamTimeout,
    # The flows decide nothing on whether a platform call's request went out.
    unreachable=lambda service, what, _answer_lost: UpstreamUnreachable(service, what),
    malformed=UpstreamMalformedResponse,
    error_status_reason=lambda _status: UpstreamErrorStatus.reason,
)
_log = structlog.get_logger("gateway.upstream")

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes], Any]


class UpstreamClient:
    """Base of every platform client: posts and decodes, or raises UpstreamError."""

    service: str
    content_type = JSON

    def __init__(self, http: aiohttp.ClientSession, settings: UpstreamSettings) -> None:
        self._http = http
        self._base_url = settings.url.rstrip("/")
        self._timeout = call_timeout(settings.timeout_ms)
        self._counterpart = Counterpart(
            "upstream",
            "service",
            self.service,
            UPSTREAM_CALL_DURATION,
            UPSTREAM_CALL_ERROR_ANSWERS,
            UPSTREAM_ERRORS,
            _log.bind(),
            settings.max_answer_bytes,
        )

    def _encode(self, body: Any) -> bytes:
        # Our own bodies: string keys and Decimal-free numbers, which orjson writes as json would.
        return orjson.dumps(body)

    def _decode(self, raw: bytes) -> Any:
        return orjson.loads(raw)

    async def _post(
        self,
        operation: str,
        path: str,
        body: Any,
        params: dict[str, str] | None = None,
        *,
        decode_answer: bool = True,
    ) -> Any:
        """The decoded answer; with ``decode_answer=False`` only the 200 counts (and None is
        answered), for calls whose contract promises nothing but the status."""
        return await exchange(
            self._http,
            self._counterpart,
            operation,
            "POST",
            self._base_url + path,
            time_budget=self._timeout,
            headers={"Content-Type": self.content_type, "Accept": self.content_type},
            interpret=self._decoded if decode_answer else self._status_only,
            params=params,
            data=self._encode(body),
        )

    def _status_only(self, status: int, raw: bytes, _: object = None) -> None:
        if status != 200:
            raise UpstreamErrorStatus(self.service, status, _error_code(raw))

    def _decoded(self, status: int, raw: bytes, _: object = None) -> Any:
        self._status_only(status, raw)
        try:
            return self._decode(raw)
        except Exception as error:
            raise UpstreamMalformedResponse(self.service, "answer cannot be decoded") from error


def _error_code(raw: bytes) -> str | None:
    """Platform error bodies are JSON ``{"code", "message"}``; anything else has no code."""
    try:
        code = orjson.loads(raw).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def expect_dict(service: str, value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UpstreamMalformedResponse(service, f"{what} is not an object")
    return value


def expect_list(service: str, value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise UpstreamMalformedResponse(service, f"{what} is not a list")
    return value
