"""A task run that must stay unacknowledged (docs/design.md §3a)."""


class LeaveUnacknowledged(Exception):
    """Raised by a task run that could not decide: its delivery stays pending and is delivered
    again after the redelivery timeout (e.g. the Redis holding the order lease or the ride
    ledger was unreachable, as the stream itself then is). The worker's Receiver withholds the
    acknowledgement (gateway/worker/receiver.py)."""
