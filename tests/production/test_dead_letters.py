"""A task that kills its worker every time ends in the dead letters after broker.max_deliveries,
and a person requeues it with the real CLI; consumers of dead workers leave the group."""

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from gateway.broker.dead_letters import DEAD_LETTER_SUFFIX
from gateway.broker.start_ride_task import START_RIDE_TASK_NAME
from gateway.plugins.faults import Fault
from tests.calls import MONITEX_START, calls_made
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.processes import CLI
from tests.production.rides import enqueue, meter_flag, ride
from tests.production.stream import StreamProbe, eventually, pid_of
from tests.production.workers import REDELIVERY_TIMEOUT_MS, WorkerProcess, Workers

pytestmark = pytest.mark.timeout(90)

POISON = ride(1)
LATER = ride(2)
MAX_DELIVERIES = 2
# A killed worker's task is reclaimed one redelivery timeout after its last heartbeat, plus a
# reclaim pass; the rest is the run itself.
TAKEOVER_S = REDELIVERY_TIMEOUT_MS / 1000 * 1.25 + 5.0
# Gone: nothing pending and idle three times max(redelivery timeout, read block), plus a pass.
GONE_S = 3 * max(REDELIVERY_TIMEOUT_MS, 1000) / 1000 + 5.0


async def run_cli(config: Path, action: str, *args: str) -> tuple[int, str]:
    """``dead-letters ACTION --config FILE ARGS``, as docs/production.md's runbook writes it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("METERS_")}
    process = await asyncio.create_subprocess_exec(
        str(CLI), "dead-letters", action, "--config", str(config), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
    )  # fmt: skip
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def kill_the_worker_running_it(
    world: RunningWorld, workers: Workers, probe: StreamProbe, starts: int, name: str
) -> WorkerProcess:
    """Wait until the vendor start number ``starts`` arrives, SIGKILL the worker running it
    (as a task that crashes its worker would), and start a fresh worker."""
    await eventually(
        lambda: len(world.sims.monitex.calls.to(MONITEX_START)) >= starts,
        TAKEOVER_S,
        f"delivery {starts} reaches the vendor",
    )
    [held] = await probe.pending()
    victim = next(worker for worker in workers.started if worker.pid == pid_of(held.consumer))
    victim.kill()
    await victim.exit_code(timeout_s=5)
    return await workers.start(name)


async def test_a_task_that_kills_its_worker_every_time_is_set_aside_and_requeued(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
    tmp_path: Path,
) -> None:
    production_tree["broker"]["max_deliveries"] = MAX_DELIVERIES
    production_tree["vendors"]["monitex"]["timeout_ms"] = 120_000
    world.sims.seed_ride(POISON)
    world.sims.monitex.faults.add(
        Fault(endpoint=MONITEX_START, delay_ms=60_000, times=MAX_DELIVERIES)
    )
    await workers.start("worker-1")
    gateway = await make_gateway()
    assert (await enqueue(gateway, POISON))[0] == 202

    survivor = None
    for delivery in range(1, MAX_DELIVERIES + 1):
        survivor = await kill_the_worker_running_it(
            world, workers, probe, delivery, f"worker-{delivery + 1}"
        )
    assert survivor is not None

    await eventually(probe.is_empty, TAKEOVER_S, "the poison task leaves the stream")
    # The worker logs the move once Redis has made it: the line may follow the empty stream.
    await eventually(
        lambda: bool(survivor.events("broker.dead_lettered")), 10, "the worker logs the move"
    )
    [dead] = survivor.events("broker.dead_lettered")
    assert (dead["level"], dead["reason"]) == (
        "error",
        f"delivered more than broker.max_deliveries ({MAX_DELIVERIES}) times",
    )
    assert (dead["order_id"], dead["deliveries"]) == (POISON.order_id, MAX_DELIVERIES + 1)
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == MAX_DELIVERIES
    assert meter_flag(world.sims, POISON) is None
    dead_letters = probe.stream + DEAD_LETTER_SUFFIX
    assert await probe.redis.xlen(dead_letters) == 1

    config = tmp_path / "cli.toml"
    config.write_text(tomli_w.dumps(production_tree))
    status, listing = await run_cli(config, "list")
    assert status == 0
    assert "1 dead letter(s)" in listing
    assert f"order {POISON.order_id}" in listing
    assert f"deliveries {MAX_DELIVERIES + 1}" in listing

    status, requeued = await run_cli(config, "requeue", dead["dead_letter_id"])

    assert status == 0
    # After the JSON log line that records the requeue for the audit trail.
    [logged, answer] = requeued.splitlines()
    assert json.loads(logged)["event"] == "broker.dead_letter_requeued"
    assert answer.startswith(f"{dead['dead_letter_id']}: requeued as ")
    await eventually(
        lambda: meter_flag(world.sims, POISON) == "true", TAKEOVER_S, "the requeued task runs"
    )
    await eventually(probe.is_empty, TAKEOVER_S, "and is acknowledged")
    assert await probe.redis.xlen(dead_letters) == 0
    [finished] = survivor.events("start_ride.finished")
    # A fresh entry: its delivery count started again.
    assert (finished["result"], finished["redelivered"]) == ("started", False)
    assert await run_cli(config, "requeue", dead["dead_letter_id"]) == (
        1,
        f"{dead['dead_letter_id']}: no such dead letter\n",
    )


@pytest.mark.parametrize("dead_id", ["abc", "1-x", "-", "1-2-3"])
async def test_requeuing_an_id_redis_could_not_hold_is_no_such_dead_letter(
    production_tree: dict[str, Any], probe: StreamProbe, tmp_path: Path, dead_id: str
) -> None:
    config = tmp_path / "cli.toml"
    config.write_text(tomli_w.dumps(production_tree))

    assert await run_cli(config, "requeue", dead_id) == (1, f"{dead_id}: no such dead letter\n")


async def test_a_dead_workers_consumer_leaves_the_group(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    world.sims.seed_ride(POISON)
    dying = await workers.start("dying")
    gateway = await make_gateway()
    assert (await enqueue(gateway, POISON))[0] == 202
    await eventually(probe.is_empty, TAKEOVER_S, "the ride runs")
    [gone] = dying.consumers()
    assert await probe.consumers() == [gone]  # Redis lists a consumer once it was delivered to
    # Two live workers: each one's cleanup could remove the other's consumer (never its own).
    first = await workers.start("first")
    second = await workers.start("second")

    dying.kill()
    await dying.exit_code(timeout_s=5)
    world.sims.seed_ride(LATER)
    assert (await enqueue(gateway, LATER))[0] == 202
    await eventually(probe.is_empty, TAKEOVER_S, "a live worker runs the next ride")
    [ran] = [worker for worker in (first, second) if worker.events("start_ride.finished")]

    # Once gone, the dead worker's consumer is removed. The consumer of the live worker that ran
    # the ride, idle since, stays through three redelivery timeouts of the other live worker's
    # cleanup passes (one every quarter of a timeout).
    await eventually(
        lambda: _consumers_are(probe, ran.consumers()),
        GONE_S,
        "the dead worker's consumer goes",
    )
    await asyncio.sleep(3 * REDELIVERY_TIMEOUT_MS / 1000)
    assert await probe.consumers() == ran.consumers()
    removed = first.events("broker.consumer_removed") + second.events("broker.consumer_removed")
    assert [event["removed_consumer"] for event in removed] == [gone]
    assert first.process.returncode is None
    assert second.process.returncode is None


async def _consumers_are(probe: StreamProbe, names: list[str]) -> bool:
    return await probe.consumers() == names


async def test_a_requeue_fewer_replicas_confirm_is_reported_and_fails(
    production_tree: dict[str, Any], probe: StreamProbe, tmp_path: Path
) -> None:
    # More replicas than either setup has (none on a plain Redis, two under Sentinel).
    production_tree["broker"]["min_replicas_acked"] = 3
    dead_letters = probe.stream + DEAD_LETTER_SUFFIX
    dead_id = (await probe.redis.xadd(dead_letters, {"data": b'{"task_id": "task-1"}'})).decode()
    config = tmp_path / "cli.toml"
    config.write_text(tomli_w.dumps(production_tree))

    status, output = await run_cli(config, "requeue", dead_id)

    assert status == 1
    [logged, answer] = output.splitlines()
    warning = json.loads(logged)
    assert (warning["event"], warning["level"]) == (
        "broker.dead_letter_requeue_not_replicated",
        "warning",
    )
    assert (warning["dead_letter_id"], warning["required"]) == (dead_id, 3)
    acknowledged = warning["acknowledged"]
    assert acknowledged < 3
    assert answer == (
        f"{dead_id}: requeued on the master, but {acknowledged} of 3 replicas acknowledged "
        "within 1 s; should the master fail over before they catch up, it may still be a dead "
        "letter there: list and requeue again"
    )
    # The master holds the requeued entry and no longer the dead letter.
    assert await probe.length() == 1
    assert await probe.redis.xlen(dead_letters) == 0


async def test_an_entry_with_an_id_the_endpoint_refuses_is_set_aside_and_the_worker_stays_up(
    world: RunningWorld,
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    # Added by hand, as another producer might: an order id that is a lone surrogate.
    malformed = {
        "task_id": "hand-added-1",
        "task_name": START_RIDE_TASK_NAME,
        "labels": {},
        "labels_types": {},
        "args": [],
        "kwargs": {"order_id": "\udfff"},
    }
    await probe.redis.xadd(probe.stream, {"data": json.dumps(malformed).encode()})
    world.sims.seed_ride(LATER)
    worker = await workers.start("worker-1")

    await eventually(
        lambda: worker.events("broker.dead_lettered"), TAKEOVER_S, "the entry is set aside"
    )
    [dead] = worker.events("broker.dead_lettered")
    assert (dead["reason"], dead["order_id"], dead["task_id"], dead["deliveries"]) == (
        "body holds a string that is not valid Unicode",
        "\udfff",
        "hand-added-1",
        1,
    )
    assert await probe.redis.xlen(probe.stream + DEAD_LETTER_SUFFIX) == 1
    assert not calls_made(world.sims)
    # The worker is still up and runs the next task.
    gateway = await make_gateway()
    assert (await enqueue(gateway, LATER))[0] == 202
    await eventually(
        lambda: meter_flag(world.sims, LATER) == "true", TAKEOVER_S, "the next task runs"
    )
    assert worker.process.returncode is None
