"""One outgoing HTTP exchange, for platform clients and vendor plugins alike.

The request id and trace headers, the timer, the exception ladder, the duration metric and the
count of error answers by status, the call's span and its record on the canonical log line live
here once; each side names itself (a ``Counterpart``) and brings its own typed errors (an
``ErrorModel``), so the metric outcomes stay ``timeout`` for a platform service and
``vendor_timeout`` for a vendor.

Inside a request or a task run, the call's outcome, HTTP status and duration go on that run's
canonical log line (docs/design.md §9), which is WARNING when any call failed, and the call's
own line is DEBUG. A call made outside any run is logged on its own: WARNING with its HTTP
status when it failed, INFO otherwise.
"""

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDictProxy
from prometheus_client import Counter, Histogram

from gateway.metrics import CANCELLED
from gateway.observability.canonical_line import current_line
from gateway.observability.request_ids import current_request_id
from gateway.observability.tracing import end_call_span, outgoing_call
from gateway.settings import DEFAULT_MAX_ANSWER_BYTES

OK = "ok"
REQUEST_ID_HEADER = "X-Request-Id"
# The status label of the error answers counter takes the 200 values of 400-599 and this one,
# so each label value is a series kept for the process's life and a counterpart answering
# statuses past 599 (HTTP defines none, yet clients take any three digits) cannot multiply them
# without bound. Statuses in the range that the registry lacks (nginx's 499, a CDN's 52x) keep
# their number: they say which hop failed.
ERROR_STATUS_RANGE = range(400, 600)
OTHER_STATUS = "other"
_READ_CHUNK_BYTES = 64 * 1024

T = TypeVar("T")


class CallFailed(Exception):
    """Base of the typed failures of both sides; ``reason`` is the metric and log outcome."""

    reason = "call_failed"


@dataclass(frozen=True, slots=True)
class ErrorModel:
    """How one side's typed errors name the failures the exchange itself detects."""

    base: type[CallFailed]
    """Raised by the answer's interpretation: recorded by its own ``reason``, then re-raised."""
    timeout: Callable[[str, str], CallFailed]
    """Builds the error of a call that ran out of time from the counterpart's name and what
    happened; so does ``unreachable`` for a call that got no answer, told also whether the
    request may have gone out (the connection failed after it was made, not while making it)."""
    unreachable: Callable[[str, str, bool], CallFailed]
    malformed: Callable[[str, str], CallFailed]
    """Builds the error of an answer the exchange cannot take: one past ``max_answer_bytes``."""
    error_status_reason: Callable[[int], str]
    """The outcome of an answer with this status (>= 400), whatever the interpretation makes
    of it: a vendor's 429 is its own outcome, any other status the side's error status."""


@dataclass(frozen=True, slots=True)
class Counterpart:
    """Whom the calls go to, as the metric, the log line and the errors name it."""

    kind: str
    """``upstream`` or ``vendor``: the log event is ``<kind>.call``."""
    label: str
    """The log field naming it: ``service`` or ``vendor``."""
    name: str
    histogram: Histogram
    error_answers: Counter
    """Answers with a status of 400 or more, by name, operation and status."""
    errors: ErrorModel
    log: Any
    """The structlog logger of the side (``gateway.upstream``, ``gateway.vendor``), bound
    (``.bind()``) when the client is built, after logging is configured: each call then skips
    structlog's lazy proxy, as structlog's performance notes advise for loggers used often."""
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    """A longer answer (declared, or as it arrives, decompressed) fails as malformed."""


async def exchange(
    http: aiohttp.ClientSession,
    counterpart: Counterpart,
    operation: str,
    method: str,
    url: str,
    *,
    time_budget: aiohttp.ClientTimeout,
    headers: dict[str, str],
    interpret: Callable[[int, bytes, CIMultiDictProxy[str]], T],
    params: Mapping[str, str] | None = None,
    data: Any = None,
) -> T:
    """Send one request and answer ``interpret(status, body, headers)``, measured and logged
    once.

    ``headers`` is completed with the request id of the current request or task. Transport
    failures become the counterpart's typed errors; whatever ``interpret`` raises of that
    type is recorded by its reason.
    """
    request_id = current_request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    errors = counterpart.errors
    started = time.perf_counter()
    outcome = OK
    status: int | None = None
    with outgoing_call(f"{counterpart.name} {operation}", headers) as span:
        try:
            async with http.request(
                method, url, params=params, data=data, headers=headers, timeout=time_budget
            ) as response:
                status = response.status
                answer_headers = response.headers
                raw = await _read_bounded(response, counterpart.max_answer_bytes)
                if raw is None:
                    raise errors.malformed(
                        counterpart.name,
                        f"{operation} answer is larger than {counterpart.max_answer_bytes} bytes",
                    )
            if status >= 400:
                outcome = errors.error_status_reason(status)
            return interpret(status, raw, answer_headers)
        except errors.base as error:
            outcome = error.reason
            raise
        except TimeoutError as error:
            budget_ms = (time_budget.total or 0) * 1000
            failure = errors.timeout(
                counterpart.name, f"{operation} timed out after {budget_ms:.0f} ms"
            )
            outcome = failure.reason
            raise failure from error
        except aiohttp.ClientError as error:
            failure = errors.unreachable(
                counterpart.name,
                f"{operation} failed: {type(error).__name__}",
                not isinstance(error, aiohttp.ClientConnectorError),
            )
            outcome = failure.reason
            raise failure from error
        except asyncio.CancelledError:
            outcome = CANCELLED  # cut short by the caller, e.g. finish-ride's overall deadline
            raise
        finally:
            elapsed = time.perf_counter() - started
            counterpart.histogram.labels(counterpart.name, operation, outcome).observe(elapsed)
            if status is not None and status >= ERROR_STATUS_RANGE.start:
                counterpart.error_answers.labels(
                    counterpart.name, operation, _status_label(status)
                ).inc()
            end_call_span(span, outcome, status)
            line = current_line()
            if line is not None:
                line.record_call(counterpart.name, operation, outcome, status, elapsed)
                write = counterpart.log.debug
            elif outcome in (OK, CANCELLED):
                write = counterpart.log.info
            else:
                write = counterpart.log.warning
            write(
                f"{counterpart.kind}.call",
                **{counterpart.label: counterpart.name},
                operation=operation,
                outcome=outcome,
                status=status,
                duration_ms=round(elapsed * 1000, 1),
            )


def _status_label(status: int) -> str:
    return str(status) if status in ERROR_STATUS_RANGE else OTHER_STATUS


async def _read_bounded(response: aiohttp.ClientResponse, bound: int) -> bytes | None:
    """The whole body, or None once it is known to pass ``bound``: by its Content-Length, or
    as soon as what arrived (decompressed) does. Leaving the rest unread closes the connection
    instead of draining it."""
    if response.content_length is not None and response.content_length > bound:
        return None
    body = bytearray()
    async for chunk in response.content.iter_chunked(_READ_CHUNK_BYTES):
        body += chunk
        if len(body) > bound:
            return None
    return bytes(body)
