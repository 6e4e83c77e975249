"""The Redis Streams broker on its own, against a real Redis: what it leaves in the stream."""

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis
from taskiq import AckableMessage

from gateway.bootstrap.process import build_broker, redis_pool
from gateway.broker.delivery import ENTRY_LABEL
from gateway.broker.enqueue import BrokerUnavailable, enqueue_start_ride
from gateway.broker.redis_streams import CONSUMER_GROUP, ReliableStreamBroker
from gateway.settings import BrokerSettings
from tests.production.stream import StreamProbe

REDELIVERY_TIMEOUT_MS = 500
# A reclaim pass runs at least every quarter of the timeout; the rest is scheduling slack.
RECLAIM_DEADLINE_S = REDELIVERY_TIMEOUT_MS / 1000 * 1.25 + 1.0

pytestmark = pytest.mark.timeout(20)


class Reader:
    """The worker's side of a broker: takes messages and acknowledges them by task id."""

    def __init__(self, broker: ReliableStreamBroker) -> None:
        self.broker = broker
        self._messages = broker.listen()
        self._taken: dict[str, AckableMessage] = {}

    async def take(self, timeout_s: float = 3.0) -> str:
        message = await asyncio.wait_for(anext(self._messages), timeout_s)
        task_id: str = self.broker.formatter.loads(message.data).task_id
        self._taken[task_id] = message
        return task_id

    def leave_pending(self, task_id: str) -> None:
        """What the worker's Receiver does for a run that must stay unacknowledged."""
        message = self._taken.pop(task_id)
        self.broker.leave_pending(self.broker.formatter.loads(message.data))

    async def ack(self, task_id: str) -> None:
        acknowledged = self._taken.pop(task_id).ack()
        if acknowledged is not None:
            await acknowledged

    async def close(self) -> None:
        await self._messages.aclose()


BrokerFactory = Callable[[], ReliableStreamBroker]


@pytest.fixture
async def make_broker(broker_url: str, queue_name: str) -> AsyncIterator[BrokerFactory]:
    built: list[ReliableStreamBroker] = []

    def make() -> ReliableStreamBroker:
        settings = BrokerSettings(
            url=broker_url, queue_name=queue_name, redelivery_timeout_ms=REDELIVERY_TIMEOUT_MS
        )
        broker = build_broker(settings, redis_pool(settings))
        assert isinstance(broker, ReliableStreamBroker)
        built.append(broker)
        return broker

    yield make
    for broker in built:
        await broker.shutdown()


async def enqueue(broker: ReliableStreamBroker, order_id: str) -> str:
    return await enqueue_start_ride(broker, order_id, task_id=None)


async def test_startup_creates_the_group_before_anything_is_enqueued(
    make_broker: BrokerFactory, probe: StreamProbe
) -> None:
    await make_broker().startup()

    assert await probe.groups() == [
        {
            "name": CONSUMER_GROUP.encode(),
            "consumers": 0,
            "pending": 0,
            "last-delivered-id": b"0-0",
            "entries-read": None,
            "lag": 0,
        }
    ]


async def test_entries_added_before_the_group_existed_are_delivered(
    make_broker: BrokerFactory, probe: StreamProbe
) -> None:
    # A gateway enqueues into a Redis that has no group (it came back empty, say).
    task_id = await enqueue(make_broker(), "order-1")
    assert await probe.groups() == []

    worker = make_broker()
    await worker.startup()

    assert await Reader(worker).take() == task_id


async def test_acknowledging_deletes_that_entry_and_leaves_unacknowledged_ones(
    make_broker: BrokerFactory, probe: StreamProbe
) -> None:
    gateway = make_broker()
    await gateway.startup()
    task_ids = [await enqueue(gateway, f"order-{n}") for n in range(3)]
    entry_ids = await probe.entry_ids()
    reader = Reader(make_broker())
    assert [await reader.take() for _ in task_ids] == task_ids

    await reader.ack(task_ids[0])
    await reader.ack(task_ids[2])

    assert await probe.entry_ids() == [entry_ids[1]]
    assert [entry.entry_id for entry in await probe.pending()] == [entry_ids[1]]


