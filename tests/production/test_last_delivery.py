"""The last delivery the broker allows (docs/design.md §3a "The last delivery"), with a real
worker on a real Redis: an accepted start never ends in the dead letters with the app untold.

The adversarial pass's double fault left one Redis node with no replica: every ride-ledger
claim waited for a replica that no longer existed, each delivery stayed pending, and after
``broker.max_deliveries`` the task was dead-lettered, the order never written, the app never
told, the meter running. Here the worker asks for more replicas than the test's Redis has, so
its ledger writes are never acknowledged by enough of them, as they were then.
"""

from typing import Any

import pytest

from gateway.broker.dead_letters import DEAD_LETTER_SUFFIX
from tests.calls import MONITEX_START
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.production.rides import enqueue, meter_flag, ride
from tests.production.stream import StreamProbe, eventually
from tests.production.workers import Workers

pytestmark = pytest.mark.timeout(60)

ORDER = ride(1)
RUN_TIMEOUT_S = 20.0


async def test_a_start_whose_ledger_writes_no_replica_holds_falls_back_on_its_last_delivery(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    world.sims.seed_ride(ORDER)
    broker = production_tree["broker"]
    # One delivery only: the first is the last. More replicas than either setup has (none, or
    # two under Sentinel): the worker's claims are never replicated enough.
    broker["max_deliveries"] = 1
    broker["min_replicas_acked"] = 3
    worker = await workers.start("worker-1")
    # The gateway enqueues as usual (its enqueue waits for the replicas there are).
    del broker["min_replicas_acked"]
    gateway = await make_gateway()

    assert (await enqueue(gateway, ORDER))[0] == 202

    await eventually(
        lambda: meter_flag(world.sims, ORDER) == "false", RUN_TIMEOUT_S, "the app is told"
    )
    await eventually(probe.is_empty, RUN_TIMEOUT_S, "and the task is acknowledged")
    assert await probe.redis.xlen(probe.stream + DEAD_LETTER_SUFFIX) == 0
    [finished] = worker.events("start_ride.finished")
    assert (finished["result"], finished["reason"]) == ("fallback", "ride_ledger_unavailable")
    assert finished["failed_steps"] == [
        {
            "step": "ride_ledger_unavailable",
            "cause": "redis_unavailable",
            "reaction": "FALLBACK_AND_CANCEL_RIDE",
        }
    ]
    # The driver's mark, written before Monitex would be asked, found too few replicas: the
    # vendor was never asked, so no meter runs.
    assert world.sims.monitex.calls.to(MONITEX_START) == []
    assert world.sims.monitex.rides == {}
