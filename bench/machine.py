"""What the benchmark ran on, for the report."""

import os
import platform
from dataclasses import dataclass
from pathlib import Path

import aiohttp


@dataclass(frozen=True, slots=True)
class Machine:
    cpu: str
    cores: int
    python: str
    aiohttp: str
    kernel: str

    def describe(self) -> str:
        return (
            f"{self.cpu}, {self.cores} cores; Linux {self.kernel}; "
            f"Python {self.python}; aiohttp {self.aiohttp}"
        )


def this_machine() -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        python=platform.python_version(),
        aiohttp=aiohttp.__version__,
        kernel=platform.release(),
    )


def load_average() -> str:
    """The 1-minute load average: anything else running skews the numbers."""
    return Path("/proc/loadavg").read_text().split()[0]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"