async def test_a_dead_workers_entry_is_reclaimed_on_an_idle_stream(
    make_broker: BrokerFactory, probe: StreamProbe
) -> None:
    gateway = make_broker()
    await gateway.startup()
    task_id = await enqueue(gateway, "order-1")
    # A worker read it and died: it stays pending under that consumer, and nothing new comes.
    await probe.redis.xreadgroup(CONSUMER_GROUP, "dead-worker", {probe.stream: ">"}, count=1)

    reader = Reader(make_broker())

    assert await reader.take(timeout_s=RECLAIM_DEADLINE_S) == task_id
    [pending] = await probe.pending()
    assert (pending.consumer, pending.deliveries) == (reader.broker.consumer_name, 2)
    assert await probe.length() == 1


async def test_a_running_tasks_entry_stays_with_its_live_worker(
    make_broker: BrokerFactory, probe: StreamProbe
) -> None:
    gateway = make_broker()
    await gateway.startup()
    task_id = await enqueue(gateway, "order-1")
    running = Reader(make_broker())
    other = Reader(make_broker())

    async with running.broker.holding_deliveries():
        assert await running.take() == task_id
        other_reading = asyncio.create_task(other.take(timeout_s=60))
        # The task outlives three redelivery timeouts while another worker keeps reclaiming.
        await asyncio.sleep(3 * REDELIVERY_TIMEOUT_MS / 1000)

        [pending] = await probe.pending()
        assert (pending.consumer, pending.deliveries) == (running.broker.consumer_name, 1)
        assert pending.idle_ms < REDELIVERY_TIMEOUT_MS
        assert not other_reading.done()
        other_reading.cancel()
        await running.ack(task_id)

    assert await probe.length() == 0


async def test_a_stopping_worker_hands_back_what_it_holds(
    make_broker: BrokerFactory, probe: StreamProbe
) -> None:
    gateway = make_broker()
    await gateway.startup()
    task_ids = [await enqueue(gateway, f"order-{n}") for n in range(2)]
    stopping = Reader(make_broker())

    async with stopping.broker.holding_deliveries():
        assert [await stopping.take(), await stopping.take()] == task_ids
        await stopping.close()

    # Fresh, undelivered entries again: the next reader gets them without any redelivery.
    assert await probe.pending() == []
    assert await probe.length() == 2
    assert await probe.consumers() == []
    successor = Reader(make_broker())
    assert [await successor.take(), await successor.take()] == task_ids


@pytest.mark.parametrize("loss", ["group destroyed", "stream deleted"])
async def test_a_lost_group_is_recreated_and_what_the_stream_holds_is_delivered(
    make_broker: BrokerFactory, probe: StreamProbe, loss: str
) -> None:
    gateway = make_broker()
    await gateway.startup()
    reader = Reader(make_broker())
    first = await enqueue(gateway, "order-1")
    assert await reader.take() == first
    await reader.ack(first)

    if loss == "group destroyed":
        await probe.redis.xgroup_destroy(probe.stream, CONSUMER_GROUP)
    else:  # what a Redis restarted without persistence looks like
        await probe.redis.delete(probe.stream)
    second = await enqueue(gateway, "order-2")

    assert await reader.take() == second
    assert [group["name"] for group in await probe.groups()] == [CONSUMER_GROUP.encode()]


# Enough event-loop iterations to sweep a cancellation across connecting, sending a command
# and waiting for its reply.
CANCEL_SWEEP_ITERATIONS = 25


