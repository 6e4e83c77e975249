"""CPython: ``asyncio.wait_for`` can lose a cancellation (python/cpython#86296, fixed in 3.12).

With a socket timeout, redis-py sends each command under ``asyncio.wait_for``, which before
Python 3.12 returns the send's result instead of raising CancelledError when the task is
cancelled as the send finishes. The reply is then read as if nothing happened and the
cancellation is lost: a worker's read, cancelled by taskiq's Receiver on SIGTERM, would go on
reading an idle stream forever (tests/production/test_stream_broker.py sweeps that moment).

Delete this module when the project requires Python >= 3.12 (``requires-python``).
"""

import asyncio
import sys
from collections.abc import Iterable

from redis.asyncio.connection import AbstractConnection

WAIT_FOR_LOSES_CANCELLATION = sys.version_info < (3, 12)


class _SendHonouringCancellation(AbstractConnection):
    """A connection on which a command whose task is cancelled while it is sent ends cancelled.

    The cancellation is raised again, and the connection, whose reply will now never be read,
    is dropped.
    """

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        task = asyncio.current_task()
        requested = task.cancelling() if task is not None else 0
        await super().send_packed_command(command, check_health)
        if task is not None and task.cancelling() > requested:
            await self.disconnect(nowait=True)
            raise asyncio.CancelledError


def cancellable_connection_class(
    connection_class: type[AbstractConnection],
) -> type[AbstractConnection]:
    """``connection_class`` itself where the bug is fixed, else a subclass that works around it."""
    if not WAIT_FOR_LOSES_CANCELLATION or issubclass(connection_class, _SendHonouringCancellation):
        return connection_class
    return type(
        f"{connection_class.__name__}HonouringCancellation",
        (_SendHonouringCancellation, connection_class),
        {},
    )
