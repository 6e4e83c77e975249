"""Running the start-ride task in process and reading what it left behind (docs/design.md §9):
its StartOutcome (or the LeaveUnacknowledged it raised), the ``meters_rides_started_total`` and
``meters_start_ride_step_failures_total`` series it incremented and its canonical line
``start_ride.finished``."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.trace import SpanKind

from gateway.broker import start_ride_record
from gateway.broker.start_ride_record import run_start_ride
from gateway.broker.unacknowledged import LeaveUnacknowledged
from gateway.http.app_keys import SERVICES
from gateway.observability.tracing import continued_trace
from gateway.rides import start_ride as start_ride_module
from gateway.rides.ports import Services
from gateway.rides.start_ride import StartOutcome, StartResult
from tests.gateway_world import Gateway
from tests.log_capture import CapturedLog, capture_log_of
from tests.observability.scrape import Labels, increase, labels, scrape

STARTED = "meters_rides_started_total"
STEP_FAILURES = "meters_start_ride_step_failures_total"
# The trace the run's enqueuer passed on (tracing is off in process: the id is only passed on).
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@dataclass
class Run:
    outcome: StartOutcome | LeaveUnacknowledged
    """What ``run_start_ride`` returned, or the LeaveUnacknowledged it raised."""
    counted: Counter[Labels]
    """The ``meters_rides_started_total`` series the run incremented."""
    failures: Counter[Labels]
    """The ``meters_start_ride_step_failures_total`` series the run incremented."""
    finished: dict[str, Any]
    log: CapturedLog


async def run_start(
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    order_id: str,
    services: Services | None = None,
    *,
    last_delivery: bool = False,
) -> Run:
    """Run the task in-process, as the worker does (in the trace its enqueuer passed on), with
    the gateway's services or those given, and read what it left behind. ``last_delivery``: as
    the worker runs the delivery past which the broker dead-letters."""
    log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)
    before = await scrape(gateway.client)
    outcome: StartOutcome | LeaveUnacknowledged
    with continued_trace("start-ride task", {"traceparent": TRACEPARENT}, SpanKind.CONSUMER):
        try:
            outcome = await run_start_ride(
                order_id,
                (services or gateway.client.app[SERVICES]).ports,
                last_delivery=last_delivery,
            )
        except LeaveUnacknowledged as left_pending:
            outcome = left_pending
    after = await scrape(gateway.client)
    (finished,) = log.events("start_ride.finished")
    return Run(
        outcome,
        increase(before, after, STARTED),
        increase(before, after, STEP_FAILURES),
        dict(finished),
        log,
    )


def assert_recorded(
    run: Run,
    vendor: str,
    result: StartResult,
    reason: str,
    *,
    level: str = "info",
    country: str = "IL",
) -> None:
    """The outcome, its one metric increment and its canonical line all say the same; the line
    is a WARNING when an upstream step failed (§9)."""
    assert run.outcome == StartOutcome(result, reason, vendor, country)
    _assert_counted_and_logged(run, vendor, country, result, reason, level, left_pending=False)


def assert_left_pending(run: Run, vendor: str, reason: str, *, country: str = "IL") -> None:
    """The run raised LeaveUnacknowledged with its reason, was counted as ended and said on its
    line that its delivery stays pending."""
    assert isinstance(run.outcome, LeaveUnacknowledged)
    assert run.outcome.args == (reason,)
    _assert_counted_and_logged(
        run, vendor, country, StartResult.ENDED, reason, "warning", left_pending=True
    )


def _assert_counted_and_logged(
    run: Run,
    vendor: str,
    country: str,
    result: StartResult,
    reason: str,
    level: str,
    *,
    left_pending: bool,
) -> None:
    assert run.counted == Counter(
        {labels(vendor=vendor, country=country, result=result, reason=reason): 1}
    )
    line = run.finished
    assert (line["log_level"], line["result"], line["reason"]) == (level, result.value, reason)
    assert (line["vendor"], line["country"]) == (vendor, country)
    assert line["left_unacknowledged"] is left_pending
    assert line["trace_id"] == TRACE_ID


def failed_steps(run: Run) -> list[tuple[str, str, str]]:
    """The failed steps on the run's line, each as (step, cause, reaction)."""
    return [
        (step["step"], step["cause"], step["reaction"])
        for step in run.finished.get("failed_steps", [])
    ]


def step_failures(vendor: str, country: str, *steps: tuple[str, str]) -> Counter[Labels]:
    """The ``meters_start_ride_step_failures_total`` increments of these (step, cause) pairs."""
    return Counter(
        labels(vendor=vendor, country=country, step=step, cause=cause) for step, cause in steps
    )


def events(run: Run, name: str) -> list[dict[str, Any]]:
    """The run's log events of that name, without the fields every event carries."""
    return [
        {key: value for key, value in event.items() if key not in ("event", "vendor")}
        for event in run.log.events(name)
    ]
