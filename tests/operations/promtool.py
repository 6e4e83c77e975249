"""Running ``promtool`` (Debian's ``prometheus`` package; ``scripts/ensure-promtool.sh``)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

TIMEOUT_S = 60.0


def promtool() -> str:
    """The promtool binary. Missing: the test fails under CI=true, and is skipped elsewhere."""
    binary = shutil.which("promtool")
    if binary is not None:
        return binary
    message = "promtool is not installed: run scripts/ensure-promtool.sh (make test does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S
    )
