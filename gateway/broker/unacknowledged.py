"""A task run that must stay unacknowledged (docs/design.md §3a), and how a broker lets it."""

from typing import Protocol, runtime_checkable


class LeaveUnacknowledged(Exception):
    """Raised by a task run that could not decide: its delivery stays pending and is delivered
    again after the redelivery timeout (e.g. the Redis holding the order lease or the ride
    ledger was unreachable, as the stream itself then is)."""


@runtime_checkable
class LeavesPending(Protocol):
    """A delivery's acknowledgement that can also be given up: the entry stays pending, no
    longer held as running, so the redelivery timeout hands it to a worker again."""

    def leave_pending(self) -> None: ...
