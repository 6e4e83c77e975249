"""How many times a task has been delivered, from the stream entry to the task's run.

The broker counts the deliveries of an entry (and of the copies a stopping worker handed back
before it) and puts the count in the message's labels; the task run reads it, so its log line
and its duration metric say whether it is a redelivery.
"""

from contextvars import ContextVar

# The stream entry field a handed-back copy carries its earlier deliveries in.
DELIVERIES_FIELD = b"deliveries"
# The taskiq message label the broker hands the count to the task in.
DELIVERIES_LABEL = "deliveries"
# The label naming the stream entry the message was delivered from: two entries may carry the
# same task id (a producer retrying with it after a 503), so the entry is what is held.
ENTRY_LABEL = "stream_entry"

_REDELIVERED: ContextVar[bool] = ContextVar("redelivered", default=False)


def deliveries_of(labels: dict[str, object]) -> int:
    """1 for a first delivery, or for the in-memory broker, which never redelivers."""
    value = str(labels.get(DELIVERIES_LABEL, "1"))
    return int(value) if value.isdigit() else 1


def mark_redelivered(redelivered: bool) -> None:
    """Set for the current task run (each run is its own asyncio task, with its own context)."""
    _REDELIVERED.set(redelivered)


def redelivered_label() -> str:
    """The ``redelivered`` label of the task duration metric: "true" or "false"."""
    return "true" if _REDELIVERED.get() else "false"
