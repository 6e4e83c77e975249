"""A module's structlog events, captured in a test whatever logging the session configured.

structlog caches a logger on first use once ``configure_logging`` ran (the demo and CLI tests
run it in-process), so ``structlog.testing.capture_logs`` cannot be relied on; replacing the
module's ``log`` with a capturing logger can.
"""

import logging
from collections.abc import MutableMapping
from types import ModuleType
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture


class CapturedLog:
    def __init__(self) -> None:
        self.capture = LogCapture()

    def events(self, name: str) -> list[MutableMapping[str, Any]]:
        """The captured events of that name, in order; ``log_level`` says how each was logged."""
        return [entry for entry in self.capture.entries if entry["event"] == name]


def capture_log_of(monkeypatch: pytest.MonkeyPatch, *modules: ModuleType) -> CapturedLog:
    """The events of every module given, in the order they were logged."""
    captured = CapturedLog()
    logger = structlog.wrap_logger(
        None,
        processors=[structlog.contextvars.merge_contextvars, captured.capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    for module in modules:
        monkeypatch.setattr(module, "log", logger)
    return captured
