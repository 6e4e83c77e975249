"""Prometheus metrics (docs/design.md §9). Labels name vendors, countries and reasons, never people.

Each process counts in memory, unless ``PROMETHEUS_MULTIPROC_DIR`` is set in its environment
before it starts: then prometheus-client keeps the values in files there, and ``exposition``
reads every process's files, so one endpoint reports a whole family of worker processes.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# generate_latest writes the 0.0.4 text format whatever CONTENT_TYPE_LATEST says.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# The outcome of a call abandoned because its caller gave up, not because it failed.
CANCELLED = "cancelled"

# Boundaries sit just above the shipped timeouts (0.5 s upstream calls, 3 s vendor calls and the
# finish-ride deadline), so a call that ran into its timeout lands in the bucket the timeout
# closes, and a p99 reads about 0.55 s or 3.3 s instead of being interpolated towards the next
# round boundary (0.5 s timeouts once read as a 0.995 s p99).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.55, 1.0, 2.5, 3.3, 5.0, 10.0)

RIDES_STARTED = Counter(
    "meters_rides_started_total",
    "Start-ride task outcomes. result: started, already_started, fallback, skipped or ended; "
    "reason: ok, the fallback-matrix step that failed, or why the order was skipped.",
    ["vendor", "country", "result", "reason"],
)
START_RIDE_STEP_FAILURES = Counter(
    "meters_start_ride_step_failures_total",
    "Failed start-ride steps, including those after which the task carried on or had already "
    "fallen back. step: the fallback-matrix row; cause: the service and how it failed.",
    ["vendor", "country", "step", "cause"],
)
RIDES_FINISHED = Counter(
    "meters_rides_finished_total",
    "Finish-ride answers. result: priced, replayed (a priced order answered again without "
    "calling the vendor) or refused; reason: ok or the refusal code.",
    ["vendor", "country", "result", "reason"],
)
STALE_METER_RIDES = Counter(
    "meters_stale_meter_rides_total",
    "Vendor ride ids answered to a start that the ride ledger holds for another order "
    "(docs/design.md §3a); each ended in a fallback and the ride was left alone.",
    ["vendor", "country"],
)
UNSETTLED_STARTS = Counter(
    "meters_unsettled_starts_total",
    "Starts whose answer was lost and stayed unknown after asking again (docs/design.md §3a): "
    "the driver is marked, so the next ride the vendor answers them is held for this order.",
    ["vendor", "country"],
)
RIDE_LEDGER_AGE = Gauge(
    "meters_ride_ledger_age_seconds",
    "Time since the ride ledger was created where it lives (the broker's Redis, or this "
    "process). Younger than 7 days: stale meter rides are not fully guarded.",
    # Across worker processes the youngest ledger seen is the one to worry about.
    multiprocess_mode="livemin",
)
FINISH_RIDE_DURATION = Histogram(
    "meters_finish_ride_duration_seconds",
    "Wall time of finish-ride requests by answer code (ok or the refusal code).",
    ["code"],
    buckets=_LATENCY_BUCKETS,
)
START_RIDE_TASK_DURATION = Histogram(
    "meters_start_ride_task_duration_seconds",
    "Wall time of the start-ride task by result, and whether the run is a redelivery "
    "(redelivered: true or false).",
    ["result", "redelivered"],
    buckets=_LATENCY_BUCKETS,
)
UPSTREAM_CALL_DURATION = Histogram(
    "meters_upstream_call_duration_seconds",
    "Calls to platform services by service, operation and outcome.",
    ["service", "operation", "outcome"],
    buckets=_LATENCY_BUCKETS,
)
VENDOR_CALL_DURATION = Histogram(
    "meters_vendor_call_duration_seconds",
    "Calls to meter vendor APIs by vendor, operation and outcome.",
    ["vendor", "operation", "outcome"],
    buckets=_LATENCY_BUCKETS,
)
# The error answers' twins of the call histograms, by HTTP status: a 401 (credentials) apart from
# a 503 (the service down). The status is not a label of the histograms, which would multiply
# their bucket series by every status seen; gateway.plugins.exchange bounds its values.
UPSTREAM_CALL_ERROR_ANSWERS = Counter(
    "meters_upstream_call_error_answers_total",
    "Answers of platform services with an HTTP status of 400 or more, by service, operation and "
    "status (a status past 599 is other).",
    ["service", "operation", "status"],
)
VENDOR_CALL_ERROR_ANSWERS = Counter(
    "meters_vendor_call_error_answers_total",
    "Answers of meter vendor APIs with an HTTP status of 400 or more, by vendor, operation and "
    "status (a status past 599 is other).",
    ["vendor", "operation", "status"],
)
VENDOR_REFUSALS = Counter(
    "meters_vendor_refusals_total",
    "Starts a vendor refused for a business reason (VendorRefused). vendor_code: a code the "
    "vendor plugin declares in refusal_codes, else other.",
    ["vendor", "vendor_code"],
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def scrape_registry() -> CollectorRegistry:
    """What a scrape reads: this process's metrics, or every process's in multi-process mode."""
    if multiprocess_dir() is None:
        return REGISTRY
    # The default registry would hold only this process's values; this one merges the files.
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped in the library
    return registry


def exposition() -> bytes:
    return generate_latest(scrape_registry())
