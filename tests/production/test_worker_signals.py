"""What on-call sees of workers: their health endpoint, a reclaim's log line and metrics, a
redelivered run marked as such, and every line naming its process and consumer."""

from typing import Any

import aiohttp
import pytest

from gateway.plugins.faults import Fault
from tests.calls import MONITEX_START
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.observability.scrape import labels, samples
from tests.processes import free_port
from tests.production.redis_server import RedisServer
from tests.production.rides import enqueue, meter_flag, ride
from tests.production.stream import StreamProbe, eventually, pid_of
from tests.production.workers import REDELIVERY_TIMEOUT_MS, WorkerProcess, Workers

pytestmark = pytest.mark.timeout(60)

RIDE = ride(1)
TAKEOVER_S = REDELIVERY_TIMEOUT_MS / 1000 * 1.25 + 5.0
# A killed worker's last heartbeat is at most a third of a redelivery timeout old when it dies; it
# stops counting as live once a timeout old, and the survivor's next reclaim pass (a quarter of a
# timeout apart) reports it. Counted live for three timeouts instead, it would take over 2.6 s.
GONE_FROM_CONSUMERS_S = 2 * REDELIVERY_TIMEOUT_MS / 1000


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


async def health(port: int) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/health") as response,
    ):
        return response.status, await response.json()


async def worker_on(redis: RedisServer, tree: dict[str, Any], workers: Workers) -> int:
    """Start a worker on that Redis, serving its endpoint; the endpoint's port."""
    tree["broker"]["url"] = redis.url
    port = free_port()
    tree["worker"]["metrics_port"] = port
    await workers.start("worker")
    return port


async def test_the_worker_health_endpoint_follows_redis_and_other_paths_are_404(
    production_tree: dict[str, Any], workers: Workers, own_redis: RedisServer
) -> None:
    port = await worker_on(own_redis, production_tree, workers)

    assert await health(port) == (
        200,
        {"ready": True, "broker": "reachable", "processes": {"live": 1, "expected": 1}},
    )
    assert (await get(port, "/metrics"))[0] == 200
    assert (await get(port, "/"))[0] == 404
    assert (await get(port, "/healthz"))[0] == 404

    own_redis.stop()

    assert await health(port) == (
        503,
        {"ready": False, "broker": "unreachable", "processes": {"live": 1, "expected": 1}},
    )
    own_redis.start()
    assert (await health(port))[0] == 200


STREAM_GAUGES = (
    "meters_broker_consumers",
    "meters_broker_stream_length",
    "meters_broker_oldest_pending_age_seconds",
    "meters_broker_dead_letter_stream_length",
)
# An idle worker alone on an empty stream, as read from Redis.
READ_STATE = {name: "1.0" if name == "meters_broker_consumers" else "0.0" for name in STREAM_GAUGES}
UNKNOWN_STATE = dict.fromkeys(STREAM_GAUGES, "nan")
SAMPLED = "meters_broker_stats_sampled_timestamp_seconds"
READ_FAILURES = "meters_broker_read_failures_total"


async def test_the_stream_gauges_read_unknown_while_redis_is_down_and_say_when_last_read(
    production_tree: dict[str, Any], workers: Workers, own_redis: RedisServer
) -> None:
    port = await worker_on(own_redis, production_tree, workers)
    await eventually(lambda: _stream_state(port, READ_STATE), 10, "the stream is read")
    before = await _sample(port, SAMPLED)
    assert before > 0

    own_redis.stop()

    await eventually(lambda: _stream_state(port, UNKNOWN_STATE), 10, "the gauges read unknown")
    last_read = await _sample(port, SAMPLED)
    assert last_read >= before
    # Failed reads go on (backoff from 0.1 s): none of them moves the time of the last reading.
    failures = await _sample(port, READ_FAILURES)
    await eventually(
        lambda: _sample_past(port, READ_FAILURES, failures), 10, "the worker fails to read again"
    )
    assert await _sample(port, SAMPLED) == last_read
    assert await _stream_state(port, UNKNOWN_STATE)

    own_redis.start()

    await eventually(lambda: _stream_state(port, READ_STATE), 10, "the stream is read again")
    assert await _sample(port, SAMPLED) > last_read


async def _stream_state(port: int, expected: dict[str, str]) -> bool:
    """Whether the endpoint reports the stream's gauges as ``expected`` (values as str(float),
    so that NaN compares equal to itself)."""
    _status, exposition = await get(port, "/metrics")
    return {name: str(samples(exposition, name)[()]) for name in STREAM_GAUGES} == expected


async def _sample(port: int, name: str) -> float:
    _status, exposition = await get(port, "/metrics")
    return samples(exposition, name)[()]


async def _sample_past(port: int, name: str, value: float) -> bool:
    return await _sample(port, name) > value


