"""One call to a platform service: timeout, request id, metrics and typed failures in one place."""

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import structlog

from gateway.call_timeout import call_timeout
from gateway.metrics import CANCELLED, UPSTREAM_CALL_DURATION
from gateway.platform.errors import (
    UpstreamError,
    UpstreamErrorStatus,
    UpstreamMalformedResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from gateway.settings import UpstreamSettings

CONSUMER = "meters-integration-api"
JSON = "application/json"

log = structlog.get_logger("gateway.upstream")

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes], Any]


def _encode_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class UpstreamClient:
    """Base of every platform client: posts and decodes, or raises UpstreamError."""

    service: str
    content_type = JSON

    def __init__(self, http: aiohttp.ClientSession, settings: UpstreamSettings) -> None:
        self._http = http
        self._base_url = settings.url.rstrip("/")
        self._timeout_s = settings.timeout_ms / 1000
        self._timeout = call_timeout(settings.timeout_ms)

    def _encode(self, body: Any) -> bytes:
        return _encode_json(body)

    def _decode(self, raw: bytes) -> Any:
        return json.loads(raw)

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
        headers = {"Content-Type": self.content_type, "Accept": self.content_type}
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            headers["X-Request-Id"] = str(request_id)
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with self._http.post(
                self._base_url + path,
                params=params,
                data=self._encode(body),
                headers=headers,
                timeout=self._timeout,
            ) as response:
                raw = await response.read()
                if response.status != 200:
                    raise UpstreamErrorStatus(self.service, response.status, _error_code(raw))
            if not decode_answer:
                return None
            try:
                return self._decode(raw)
            except Exception as error:
                raise UpstreamMalformedResponse(self.service, "answer cannot be decoded") from error
        except UpstreamError as error:
            outcome = error.reason
            raise
        except TimeoutError as error:
            outcome = UpstreamTimeout.reason
            raise UpstreamTimeout(
                self.service, f"{operation} timed out after {self._timeout_s * 1000:.0f} ms"
            ) from error
        except aiohttp.ClientError as error:
            outcome = UpstreamUnreachable.reason
            raise UpstreamUnreachable(
                self.service, f"{operation} failed: {type(error).__name__}"
            ) from error
        except asyncio.CancelledError:
            outcome = CANCELLED  # cut short by the caller, e.g. finish-ride's overall deadline
            raise
        finally:
            elapsed = time.perf_counter() - started
            UPSTREAM_CALL_DURATION.labels(self.service, operation, outcome).observe(elapsed)
            log.info(
                "upstream.call",
                service=self.service,
                operation=operation,
                outcome=outcome,
                duration_ms=round(elapsed * 1000, 1),
            )


def _error_code(raw: bytes) -> str | None:
    """Platform error bodies are JSON ``{"code", "message"}``; anything else has no code."""
    try:
        code = json.loads(raw).get("code")
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
