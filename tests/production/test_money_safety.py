"""Money safety on Redis (docs/design.md §3a, §4 Retries): two gateways and worker processes
on one real Redis share the order lease, the ride ledger and the finish-ride replay."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.broker.start_ride_record import run_start_ride
from gateway.broker.unacknowledged import LeaveUnacknowledged
from gateway.http.app import START_RIDE_PATH
from gateway.http.app_keys import SERVICES
from gateway.plugins.faults import Fault
from gateway.rides.fallback_policy import START_RIDE_FALLBACK_POLICY, Reaction, StartStep
from gateway.rides.ports import Services
from gateway.rides.start_ride import StartOutcome, StartResult
from gateway.sandbox.world import RideSeed
from tests.calls import GET_FIELDS, MONITEX_START, MONITEX_STOP, SET_FIELDS, calls_made
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.production.redis_users import LEASE_KEYS, LEDGER_KEYS, START_MARK_KEYS, RedisUser
from tests.production.rides import enqueue, meter_flag, ride, set_fields_applied
from tests.production.stream import StreamProbe, eventually
from tests.production.workers import WorkerProcess, Workers

RUN_TIMEOUT_S = 15.0
# Order A and order B: the same driver and car, one after the other.
ORDER_A = ride(1)
ORDER_B = RideSeed(
    order_id="order-b",
    alias_id="alias-b",
    fixed_price=50.00,
    driver_profile_id=ORDER_A.driver_profile_id,
    car_id=ORDER_A.car_id,
    national_id=ORDER_A.national_id,
    permit=ORDER_A.permit,
)


def outcomes(*workers: WorkerProcess) -> Counter[tuple[str, str]]:
    return Counter(
        (event["result"], event["reason"])
        for worker in workers
        for event in worker.events("start_ride.finished")
    )


@pytest.mark.timeout(60)
async def test_five_deliveries_of_one_order_start_one_meter_ride(
    world: RunningWorld,
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    world.sims.seed_ride(ORDER_A)
    # A slow vendor keeps the first run going while the other deliveries arrive.
    world.sims.monitex.faults.add(Fault(MONITEX_START, delay_ms=300, times=1))
    processes = [await workers.start("worker-1"), await workers.start("worker-2")]
    gateways = [await make_gateway(), await make_gateway()]

    for n, task_id in enumerate(["task-a", "task-a", "task-a", "task-b", None]):
        body: dict[str, Any] = {"order_id": ORDER_A.order_id}
        if task_id is not None:
            body["task_id"] = task_id
        response = await gateways[n % 2].client.post(START_RIDE_PATH, json=body)
        assert response.status == 202
    await eventually(lambda: sum(outcomes(*processes).values()) == 5, RUN_TIMEOUT_S, "5 runs")

    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1
    assert len(world.sims.order_core.calls.to(SET_FIELDS)) == 1
    assert set_fields_applied(world.sims, ORDER_A) == 1
    assert meter_flag(world.sims, ORDER_A) == "true"
    counted = outcomes(*processes)
    assert counted[("started", "ok")] == 1
    assert set(counted) <= {
        ("started", "ok"),
        ("skipped", "already_running"),
        ("already_started", "ok"),
    }
    assert counted[("skipped", "already_running")] >= 1
    await eventually(probe.is_empty, RUN_TIMEOUT_S, "every delivery acknowledged")


@pytest.mark.timeout(60)
async def test_a_stale_meter_ride_is_never_adopted_across_gateways_and_worker_processes(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    sims = world.sims
    sims.seed_ride(ORDER_A)
    sims.seed_ride(ORDER_B)
    production_tree["worker"]["processes"] = 2
    supervisor = await workers.start("supervisor", wait_until_started=False)
    await workers.wait_until_started(supervisor, processes=2)
    first, second = await make_gateway(), await make_gateway()

    assert (await enqueue(first, ORDER_A))[0] == 202
    await eventually(lambda: meter_flag(sims, ORDER_A) == "true", RUN_TIMEOUT_S, "A started")
    (ride_a,) = sims.monitex.rides
    # A's finish-ride fails before the vendor is called: A's meter ride stays open.
    sims.order_core.faults.add(Fault(GET_FIELDS, status=500, times=1))
    assert (await first.finish_ride(ORDER_A.alias_id, 42.24))[0] == 502
    sims.forget_calls()

    assert (await enqueue(second, ORDER_B))[0] == 202
    await eventually(lambda: meter_flag(sims, ORDER_B) == "false", RUN_TIMEOUT_S, "B fell back")

    assert calls_made(sims)[f"monitex {MONITEX_START}"] == 1
    assert sims.order_core.calls.to(SET_FIELDS) == []
    assert "external_meter_ride_id" not in sims.order_core.order(ORDER_B.order_id)["order"]
    assert list(sims.monitex.rides) == [ride_a]
    assert sims.monitex.rides[ride_a].is_open
    await eventually(
        lambda: len(supervisor.events("start_ride.stale_meter_ride")) == 1, 5, "the warning"
    )
    [warning] = supervisor.events("start_ride.stale_meter_ride")
    assert warning["level"] == "warning"
    assert (warning["order_id"], warning["holding_order_id"]) == (ORDER_B.order_id, "order-1")
    # The run's canonical line comes last, once the driver app has been told (setcar, push).
    await eventually(
        lambda: outcomes(supervisor)[("fallback", "stale_meter_ride")] == 1, 5, "B's line"
    )

    # B is never settled with A's ride; A's retry on the other gateway settles A, once.
    assert (await second.finish_ride(ORDER_B.alias_id, 50.00, headers=ORDER_B.driver_headers()))[
        0
    ] == 409
    assert sims.monitex.calls.to(MONITEX_STOP) == []
    headers = ORDER_A.driver_headers()
    assert await second.finish_ride(ORDER_A.alias_id, 42.24, headers=headers) == (
        200,
        {"price": 42.24},
    )
    assert await first.finish_ride(ORDER_A.alias_id, 42.24, headers=headers) == (
        200,
        {"price": 42.24},
    )
    assert len(sims.monitex.calls.to(MONITEX_STOP)) == 1
    await eventually(probe.is_empty, RUN_TIMEOUT_S, "every delivery acknowledged")


# ACL users, which make one kind of key fail with NOPERM, are a server's own (not replicated,
# and the sentinel URL has no user): these failures are made on the plain Redis.
ON_PLAIN_REDIS = pytest.mark.parametrize("broker_url", ["redis"], indirect=True)


@pytest.fixture
async def redis_user(
    probe: StreamProbe, queue_name: str, broker_url: str
) -> AsyncIterator[RedisUser]:
    user = RedisUser(probe.redis, broker_url, queue_name)
    yield user
    await user.delete()


@ON_PLAIN_REDIS
@pytest.mark.timeout(60)
async def test_a_lease_redis_error_leaves_the_delivery_pending_until_it_can_run(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
    redis_user: RedisUser,
) -> None:
    world.sims.seed_ride(ORDER_A)
    gateway = await make_gateway()
    # The worker may use the stream and the ledger, but every lease it takes fails: NOPERM.
    await redis_user.create(LEDGER_KEYS)
    production_tree["broker"]["url"] = redis_user.url
    worker = await workers.start("worker")

    assert (await enqueue(gateway, ORDER_A))[0] == 202
    await eventually(
        lambda: len(worker.events("worker.left_unacknowledged")) >= 2,
        RUN_TIMEOUT_S,
        "the delivery ran, stayed pending and was delivered again",
    )

    # Nothing was called, nothing acknowledged: the entry is still pending, delivered again.
    assert calls_made(world.sims) == {}
    [pending] = await probe.pending()
    assert pending.deliveries >= 2
    finished = worker.events("start_ride.finished")[0]
    assert (finished["result"], finished["reason"], finished["left_unacknowledged"]) == (
        "ended",
        "order_lease_unavailable",
        True,
    )
    # Once Redis lets the lease be taken, the next delivery runs the ride.
    await redis_user.allow_only(LEDGER_KEYS, LEASE_KEYS)
    await eventually(lambda: meter_flag(world.sims, ORDER_A) == "true", RUN_TIMEOUT_S, "ran")
    await eventually(probe.is_empty, RUN_TIMEOUT_S, "acknowledged at last")
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1


# The rows of the policy table that only Redis can make fail, each edited to see it decide.


async def _services_on(
    user: RedisUser, production_tree: dict[str, Any], make_gateway: GatewayFactory
) -> Services:
    production_tree["broker"]["url"] = user.url
    gateway = await make_gateway()
    return gateway.client.app[SERVICES]


@ON_PLAIN_REDIS
async def test_the_lease_row_decides_a_lease_redis_error(
    world: RunningWorld,
    production_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    redis_user: RedisUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world.sims.seed_ride(ORDER_A)
    await redis_user.create(LEDGER_KEYS)
    services = await _services_on(redis_user, production_tree, make_gateway)

    with pytest.raises(LeaveUnacknowledged, match="order_lease_unavailable"):
        await run_start_ride(ORDER_A.order_id, services.ports)
    assert calls_made(world.sims) == {}

    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.TAKE_LEASE, Reaction.END)

    assert await run_start_ride(ORDER_A.order_id, services.ports) == StartOutcome(
        StartResult.ENDED, "order_lease_unavailable"
    )
    assert calls_made(world.sims) == {}


@ON_PLAIN_REDIS
async def test_the_ledger_row_decides_a_ledger_redis_error(
    world: RunningWorld,
    production_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    redis_user: RedisUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world.sims.seed_ride(ORDER_A)
    # The driver's mark is taken before Monitex is asked; the claim after it fails: NOPERM.
    await redis_user.create(LEASE_KEYS, START_MARK_KEYS)
    services = await _services_on(redis_user, production_tree, make_gateway)

    # The vendor answered a ride nobody could claim: nothing is written or told, the run stays
    # pending, and its redelivery (answered the same ride) decides.
    with pytest.raises(LeaveUnacknowledged, match="ride_ledger_unavailable"):
        await run_start_ride(ORDER_A.order_id, services.ports)
    assert len(world.sims.monitex.calls.to(MONITEX_START)) == 1
    assert world.sims.order_core.calls.to(SET_FIELDS) == []
    assert meter_flag(world.sims, ORDER_A) is None

    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.CLAIM_RIDE, Reaction.FALLBACK)

    assert await run_start_ride(ORDER_A.order_id, services.ports) == StartOutcome(
        StartResult.FALLBACK, "ride_ledger_unavailable", "monitex", "IL"
    )
    assert world.sims.order_core.calls.to(SET_FIELDS) == []
    assert meter_flag(world.sims, ORDER_A) == "false"


@ON_PLAIN_REDIS
@pytest.mark.parametrize(
    ("row", "outcome"),
    [
        pytest.param(Reaction.LEAVE_UNACKNOWLEDGED, None, id="as-designed"),
        pytest.param(
            Reaction.END,
            StartOutcome(StartResult.ENDED, "order_lease_lost", "monitex", "IL"),
            id="edited-to-end",
        ),
    ],
)
async def test_a_run_that_cannot_renew_its_lease_stops_before_its_next_side_effect(
    world: RunningWorld,
    production_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    redis_user: RedisUser,
    monkeypatch: pytest.MonkeyPatch,
    row: Reaction,
    outcome: StartOutcome | None,
) -> None:
    monkeypatch.setitem(START_RIDE_FALLBACK_POLICY, StartStep.LEASE_LOST, row)
    world.sims.seed_ride(ORDER_A)
    # The vendor call outlasts several renewals (the lease expires after a third of the
    # 1000 ms redelivery timeout).
    world.sims.monitex.faults.add(Fault(MONITEX_START, delay_ms=800))
    await redis_user.create(LEASE_KEYS, LEDGER_KEYS)
    services = await _services_on(redis_user, production_tree, make_gateway)

    run = asyncio.create_task(run_start_ride(ORDER_A.order_id, services.ports))
    await eventually(
        lambda: world.sims.monitex.calls.to(MONITEX_START) != [], RUN_TIMEOUT_S, "vendor called"
    )
    await redis_user.allow_only(LEDGER_KEYS)  # renewals now fail
    if outcome is None:
        with pytest.raises(LeaveUnacknowledged, match="order_lease_lost"):
            await run
    else:
        assert await run == outcome

    # The ride was claimed, but nothing was written and the app was told nothing.
    assert world.sims.order_core.calls.to(SET_FIELDS) == []
    assert meter_flag(world.sims, ORDER_A) is None
