"""The Prometheus metrics of the broker and of the worker processes around it (docs/design.md
§9), on gateways and workers alike.

Gauges describing the shared stream (backlog, pending age, consumers, dead letters) are set by
every worker process from the same Redis: a worker host reports the most recent reading. A worker
that cannot read Redis sets them to NaN (unknown) rather than leave its last reading standing as
if current, and STREAM_SAMPLED says when the stream was last read.
"""

import math

from prometheus_client import Counter, Gauge

ENQUEUES = Counter(
    "meters_broker_enqueues_total",
    "Start-ride enqueues by gateways. result: ok, unreachable (Redis refused or failed), timeout "
    "(no answer within the bound), not_replicated (fewer replicas than broker.min_replicas_acked "
    "acknowledged within 1 s; the task may still be in the stream).",
    ["result"],
)
BROKER_UP = Gauge(
    "meters_broker_up",
    "1 while this process reaches the broker's Redis master, 0 while it does not (always 1 "
    "with the in-memory broker, which lives in the process).",
    multiprocess_mode="livemin",
)
READ_FAILURES = Counter(
    "meters_broker_read_failures_total",
    "Failed reads of the task stream by workers (each is retried with backoff).",
)
RECONNECTS = Counter(
    "meters_broker_reconnects_total",
    "Times a process reached the broker's Redis again after losing it.",
)
RECLAIMED = Counter(
    "meters_broker_reclaimed_total",
    "Tasks taken over from a worker that stopped answering (idle past the redelivery timeout).",
)
WORKER_RESTARTS = Counter(
    "meters_worker_restarts_total",
    "Worker processes a supervisor started again after one died.",
)
OLDEST_PENDING_AGE = Gauge(
    "meters_broker_oldest_pending_age_seconds",
    "How long ago the oldest unfinished task was enqueued: the oldest entry of the stream, "
    "waiting or delivered but not acknowledged (acknowledged ones are deleted); 0 when none.",
    multiprocess_mode="mostrecent",
)
STREAM_LENGTH = Gauge(
    "meters_broker_stream_length",
    "Tasks in the stream: waiting plus running (acknowledged tasks are deleted).",
    multiprocess_mode="mostrecent",
)
CONSUMERS = Gauge(
    "meters_broker_consumers",
    "Live worker processes: those that sent the stream a heartbeat within one redelivery "
    "timeout (consumers of gone ones are removed from the group after three).",
    multiprocess_mode="mostrecent",
)
DEAD_LETTERS = Counter(
    "meters_broker_dead_letters_total",
    "Tasks moved to the dead-letter stream after broker.max_deliveries deliveries.",
)
DEAD_LETTER_STREAM_LENGTH = Gauge(
    "meters_broker_dead_letter_stream_length",
    "Tasks waiting in the dead-letter stream for a person (see docs/production.md).",
    multiprocess_mode="mostrecent",
)
STREAM_SAMPLED = Gauge(
    "meters_broker_stats_sampled_timestamp_seconds",
    "When a worker last read the stream's gauges (consumers, stream length, oldest pending age, "
    "dead-letter stream length) from Redis, in Unix time; 0 before the first reading and on "
    "gateways. While Redis cannot be read those gauges are NaN and this one stands still.",
    multiprocess_mode="mostrecent",
)
_STREAM_GAUGES = (CONSUMERS, STREAM_LENGTH, OLDEST_PENDING_AGE, DEAD_LETTER_STREAM_LENGTH)


def stream_state_read() -> None:
    """The stream's gauges were all just read from Redis."""
    STREAM_SAMPLED.set_to_current_time()


def stream_state_unknown() -> None:
    """This worker could not read Redis: its last reading of the stream is no longer current.

    NaN rather than removing the values: in multi-process mode each process's last value stays
    in its file, where no removal reaches; the most recent write, this NaN, is what is served.
    """
    for gauge in _STREAM_GAUGES:
        gauge.set(math.nan)
