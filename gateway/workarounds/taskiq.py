"""taskiq: the Receiver acknowledges a task run that was cancelled.

``Receiver.run_task`` (taskiq 0.13) catches ``BaseException``, so a run cancelled by a stopping
worker ends like a failed one, and with ``AcknowledgeType.WHEN_EXECUTED`` the Receiver then
acknowledges it: a task cut short would never run again. Upstream has no way for a run to
decline its acknowledgement yet: taskiq-python/taskiq#317 (open, "Change message
acknowledgement") proposes one; #371 ("Do not ACK errored messages") was closed unmerged.

The 0.13 series is the one verified here (``pyproject.toml`` pins ``taskiq<0.14``). Delete this
module when taskiq lets a cancelled run go unacknowledged, which
tests/production/test_worker_shutdown.py (a task overrunning the grace goes to another worker)
shows once the gate below is widened to the new version.
"""

import asyncio
from importlib.metadata import version

from taskiq.acks import AckController

_MAJOR, _MINOR = (int(part) for part in version("taskiq").split(".")[:2])
RECEIVER_ACKS_CANCELLED_RUNS = (_MAJOR, _MINOR) <= (0, 13)


def acknowledged_despite_cancellation(error: BaseException | None) -> bool:
    """Whether the Receiver is about to acknowledge a run that ``error`` cut short."""
    return RECEIVER_ACKS_CANCELLED_RUNS and isinstance(error, asyncio.CancelledError)


def withhold_acknowledgement(controller: AckController) -> None:
    """Make the Receiver's coming ``ack()`` a no-op: the controller acknowledges only once."""
    controller.is_acked = True
