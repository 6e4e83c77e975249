"""A delivery of a stream entry, and how many times its task has been delivered, from the
entry to the task's run.

The broker counts the deliveries of an entry (and of the copies a stopping worker handed back
before it) and puts the count in the message's labels; the task run reads it, so its log line
and its duration metric say whether it is a redelivery.
"""

from dataclasses import dataclass

# The stream entry field a handed-back copy carries its earlier deliveries in.
DELIVERIES_FIELD = b"deliveries"
# The taskiq message label the broker hands the count to the task in.
DELIVERIES_LABEL = "deliveries"
# The label naming the stream entry the message was delivered from: two entries may carry the
# same task id (a producer retrying with it after a 503), so the entry is what is held.
ENTRY_LABEL = "stream_entry"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One stream entry as the broker hands it on: read, taken over, or dead-lettered."""

    entry_id: bytes
    fields: dict[bytes, bytes]
    # Including this one, and those of the copies a stopping worker handed back before.
    deliveries: int
    # Set when taken over from another consumer.
    previous_consumer: str | None = None
    idle_ms: int | None = None


def deliveries_of(labels: dict[str, object]) -> int:
    """1 for a first delivery, or for the in-memory broker, which never redelivers."""
    value = str(labels.get(DELIVERIES_LABEL, "1"))
    return int(value) if value.isdigit() else 1
