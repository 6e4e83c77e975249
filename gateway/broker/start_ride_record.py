"""Recording a start-ride run (docs/design.md §9): the task's adapter around the ride core.

The core (``gateway.rides.start_ride``) answers what the run did; this module turns that into
the metrics and the run's canonical log line, ``start_ride.finished``, written once, and into
LeaveUnacknowledged for a run the policy leaves pending.
"""

import time

import structlog

from gateway.broker.unacknowledged import LeaveUnacknowledged
from gateway.metrics import (
    RIDES_STARTED,
    STALE_METER_RIDES,
    START_RIDE_STEP_FAILURES,
    START_RIDE_TASK_DURATION,
    UNSETTLED_STARTS,
    VENDOR_REFUSALS,
)
from gateway.observability.canonical_line import CanonicalLine, gathering
from gateway.observability.crash_site import crash_site
from gateway.observability.tracing import current_trace_id
from gateway.rides.ports import RidePorts
from gateway.rides.start_ride import (
    UNEXPECTED_ERROR,
    StartOutcome,
    StartRecord,
    StartResult,
    start_ride,
)

log = structlog.get_logger("gateway.start_ride")

# Every result's series exist at 0 from the start, redelivered or not: a series born at its
# first observation is invisible to rate() and increase() over the window it appeared in, so
# the first redelivered runs after a worker's death would read as none (the runbook's query).
for _result in StartResult:
    for _redelivered in ("true", "false"):
        START_RIDE_TASK_DURATION.labels(_result.value, _redelivered)

# The canonical line's list of the steps that failed, each with its cause and the policy's row.
FAILED_STEPS = "failed_steps"


async def run_start_ride(
    order_id: str, ports: RidePorts, *, last_delivery: bool = False, redelivered: bool = False
) -> StartOutcome:
    """Run the task for one order and record its outcome, once.

    Raises LeaveUnacknowledged when the policy says the run must stay pending.
    ``last_delivery``: the broker will not deliver the task again (§3a); ``redelivered``: this
    is not the entry's first delivery (the task duration's label).
    """
    started = time.perf_counter()
    with gathering() as line:
        outcome = await start_ride(order_id, ports, last_delivery=last_delivery)
        record = outcome.record
        # Their tracebacks' sites only: a plugin's message may quote a national id.
        for vendor_crash in record.vendor_crashes:
            log.error("start_ride.vendor_crashed", **crash_site(vendor_crash))
        if record.crash is not None:
            log.error("start_ride.crashed", **crash_site(record.crash))
        _count(outcome, record)
        START_RIDE_TASK_DURATION.labels(outcome.result, "true" if redelivered else "false").observe(
            time.perf_counter() - started
        )
        _annotate(line, outcome, record)
        line.write(
            log,
            "start_ride.finished",
            own_fault=outcome.reason == UNEXPECTED_ERROR,
            upstream_failed=line.has(FAILED_STEPS),
        )
    if outcome.left_unacknowledged:
        raise LeaveUnacknowledged(outcome.reason)
    return outcome


def _count(outcome: StartOutcome, record: StartRecord) -> None:
    vendor, country = record.vendor, record.country
    if record.vendor_code is not None:
        VENDOR_REFUSALS.labels(vendor, record.vendor_code).inc()
    if record.stale_meter_ride:
        STALE_METER_RIDES.labels(vendor, country).inc()
    if record.unsettled_start_marked:
        UNSETTLED_STARTS.labels(vendor, country).inc()
    for failed in record.failed_steps:
        START_RIDE_STEP_FAILURES.labels(vendor, country, failed.step.value, failed.cause).inc()
    RIDES_STARTED.labels(outcome.vendor, outcome.country, outcome.result, outcome.reason).inc()


def _annotate(line: CanonicalLine, outcome: StartOutcome, record: StartRecord) -> None:
    """The line's fields, each only where the run met what it names."""
    if record.ride_id is not None:
        line.annotate(ride_id=record.ride_id)
    if record.start_asked_again is not None:
        line.annotate(start_asked_again=record.start_asked_again)
    if record.vendor_code is not None:
        line.annotate(vendor_code=record.vendor_code)
    if record.unsettled_start_marked:
        line.annotate(unsettled_start_marked=True)
    if record.orphaned_ride_ended is not None:
        line.annotate(orphaned_ride_ended=record.orphaned_ride_ended)
    for failed in record.failed_steps:
        line.append(
            FAILED_STEPS,
            {"step": failed.step.value, "cause": failed.cause, "reaction": failed.reaction.name},
        )
    line.annotate(
        vendor=outcome.vendor,
        country=outcome.country,
        result=outcome.result.value,
        reason=outcome.reason,
        left_unacknowledged=outcome.left_unacknowledged,
        trace_id=current_trace_id(),
    )
