"""One HTTP exchange with a vendor API, with transport failures already turned into typed errors.

Vendor plugins call this instead of aiohttp directly so that every vendor
honours its timeout, forwards the request id and reports the same failure
types, and so that their calls are measured alike.
"""

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from pydantic import SecretStr

from gateway.call_timeout import call_timeout
from gateway.metrics import CANCELLED, VENDOR_CALL_DURATION
from gateway.plugins.vendor_errors import (
    VendorError,
    VendorErrorStatus,
    VendorMalformedResponse,
    VendorTimeout,
    VendorUnreachable,
)

log = structlog.get_logger("gateway.vendor")


@dataclass(frozen=True, slots=True)
class VendorResponse:
    status: int
    body: Any


async def call_vendor(
    http: aiohttp.ClientSession,
    *,
    vendor: str,
    operation: str,
    method: str,
    url: str,
    token: SecretStr,
    timeout_ms: int,
    json_body: Any = None,
) -> VendorResponse:
    """Send one request and decode its JSON answer; an empty body decodes to None."""
    headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        headers["X-Request-Id"] = str(request_id)
    started = time.perf_counter()
    outcome = "ok"
    try:
        async with http.request(
            method, url, json=json_body, headers=headers, timeout=call_timeout(timeout_ms)
        ) as response:
            raw = await response.read()
            status = response.status
        if status >= 400:
            # The vendor plugin decides what the status means; the measurement calls it an error.
            outcome = VendorErrorStatus.reason
        # An error answer's body is often a proxy's HTML page: the status is what it says.
        body = _decode(raw, status) if status < 400 else _decode_if_json(raw)
        return VendorResponse(status=status, body=body)
    except VendorError as error:
        outcome = error.reason
        raise
    except TimeoutError as error:
        outcome = VendorTimeout.reason
        raise VendorTimeout(f"{vendor} {operation} timed out after {timeout_ms} ms") from error
    except aiohttp.ClientError as error:
        outcome = VendorUnreachable.reason
        raise VendorUnreachable(f"{vendor} {operation} failed: {type(error).__name__}") from error
    except asyncio.CancelledError:
        outcome = CANCELLED  # cut short by the caller, e.g. finish-ride's overall deadline
        raise
    finally:
        elapsed = time.perf_counter() - started
        VENDOR_CALL_DURATION.labels(vendor, operation, outcome).observe(elapsed)
        log.info(
            "vendor.call",
            vendor=vendor,
            operation=operation,
            outcome=outcome,
            duration_ms=round(elapsed * 1000, 1),
        )


def _decode(raw: bytes, status: int) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise VendorMalformedResponse(f"HTTP {status} body is not JSON") from error


def _decode_if_json(raw: bytes) -> Any:
    try:
        return _decode(raw, 0)
    except VendorMalformedResponse:
        return None
