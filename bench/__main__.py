"""``python -m bench``: run every benchmark, print the table, write it to docs/benchmarks.md.

``--quick`` for a smoke test, ``--only`` to pick suites, ``--profile`` to add py-spy's view of
``serve`` under the finish-ride load; see docs/benchmarks.md for what each one measures.
"""

import argparse
import asyncio
import logging
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from bench import finish_ride, log_line, pipeline, start_ride
from bench.docs_block import DOCS, replace_block
from bench.machine import load_average, this_machine
from bench.procs import CLI
from bench.profile import profile_gateway, render_profile
from bench.report import Results, render

SUITES = ("finish-ride", "start-ride", "pipeline", "log-line")


@dataclass(frozen=True, slots=True)
class Sizes:
    concurrency: int = 16
    duration_s: float = 6.0
    latency_duration_s: float = 3.0
    rounds: int = 3
    latency_ms: float = 20.0
    start_ride_runs: int = 10
    pipeline_tasks: int = 300
    no_op_tasks: int = 1200
    pipeline_rounds: int = 2
    profile_s: float = 10.0
    log_lines: int = 20000


QUICK = Sizes(
    duration_s=3.0,
    latency_duration_s=2.0,
    rounds=1,
    pipeline_rounds=1,
    start_ride_runs=3,
    pipeline_tasks=100,
    no_op_tasks=300,
    profile_s=3.0,
    log_lines=5000,
)


async def run(suites: list[str], sizes: Sizes, workdir: Path, command: str) -> Results:
    results = Results(this_machine(), load_average(), datetime.now(UTC), command)
    if "finish-ride" in suites:
        plan = finish_ride.LoadPlan(
            concurrency=sizes.concurrency,
            duration_s=sizes.duration_s,
            latency_duration_s=sizes.latency_duration_s,
            rounds=sizes.rounds,
        )
        results.finish_ride = await finish_ride.measure(workdir, plan)
    if "start-ride" in suites:
        results.start_ride = await start_ride.measure(
            workdir, latency_ms=sizes.latency_ms, runs=sizes.start_ride_runs
        )
    if "pipeline" in suites:
        if _has_worker_command():
            results.pipeline = await pipeline.measure(
                workdir,
                worker_counts=(1, 2),
                tasks=sizes.pipeline_tasks,
                no_op_tasks=sizes.no_op_tasks,
                rounds=sizes.pipeline_rounds,
            )
        else:
            results.skipped.append("the Redis pipeline: `meters-integration-api worker` is missing")
    if "log-line" in suites:
        results.log_line = await log_line.measure(sizes.log_lines, rounds=sizes.rounds)
    return results


def _has_worker_command() -> bool:
    probe = subprocess.run([CLI, "worker", "--help"], capture_output=True, check=False)
    return probe.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites")
    parser.add_argument("--profile", action="store_true", help="also py-spy the gateway")
    parser.add_argument("--no-docs", action="store_true", help=f"do not rewrite {DOCS.name}")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    suites = [suite for suite in args.only.split(",") if suite]
    if unknown := set(suites) - set(SUITES):
        parser.error(f"unknown suites {sorted(unknown)}; known: {', '.join(SUITES)}")
    sizes = QUICK if args.quick else Sizes()
    # The benchmark itself enqueues tasks through the gateway's broker code: keep its chatter out.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    command = "python -m bench " + " ".join(sys.argv[1:])
    workdir = Path(tempfile.mkdtemp(prefix="meters-bench-"))
    print(f"work directory (logs of every process): {workdir}", file=sys.stderr)
    results = asyncio.run(run(suites, sizes, workdir, command.strip()))
    table = render(results)
    print(table)
    if not args.no_docs:
        replace_block("results", table)
    if args.profile:
        frames = asyncio.run(
            profile_gateway(workdir, seconds=sizes.profile_s, concurrency=sizes.concurrency)
        )
        text = render_profile(frames, seconds=sizes.profile_s, concurrency=sizes.concurrency)
        print(text)
        if not args.no_docs:
            replace_block("profile", text)
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