async def test_a_reclaimed_task_is_named_counted_and_its_rerun_marked_redelivered(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    production_tree["vendors"]["monitex"]["timeout_ms"] = 60_000
    world.sims.seed_ride(RIDE)
    world.sims.monitex.faults.add(Fault(endpoint=MONITEX_START, delay_ms=30_000, times=1))
    victim = await workers.start("victim")
    gateway = await make_gateway()
    assert (await enqueue(gateway, RIDE))[0] == 202
    await eventually(
        lambda: len(world.sims.monitex.calls.to(MONITEX_START)) == 1, 10, "the task starts"
    )
    [held] = await probe.pending()
    assert pid_of(held.consumer) == victim.pid
    port = free_port()
    production_tree["worker"]["metrics_port"] = port
    survivor = await workers.start("survivor")

    victim.kill()
    await victim.exit_code(timeout_s=5)

    await eventually(probe.is_empty, TAKEOVER_S, "the survivor reruns the task")
    assert meter_flag(world.sims, RIDE) == "true"
    [reclaimed] = survivor.events("broker.reclaimed")
    task_id = reclaimed["task_id"]
    assert task_id
    assert {key: reclaimed[key] for key in ("order_id", "previous_consumer", "deliveries")} == {
        "order_id": RIDE.order_id,
        "previous_consumer": held.consumer,
        "deliveries": 2,
    }
    assert reclaimed["idle_ms"] >= REDELIVERY_TIMEOUT_MS
    [finished] = survivor.events("start_ride.finished")
    assert (finished["task_id"], finished["redelivered"], finished["deliveries"]) == (
        task_id,
        True,
        2,
    )
    status, exposition = await get(port, "/metrics")
    assert status == 200
    assert samples(exposition, "meters_broker_reclaimed_total") == {(): 1.0}
    runs = samples(exposition, "meters_start_ride_task_duration_seconds_count")
    # Every result's series exists from the start, at 0: the one run here was the redelivery.
    assert {key: count for key, count in runs.items() if count} == {
        labels(result="started", redelivered="true"): 1.0
    }
    assert runs[labels(result="started", redelivered="false")] == 0.0
    await eventually(lambda: _reports_the_group(port), 10, "the stream's gauges are reported")
    assert_every_line_names_its_process(survivor)


async def test_a_killed_worker_stops_counting_as_a_live_consumer_within_a_redelivery_timeout(
    production_tree: dict[str, Any], workers: Workers
) -> None:
    port = free_port()
    production_tree["worker"]["metrics_port"] = port
    await workers.start("survivor")
    production_tree["worker"]["metrics_port"] = 0
    victim = await workers.start("victim")
    await eventually(lambda: _live_consumers(port, 2.0), 10, "both workers are counted live")

    victim.kill()
    assert await victim.exit_code(timeout_s=5) == -9

    await eventually(
        lambda: _live_consumers(port, 1.0),
        GONE_FROM_CONSUMERS_S,
        "only the survivor, idle on an empty stream, is counted live",
    )


async def _live_consumers(port: int, expected: float) -> bool:
    _status, exposition = await get(port, "/metrics")
    return samples(exposition, "meters_broker_consumers") == {(): expected}


async def _reports_the_group(port: int) -> bool:
    _status, exposition = await get(port, "/metrics")
    return samples(exposition, "meters_broker_consumers") == {(): 1.0} and samples(
        exposition, "meters_broker_stream_length"
    ) == {(): 0.0}


def assert_every_line_names_its_process(worker: WorkerProcess) -> None:
    consumer = worker.consumers()[0]
    lines = [
        event
        for name in ("worker.started", "broker.reclaimed", "start_ride.finished", "upstream.call")
        for event in worker.events(name)
    ]
    assert lines
    assert {(event["pid"], event["consumer"]) for event in lines} == {(worker.pid, consumer)}


async def test_a_worker_whose_every_slot_is_busy_still_reports_the_backlog(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    make_gateway: GatewayFactory,
) -> None:
    # One task slot, held by a start Monitex answers after 30 s: the two tasks behind it are the
    # backlog MetersStartRideBacklogGrowing reads, taken while no slot is free to read them.
    production_tree["vendors"]["monitex"]["timeout_ms"] = 60_000
    production_tree["worker"]["max_concurrent_tasks"] = 1
    production_tree["worker"]["shutdown_grace_ms"] = 500
    port = free_port()
    production_tree["worker"]["metrics_port"] = port
    rides = [ride(number) for number in (1, 2, 3)]
    for seeded in rides:
        world.sims.seed_ride(seeded)
    world.sims.monitex.faults.add(Fault(endpoint=MONITEX_START, delay_ms=30_000, times=1))
    await workers.start("busy")
    gateway = await make_gateway()
    await eventually(lambda: _stream_state(port, READ_STATE), 10, "the stream is read")
    assert (await enqueue(gateway, rides[0]))[0] == 202
    await eventually(
        lambda: len(world.sims.monitex.calls.to(MONITEX_START)) == 1, 10, "the first task runs"
    )
    sampled = await _sample(port, SAMPLED)

    for queued in rides[1:]:
        assert (await enqueue(gateway, queued))[0] == 202

    await eventually(
        lambda: _sample_is(port, "meters_broker_stream_length", 3.0), 10, "the backlog is read"
    )
    assert await _sample(port, SAMPLED) > sampled
    # Still the one start: the slot never freed while the reading moved.
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1


async def _sample_is(port: int, name: str, value: float) -> bool:
    return await _sample(port, name) == value