async def loop_iterations(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_a_command_cancelled_at_any_moment_ends_cancelled(make_broker: BrokerFactory) -> None:
    # Python 3.11's asyncio.wait_for, which redis-py sends each command under, returns the send's
    # result when the cancellation and the send's end meet: the command would carry on.
    broker = make_broker()
    not_cancelled = []
    async with Redis(connection_pool=broker.connection_pool) as redis:

        async def ping() -> bool:
            return await redis.ping()

        for iterations in range(CANCEL_SWEEP_ITERATIONS):
            command = asyncio.create_task(ping())
            await loop_iterations(iterations)
            if not command.cancel():
                continue  # it had already answered
            await asyncio.wait({command}, timeout=1.0)
            if not command.cancelled():
                not_cancelled.append(iterations)
    assert not_cancelled == []


async def test_a_read_cancelled_at_any_moment_stops(make_broker: BrokerFactory) -> None:
    # taskiq's Receiver stops a worker by cancelling its pending read and waiting for it: a read
    # that carried on would keep the worker from ever stopping.
    broker = make_broker()
    await broker.startup()
    carried_on = []
    for iterations in range(CANCEL_SWEEP_ITERATIONS):
        messages = broker.listen()
        read = asyncio.create_task(anext(messages))
        await loop_iterations(iterations)
        read.cancel()
        await asyncio.wait({read}, timeout=1.0)
        if not read.done():
            carried_on.append(iterations)
            read.cancel()  # once more, so that the test can go on
            await asyncio.wait({read}, timeout=3.0)
        await messages.aclose()
    assert carried_on == []


async def test_an_enqueue_fewer_replicas_confirm_is_refused_but_stays_in_the_stream(
    broker_url: str, queue_name: str, probe: StreamProbe
) -> None:
    # More replicas than either setup has (none on a plain Redis, two under Sentinel).
    settings = BrokerSettings(url=broker_url, queue_name=queue_name, min_replicas_acked=3)
    broker = build_broker(settings, redis_pool(settings))
    await broker.startup()
    try:
        with pytest.raises(BrokerUnavailable) as refused:
            await enqueue_start_ride(broker, "order-1", task_id="task-1")
    finally:
        await broker.shutdown()

    assert (refused.value.result, refused.value.may_be_enqueued) == ("not_replicated", True)
    assert "of 3 replicas acknowledged" in refused.value.cause
    # The master holds it: a worker will run it, and a retry with task-1 is harmless.
    assert await probe.length() == 1


async def test_an_entry_left_pending_is_delivered_again_after_the_redelivery_timeout(
    make_broker: BrokerFactory, probe: StreamProbe
) -> None:
    gateway = make_broker()
    await gateway.startup()
    task_id = await enqueue(gateway, "order-1")
    running = Reader(make_broker())

    async with running.broker.holding_deliveries():
        assert await running.take() == task_id
        # The run ended without acknowledgement (say, its Redis failed while taking the lease).
        running.leave_pending(task_id)

        assert await running.take(timeout_s=RECLAIM_DEADLINE_S + 1) == task_id
        [pending] = await probe.pending()
        assert (pending.consumer, pending.deliveries) == (running.broker.consumer_name, 2)
        await running.ack(task_id)

    assert await probe.length() == 0


async def test_of_two_entries_with_one_task_id_the_one_left_pending_is_delivered_again(
    make_broker: BrokerFactory, probe: StreamProbe
) -> None:
    gateway = make_broker()
    await gateway.startup()
    # A producer retrying with the same task id after a 503 "may be enqueued".
    for _ in range(2):
        await enqueue_start_ride(gateway, "order-1", task_id="task-1")
    running = make_broker()
    messages = running.listen()

    async with running.holding_deliveries():
        first, second = [await asyncio.wait_for(anext(messages), 3.0) for _ in range(2)]
        # The first run could not decide (left pending), the second one ran and is acknowledged.
        running.leave_pending(running.formatter.loads(first.data))
        acknowledged = second.ack()
        if acknowledged is not None:
            await acknowledged

        again = await asyncio.wait_for(anext(messages), RECLAIM_DEADLINE_S + 1)
        entry_of = [running.formatter.loads(m.data).labels[ENTRY_LABEL] for m in (first, again)]
        assert entry_of[0] == entry_of[1]
        [pending] = await probe.pending()
        assert (pending.consumer, pending.deliveries) == (running.consumer_name, 2)
        acknowledged = again.ack()
        if acknowledged is not None:
            await acknowledged
    await messages.aclose()

    assert await probe.length() == 0
