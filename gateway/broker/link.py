"""Whether this process reaches the broker's Redis, since when, and the events of a change."""

import time
from datetime import UTC, datetime

import structlog

from gateway.broker.metrics import BROKER_UP, RECONNECTS

log = structlog.get_logger("gateway.broker")


class BrokerLink:
    """Fed by every command's outcome; logs ``broker.reconnected`` when the link comes back."""

    def __init__(self) -> None:
        self._up: bool | None = None
        self._since_monotonic = time.monotonic()
        self._since = datetime.now(UTC)

    @property
    def up(self) -> bool | None:
        """None until the first command has told."""
        return self._up

    @property
    def since(self) -> datetime:
        return self._since

    def mark_up(self) -> None:
        if self._up is False:
            RECONNECTS.inc()
            log.info("broker.reconnected", down_for_s=round(self._elapsed_s(), 3))
        self._change(up=True)

    def mark_down(self) -> None:
        self._change(up=False)

    def _change(self, *, up: bool) -> None:
        BROKER_UP.set(1 if up else 0)
        if self._up is up:
            return
        self._up = up
        self._since_monotonic = time.monotonic()
        self._since = datetime.now(UTC)

    def _elapsed_s(self) -> float:
        return time.monotonic() - self._since_monotonic
