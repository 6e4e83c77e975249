"""A vendor's HTTP client: its base URL, timeout and authentication over the shared exchange core.

Vendor plugins call their API through ``VendorHttp`` instead of aiohttp directly, so that every
vendor honours its timeout, forwards the request id, keeps its credentials out of logs, reports
the same typed errors (``gateway.plugins.vendor_errors``) and is measured alike
(``meters_vendor_call_duration_seconds{vendor,operation,outcome}`` and a ``vendor.call`` log
line, WARNING with the HTTP status when the call failed).
"""

import email.utils
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import structlog
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.call_timeout import call_timeout
from gateway.metrics import VENDOR_CALL_DURATION, VENDOR_CALL_ERROR_ANSWERS
from gateway.plugins.exchange import Counterpart, ErrorModel, exchange
from gateway.plugins.vendor_auth import VendorAuth
from gateway.plugins.vendor_errors import (
    VendorError,
    VendorErrorStatus,
    VendorMalformedResponse,
    VendorRateLimited,
    VendorTimeout,
    VendorUnreachable,
)
from gateway.settings import DEFAULT_MAX_ANSWER_BYTES

UNAUTHORIZED = 401
TOO_MANY_REQUESTS = 429
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
VENDOR_ERRORS = ErrorModel(
    base=VendorError,
    timeout=lambda vendor, what: VendorTimeout(f"{vendor} {what}"),
    unreachable=lambda vendor, what, answer_lost: VendorUnreachable(
        f"{vendor} {what}", answer_lost=answer_lost
    ),
    malformed=lambda vendor, what: VendorMalformedResponse(f"{vendor} {what}"),
    error_status_reason=lambda status: (
        VendorRateLimited.reason if status == TOO_MANY_REQUESTS else VendorErrorStatus.reason
    ),
)
_log = structlog.get_logger("gateway.vendor")


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 (formerly 7807) ``application/problem+json`` body's members."""

    type: str
    """A URI naming the problem; ``"about:blank"`` when the body names none."""
    title: str | None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class VendorResponse:
    status: int
    body: Any
    """The JSON answer decoded; None when empty, or when an error answer is not JSON."""
    headers: Mapping[str, str] = field(
        default_factory=lambda: CIMultiDictProxy(CIMultiDict()), compare=False, repr=False
    )
    """The answer's headers, found by any case (``headers["retry-after"]``)."""

    def expect(self, *statuses: int) -> "VendorResponse":
        """This response if its status is one of ``statuses``; else VendorErrorStatus
        (VendorRateLimited for a 429, with its ``Retry-After``)."""
        if self.status not in statuses:
            if self.status == TOO_MANY_REQUESTS:
                raise VendorRateLimited(retry_after_s(self.headers.get("Retry-After")))
            raise VendorErrorStatus(self.status)
        return self

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; else VendorMalformedResponse."""
        if not isinstance(self.body, dict):
            raise VendorMalformedResponse(f"HTTP {self.status} body is not an object")
        return self.body

    def problem(self) -> Problem | None:
        """The body's ``type``, ``title`` and ``detail`` if it is a problem object (RFC 9457):
        a JSON object with a string ``type`` or ``title``; None otherwise. Read whatever the
        Content-Type said: many APIs send problems as plain ``application/json``."""
        if not isinstance(self.body, dict):
            return None
        kind, title, detail = (self.body.get(key) for key in ("type", "title", "detail"))
        if not isinstance(kind, str) and not isinstance(title, str):
            return None
        return Problem(
            type=kind if isinstance(kind, str) and kind else "about:blank",
            title=title if isinstance(title, str) else None,
            detail=detail if isinstance(detail, str) else None,
        )


def retry_after_s(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` value (RFC 9110 §10.2.3) asks to wait: delay-seconds or an
    HTTP date; None when absent or unreadable. A date in the past is 0."""
    if value is None:
        return None
    if re.fullmatch(r"[0-9]+", value.strip()):  # not str.isdigit(): "²" is a digit to it
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class VendorHttp:
    """Calls one vendor's API: paths are relative to its ``url``; every call is authenticated
    by the vendor's ``VendorAuth`` and bounded by its ``timeout_ms``.

    An answer longer than ``max_answer_bytes`` is VendorMalformedResponse, read no further.
    A 401 answer lets the authentication renew its credentials once (an OAuth2 token that
    expired early); if it did, the call is sent again, once.
    """

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        vendor: str,
        base_url: str,
        timeout_ms: int,
        auth: VendorAuth,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        self.session = http
        self._base_url = base_url.rstrip("/")
        self._timeout = call_timeout(timeout_ms)
        self._auth = auth
        self._counterpart = Counterpart(
            "vendor",
            "vendor",
            vendor,
            VENDOR_CALL_DURATION,
            VENDOR_CALL_ERROR_ANSWERS,
            VENDOR_ERRORS,
            _log.bind(),
            max_answer_bytes,
        )

    async def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticate: bool = True,
    ) -> VendorResponse:
        """Send one request and decode its JSON answer.

        ``path`` is appended to the vendor's URL unless it is a whole ``http(s)://`` URL (a
        token endpoint on another host). ``operation`` names the call in the metric and the
        log (``start_ride``, ``get_ride``...). ``authenticate=False`` sends no credentials:
        for the authentication's own calls. ``json_body`` is encoded by ``json.dumps``; the
        answer is decoded by orjson: one holding ``NaN`` is malformed, and an integer beyond
        64 bits (above 2**64 - 1 or below -2**63) is read as a float.
        """
        url = path if path.startswith(("http://", "https://")) else self._base_url + path
        sent_headers = dict(headers or {})
        body: bytes | None = None
        if form is not None:
            body = urlencode(form).encode()
            sent_headers["Content-Type"] = FORM
        elif json_body is not None:
            # Encoded as plugins were promised (json.dumps): orjson would send a NaN as null.
            body = json.dumps(json_body, separators=(",", ":")).encode()
            sent_headers["Content-Type"] = JSON
        response = await self._send(
            operation, method, url, body, params, sent_headers, authenticate
        )
        if (
            response.status == UNAUTHORIZED
            and authenticate
            and await self._auth.renew_after_unauthorized(self)
        ):
            response = await self._send(
                operation, method, url, body, params, sent_headers, authenticate
            )
        return response

    async def _send(
        self,
        operation: str,
        method: str,
        url: str,
        body: bytes | None,
        params: Mapping[str, str] | None,
        extra_headers: dict[str, str],
        authenticate: bool,
    ) -> VendorResponse:
        headers = (
            {**(await self._auth.headers(self)), **extra_headers}
            if authenticate
            else {**extra_headers}
        )
        return await exchange(
            self.session,
            self._counterpart,
            operation,
            method,
            url,
            time_budget=self._timeout,
            headers=headers,
            interpret=_interpret,
            params=params,
            data=body,
        )


def _interpret(status: int, raw: bytes, headers: CIMultiDictProxy[str]) -> VendorResponse:
    # The vendor plugin decides what a status means. An error answer's body is often a proxy's
    # HTML page: the status is what it says, so its body is decoded only if it is JSON.
    body = _decode(raw, status) if status < 400 else _decode_if_json(raw)
    return VendorResponse(status=status, body=body, headers=headers)


def _decode(raw: bytes, status: int) -> Any:
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:  # invalid UTF-8 included
        raise VendorMalformedResponse(f"HTTP {status} body is not JSON") from error


def _decode_if_json(raw: bytes) -> Any:
    try:
        return _decode(raw, 0)
    except VendorMalformedResponse:
        return None
