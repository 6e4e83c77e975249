"""Processes a test run leaves behind: every process that inherited this session's marker (an
environment variable set at the session's start) and still runs when the session ends, the
orphans re-parented to init included, which a walk down from pytest's pid would miss.

Processes of other sessions on the same machine (another worktree's suite) carry another
marker, or none, and are left alone.
"""

import os
import signal
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

SESSION_VARIABLE = "TEST_SUITE_SESSION"
# Processes just told to stop (a worker's graceful stop after its supervisor died) get this
# long to finish before they count as left behind.
GRACE_S = 10.0
_POLL_S = 0.1


@dataclass(frozen=True, slots=True)
class LeftBehind:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid}: {self.command}"


def mark_session() -> None:
    """Every process started from now on inherits the marker (unless given an environment of
    its own without it)."""
    os.environ[SESSION_VARIABLE] = uuid.uuid4().hex


def left_behind() -> list[LeftBehind]:
    """This session's processes still running after ``GRACE_S``; each is then SIGKILLed, so a
    run leaves none behind even when it fails for them."""
    deadline = time.monotonic() + GRACE_S
    while (found := _marked_processes()) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    for process in found:
        with suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(process.pid, signal.SIGKILL)
    return found


def _marked_processes() -> list[LeftBehind]:
    marker = f"{SESSION_VARIABLE}={os.environ[SESSION_VARIABLE]}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            # A zombie's environment reads empty: it runs no more and is not counted.
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # ended meanwhile, or another user's
        found.append(LeftBehind(int(entry.name), command.strip()))
    return found
