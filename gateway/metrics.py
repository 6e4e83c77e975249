"""Prometheus metrics (DESIGN §9). Labels name vendors, countries and reasons, never people."""

from prometheus_client import Counter, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

RIDES_STARTED = Counter(
    "meters_rides_started_total",
    "Start-ride task outcomes: result is started, fallback, skipped or aborted; reason says why.",
    ["vendor", "country", "result", "reason"],
)
RIDES_FINISHED = Counter(
    "meters_rides_finished_total",
    "Finish-ride answers: result is priced or refused; reason is the error code or ok.",
    ["vendor", "country", "result", "reason"],
)
FINISH_RIDE_DURATION = Histogram(
    "meters_finish_ride_duration_seconds",
    "Wall time of finish-ride requests by answer code.",
    ["code"],
    buckets=_LATENCY_BUCKETS,
)
START_RIDE_TASK_DURATION = Histogram(
    "meters_start_ride_task_duration_seconds",
    "Wall time of the start-ride task by result.",
    ["result"],
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
