"""The results as Markdown: a summary against the targets, then each benchmark's own table."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from bench.finish_ride import FinishRideResults, ServerRun
from bench.log_line import LogLineResults
from bench.machine import Machine, load_average
from bench.pipeline import PipelineRun
from bench.start_ride import StartRideResults

# The targets of docs/benchmarks.md: against the bare aiohttp handler (the limit), the
# FastAPI + aiohttp peer, a bare client on the same start-ride graph and a bare taskiq worker.
THROUGHPUT_TARGET = 0.9
PEER_THROUGHPUT_TARGET = 1.0
P50_MARGIN_TARGET_MS = 0.5
P99_MARGIN_TARGET_MS = 2.0
START_RIDE_TARGET = 1.05
PIPELINE_TARGET = 0.9
RSS_TARGET_MIB = 100.0


@dataclass(slots=True)
class Results:
    machine: Machine
    load_average: str
    started: datetime
    command: str
    finish_ride: FinishRideResults | None = None
    start_ride: StartRideResults | None = None
    pipeline: list[PipelineRun] = field(default_factory=list)
    log_line: LogLineResults | None = None
    skipped: list[str] = field(default_factory=list)


def render(results: Results) -> str:
    lines = [
        f"Measured {results.started:%Y-%m-%d %H:%M} UTC with `{results.command}` on "
        f"{results.machine.describe()}. Load average (1 min) at the start and the end: "
        f"{results.load_average}, {load_average()}.",
        "",
        *_summary(results),
    ]
    if results.finish_ride is not None:
        lines += ["", *_finish_ride(results.finish_ride)]
    if results.start_ride is not None:
        lines += ["", *_start_ride(results.start_ride)]
    if results.pipeline:
        lines += ["", *_pipeline(results.pipeline)]
    if results.log_line is not None:
        lines += ["", *_log_line(results.log_line)]
    lines += [f"- Not run: {reason}" for reason in results.skipped]
    return "\n".join(lines) + "\n"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _summary(results: Results) -> Iterator[str]:
    yield "| benchmark | measured | target | met |"
    yield "|---|---|---|---|"
    finish = results.finish_ride
    if finish is not None:
        yield from _finish_ride_summary(finish)
    start = results.start_ride
    if start is not None:
        yield (f"| start-ride wall time / lower bound (L x 8) | {start.ratio:.3f} | (none) | |")
        yield (
            f"| start-ride wall time / bare client on the same graph | "
            f"{start.practical_ratio:.3f} | <= {START_RIDE_TARGET} "
            f"| {_met(start.practical_ratio <= START_RIDE_TARGET)} |"
        )
    for run in results.pipeline:
        yield (
            f"| Redis pipeline, {run.workers} worker(s), tasks/s real / bare taskiq worker "
            f"doing the same exchanges | {run.bare_ratio:.2f} | >= {PIPELINE_TARGET} "
            f"| {_met(run.bare_ratio >= PIPELINE_TARGET)} |"
        )


def _finish_ride_summary(finish: FinishRideResults) -> Iterator[str]:
    gateway, raw, peer = finish.gateway, finish.raw, finish.fastapi_aiohttp
    ratio = gateway.throughput.rps / raw.throughput.rps
    yield (
        f"| finish-ride throughput, gateway / bare aiohttp handler | {ratio:.2f} "
        f"| >= {THROUGHPUT_TARGET} | {_met(ratio >= THROUGHPUT_TARGET)} |"
    )
    peer_ratio = gateway.throughput.rps / peer.throughput.rps
    yield (
        f"| finish-ride throughput, gateway / FastAPI + aiohttp peer | {peer_ratio:.2f} "
        f"| >= {PEER_THROUGHPUT_TARGET} | {_met(peer_ratio >= PEER_THROUGHPUT_TARGET)} |"
    )
    p50 = gateway.latency.p50_ms - raw.latency.p50_ms
    yield (
        f"| finish-ride p50 (one connection), gateway - bare handler | {p50:+.2f} ms "
        f"| <= +{P50_MARGIN_TARGET_MS} ms | {_met(p50 <= P50_MARGIN_TARGET_MS)} |"
    )
    p99 = gateway.latency.p99_ms - raw.latency.p99_ms
    yield (
        f"| finish-ride p99 (one connection), gateway - bare handler | {p99:+.2f} ms "
        f"| <= +{P99_MARGIN_TARGET_MS} ms | {_met(p99 <= P99_MARGIN_TARGET_MS)} |"
    )
    cpu = gateway.cpu_ms_per_request / raw.cpu_ms_per_request
    yield (
        f"| finish-ride server CPU per request, gateway / bare handler (least noisy figure) "
        f"| {cpu:.2f}x | (none) | |"
    )
    loaded_mib = gateway.loaded_rss_kib / 1024
    yield (
        f"| `serve` resident memory, idle / under the throughput load "
        f"| {gateway.idle_rss_kib / 1024:.1f} / {loaded_mib:.1f} MiB "
        f"| < {RSS_TARGET_MIB:g} MiB under load | {_met(loaded_mib < RSS_TARGET_MIB)} |"
    )


def _finish_ride(finish: FinishRideResults) -> Iterator[str]:
    plan = finish.plan
    yield (
        f"### finish-ride ({plan.concurrency} connections for {plan.duration_s:g} s, then one "
        f"connection for {plan.latency_duration_s:g} s; best of {plan.rounds} alternating rounds)"
    )
    yield ""
    yield (
        "| server | req/s | p50 ms | p99 ms | p50 ms, 1 conn | p99 ms, 1 conn "
        "| server CPU ms/req | RSS idle MiB | RSS under load MiB |"
    )
    yield "|---|---|---|---|---|---|---|---|---|"
    yield _server_row("bare aiohttp handler (the limit)", finish.raw)
    yield _server_row("FastAPI + uvicorn + aiohttp client (peer)", finish.fastapi_aiohttp)
    yield _server_row("FastAPI + uvicorn + httpx client (peer)", finish.fastapi_httpx)
    yield _server_row("gateway, `serve` as shipped (log level INFO)", finish.gateway)
    yield _server_row("gateway, log level WARNING (reference)", finish.quiet_gateway)
    yield _ratio_row("gateway / limit", finish.gateway, finish.raw)
    yield _ratio_row("gateway / FastAPI + aiohttp", finish.gateway, finish.fastapi_aiohttp)
    yield _ratio_row("gateway at WARNING / limit", finish.quiet_gateway, finish.raw)


def _ratio_row(name: str, run: ServerRun, base: ServerRun) -> str:
    return (
        f"| {name} | {run.throughput.rps / base.throughput.rps:.2f}x "
        f"| {run.throughput.p50_ms - base.throughput.p50_ms:+.1f} "
        f"| {run.throughput.p99_ms - base.throughput.p99_ms:+.1f} "
        f"| {run.latency.p50_ms - base.latency.p50_ms:+.2f} "
        f"| {run.latency.p99_ms - base.latency.p99_ms:+.2f} "
        f"| {run.cpu_ms_per_request / base.cpu_ms_per_request:.2f}x | | |"
    )


def _server_row(name: str, run: ServerRun) -> str:
    return (
        f"| {name} | {run.throughput.rps:.0f} | {run.throughput.p50_ms:.1f} "
        f"| {run.throughput.p99_ms:.1f} | {run.latency.p50_ms:.2f} | {run.latency.p99_ms:.2f} "
        f"| {run.cpu_ms_per_request:.2f} | {run.idle_rss_kib / 1024:.1f} "
        f"| {run.loaded_rss_kib / 1024:.1f} |"
    )


def _start_ride(start: StartRideResults) -> Iterator[str]:
    yield f"### start-ride critical path (every upstream answers after L = {start.latency_ms:g} ms)"
    yield ""
    yield (
        "| lower bound L x 8 ms | bare client, same graph ms | gateway task median ms "
        "| gateway task max ms | runs |"
    )
    yield "|---|---|---|---|---|"
    yield (
        f"| {start.lower_bound_ms:.1f} | {start.bare_graph_ms:.1f} | {start.median_ms:.1f} "
        f"| {start.max_ms:.1f} | {start.runs} |"
    )


def _pipeline(runs: list[PipelineRun]) -> Iterator[str]:
    yield (
        f"### Task pipeline through Redis (zero-latency upstreams; {runs[0].tasks} tasks a run, "
        "best of the alternating rounds)"
    )
    yield ""
    yield (
        "| worker processes | real task/s | bare-client task/s | no-op task/s "
        "| real / no-op | real / bare |"
    )
    yield "|---|---|---|---|---|---|"
    for run in runs:
        yield (
            f"| {run.workers} | {run.task_rate:.0f} | {run.bare_rate:.0f} "
            f"| {run.no_op_rate:.0f} | {run.ratio:.2f} | {run.bare_ratio:.2f} |"
        )


def _log_line(log_line: LogLineResults) -> Iterator[str]:
    yield (
        f"### Log lines (a finish-ride canonical line, {log_line.lines} lines a run, "
        "stdout to /dev/null)"
    )
    yield ""
    yield "| route | µs per line |"
    yield "|---|---|"
    yield f"| ours: structlog BytesLogger + orjson | {log_line.ours_us:.1f} |"
    yield f"| stdlib logging + ProcessorFormatter (libraries' records) | {log_line.stdlib_us:.1f} |"
