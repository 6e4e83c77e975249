"""Where the gateway spends finish-ride's time: py-spy on ``serve`` under the throughput load."""

import asyncio
import sys
from pathlib import Path

from bench.finish_ride import gateway, stand_ins
from bench.flame import Frames, top_frames
from bench.loadgen import drive

PY_SPY = Path(sys.executable).parent / "py-spy"
SAMPLE_RATE_HZ = 250


async def profile_gateway(workdir: Path, *, seconds: float, concurrency: int) -> Frames:
    if not PY_SPY.exists():
        raise RuntimeError(f"{PY_SPY} is missing: pip install -e '.[bench]'")
    output = workdir / "gateway.pyspy.txt"
    async with (
        stand_ins(workdir) as upstreams,
        gateway(workdir, upstreams) as (url, proc),
    ):
        spy = await asyncio.create_subprocess_exec(
            str(PY_SPY),
            "record",
            f"--pid={proc.pid}",
            f"--duration={seconds:g}",
            f"--rate={SAMPLE_RATE_HZ}",
            "--format=raw",
            f"--output={output}",
            "--nonblocking",
            # Only samples holding the GIL: with the machine's two cores shared by the load
            # generator and the stand-ins, `serve` is often descheduled inside a socket send,
            # which wall-clock sampling charges to that send (it was the profile's top frame).
            "--gil",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await drive(url, concurrency=concurrency, duration_s=seconds, warmup_s=0.5)
        if await spy.wait() != 0:
            raise RuntimeError("py-spy failed (it needs ptrace: run as root or allow it)")
    return top_frames(output, inclusive_within="gateway/")


def render_profile(frames: Frames, *, seconds: float, concurrency: int, limit: int = 15) -> str:
    lines = [
        f"py-spy, {SAMPLE_RATE_HZ} Hz for {seconds:g} s, {frames.samples} samples of `serve` under "
        f"{concurrency} connections (samples holding the GIL only: idle and descheduled time "
        "excluded).",
        "",
        "| own time | frame |",
        "|---|---|",
        *(_row(count, frames.samples, name) for name, count in frames.self_time[:limit]),
        "",
        "| on the stack | gateway frame |",
        "|---|---|",
        *(_row(count, frames.samples, name) for name, count in frames.inclusive[:limit]),
        "",
        "| on the stack | library |",
        "|---|---|",
        *(_row(count, frames.samples, name) for name, count in frames.packages),
    ]
    return "\n".join(lines) + "\n"


def _row(count: int, samples: int, name: str) -> str:
    return f"| {count / samples:6.1%} | `{name}` |"
