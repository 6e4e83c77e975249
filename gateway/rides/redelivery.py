"""Whether the running start-ride task is a redelivery, for its duration metric's label.

The broker counts an entry's deliveries (``gateway.broker.delivery``); the task marks its run
with the answer, and the flow, which never sees the message, reads it back here.
"""

from contextvars import ContextVar

_REDELIVERED: ContextVar[bool] = ContextVar("redelivered", default=False)


def mark_redelivered(redelivered: bool) -> None:
    """Set for the current task run (each run is its own asyncio task, with its own context)."""
    _REDELIVERED.set(redelivered)


def redelivered_label() -> str:
    """The ``redelivered`` label of the task duration metric: "true" or "false"."""
    return "true" if _REDELIVERED.get() else "false"
