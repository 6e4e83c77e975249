"""Writes the broker answers for only once enough replicas hold them (docs/design.md §8).

An enqueue (``ReliableStreamBroker``) and a dead letter's requeue (``DeadLetters``) send their
write and ``WAIT replicas REPLICATION_WAIT_MS`` on one connection, so that WAIT counts the
replicas that acknowledged that very write.
"""

from redis.exceptions import RedisError

# Redis WAIT's own bound for replicas to acknowledge a write.
REPLICATION_WAIT_MS = 1000


class NotReplicated(RedisError):
    """The write is in the master, but fewer replicas than required confirmed it."""

    def __init__(self, acknowledged: int, required: int) -> None:
        super().__init__(
            f"{acknowledged} of {required} replicas acknowledged within "
            f"{REPLICATION_WAIT_MS / 1000:g} s"
        )
