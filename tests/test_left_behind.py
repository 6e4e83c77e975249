"""The suite fails a run that leaves a process behind, naming it (tests/conftest.py's session
hooks): here an inner run of one test that starts a process and never ends it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.left_behind import SESSION_VARIABLE

# Set only for the inner run; any other run skips the leaking test.
LEAK_VARIABLE = "TEST_SUITE_LEAK_A_PROCESS"
LEFT_SLEEPING = "3141"


@pytest.mark.skipif(LEAK_VARIABLE not in os.environ, reason="only in the inner run below")
def test_that_leaks_a_process() -> None:
    subprocess.Popen(["sleep", LEFT_SLEEPING])  # never waited for, never ended


def test_a_run_that_leaves_a_process_behind_fails_naming_it() -> None:
    # The inner run's processes get the inner session's own marker, not this one's.
    env = {name: value for name, value in os.environ.items() if name != SESSION_VARIABLE}
    inner = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            f"{__file__}::{test_that_leaks_a_process.__name__}",
        ],
        env={**env, LEAK_VARIABLE: "1"},
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert inner.returncode == pytest.ExitCode.TESTS_FAILED, inner.stdout + inner.stderr
    assert "1 passed" in inner.stdout
    named = inner.stdout.split("processes left behind", 1)[1].splitlines()[1]
    left = re.fullmatch(rf"pid ([0-9]+): sleep {LEFT_SLEEPING}", named)
    assert left is not None, inner.stdout
    # And it was ended, so this run leaves nothing behind either (a zombie's cmdline is empty).
    cmdline = Path(f"/proc/{left[1]}/cmdline")
    assert not cmdline.exists() or cmdline.read_bytes() == b""
