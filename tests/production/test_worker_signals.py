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


async def test_the_worker_health_endpoint_follows_redis_and_other_paths_are_404(
    production_tree: dict[str, Any], workers: Workers, own_redis: RedisServer
) -> None:
    production_tree["broker"]["url"] = own_redis.url
    port = free_port()
    production_tree["worker"]["metrics_port"] = port
    await workers.start("worker")

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
