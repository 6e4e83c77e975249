"""Top frames of a py-spy ``--format raw`` profile (collapsed stacks: ``f1;f2;f3 count``)."""

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_PATH_MARKERS = (
    "site-packages/",
    f"/lib/python{sys.version_info.major}.{sys.version_info.minor}/",
    f"{Path(__file__).resolve().parents[1]}/",
)

# Where the time goes beyond the HTTP exchanges both servers make: each is the share of samples
# with a frame of that package anywhere on the stack.
PACKAGES = (
    "structlog/",
    "logging/",
    "jsonschema/",
    "prometheus_client/",
    "bson/",
    "json/",
    "yarl/",
    "asyncio/timeouts.py",
    "aiohttp/client",
    "aiohttp/web",
)


@dataclass(frozen=True, slots=True)
class Frames:
    samples: int
    self_time: list[tuple[str, int]]
    inclusive: list[tuple[str, int]]
    packages: list[tuple[str, int]]


def top_frames(collapsed: Path, limit: int = 40, inclusive_within: str = "") -> Frames:
    """The frames most often on top of the stack, those most often anywhere on it, by package.

    ``inclusive_within`` keeps only frames whose text contains it in the inclusive list (e.g. a
    package path), so the event loop's own frames do not crowd out the application's.
    """
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            if inclusive_within in frame:
                anywhere[frame] += count
        for package in PACKAGES:
            if any(package in frame for frame in frames):
                packages[package] += count
    return Frames(
        samples, own.most_common(limit), anywhere.most_common(limit), packages.most_common()
    )


def _short(frame: str) -> str:
    """``fn (/long/path/site-packages/pkg/mod.py:12)`` -> ``fn (pkg/mod.py:12)``."""
    name, _, where = frame.partition(" (")
    for marker in _PATH_MARKERS:
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where}" if where else name
