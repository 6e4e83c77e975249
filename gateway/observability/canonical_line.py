"""One canonical log line per finish-ride request and per start-ride task run (docs/design.md §9).

Stripe's "canonical log lines": rather than a line per step, a request (or a task run)
gathers what happened — its ids, vendor, country, result, reason, HTTP status, total duration
and every upstream and vendor call's outcome, status and duration — and writes it once, at the
end. It is the only line that states the outcome; per-step events are DEBUG.

The line being gathered lives in a context variable, so the HTTP exchange core appends each
call wherever it runs, tasks started by the flow included (a task copies its context, and with
it the same line).
"""

import time
from contextvars import ContextVar
from typing import Any

from structlog.typing import FilteringBoundLogger

OK = "ok"

_CURRENT: ContextVar["CanonicalLine | None"] = ContextVar("canonical_line", default=None)


class CanonicalLine:
    """What one request or task run did, written as one line by ``write``."""

    __slots__ = ("_calls", "_fields", "_started", "_upstream_failed")

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._fields: dict[str, Any] = {}
        self._calls: list[dict[str, Any]] = []
        self._upstream_failed = False

    def annotate(self, **fields: Any) -> None:
        """Add what became known (an order id, the vendor, ...); a later value wins."""
        self._fields.update(fields)

    def append(self, field: str, item: Any) -> None:
        """Add ``item`` to the list ``field`` (e.g. each failed step, in order)."""
        self._fields.setdefault(field, []).append(item)

    def has(self, field: str) -> bool:
        """Whether ``field`` was annotated or appended to."""
        return field in self._fields

    def record_call(
        self, target: str, operation: str, outcome: str, status: int | None, duration_s: float
    ) -> None:
        """One upstream or vendor exchange: who, what, how it ended, its HTTP status if any."""
        self._calls.append(
            {
                "call": f"{target}.{operation}",
                "outcome": outcome,
                "status": status,
                "ms": round(duration_s * 1000, 1),
            }
        )
        if outcome != OK:
            self._upstream_failed = True

    def write(
        self,
        logger: FilteringBoundLogger,
        event: str,
        *,
        own_fault: bool = False,
        upstream_failed: bool = False,
    ) -> None:
        """The line itself: ERROR for the gateway's own fault, WARNING when an upstream or a
        vendor failed (``upstream_failed``, or any recorded call), INFO otherwise (successes
        and client refusals)."""
        fields = {
            **self._fields,
            "duration_ms": round((time.perf_counter() - self._started) * 1000, 1),
            "calls": self._calls,
        }
        if own_fault:
            logger.error(event, **fields)
        elif upstream_failed or self._upstream_failed:
            logger.warning(event, **fields)
        else:
            logger.info(event, **fields)


class gathering:  # lower case: it reads as a function, ``with gathering() as line``
    """A new line for the block: the calls made inside it, in any task it starts, land on it.

    A plain context manager rather than a generator-based one: it runs once per request."""

    __slots__ = ("_line", "_token")

    def __enter__(self) -> CanonicalLine:
        self._line = CanonicalLine()
        self._token = _CURRENT.set(self._line)
        return self._line

    def __exit__(self, *_: object) -> None:
        _CURRENT.reset(self._token)


def current_line() -> CanonicalLine | None:
    """The line being gathered here, if any (a call made outside a request or a task has none)."""
    return _CURRENT.get()


def annotate_line(**fields: Any) -> None:
    """Add ``fields`` to the line being gathered here, if any."""
    line = _CURRENT.get()
    if line is not None:
        line.annotate(**fields)
