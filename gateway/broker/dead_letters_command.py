"""``meters-integration-api dead-letters list | requeue ID... | requeue --all``.

Reads and requeues the dead letters of the broker that ``broker.url`` names (docs/production.md,
"Dead letters"). Exit status 0 on success, 1 when a named dead letter does not exist, when
fewer replicas than ``broker.replicas_to_acknowledge()`` confirmed a requeue, or when Redis
cannot be reached.
"""

import asyncio
import sys

from redis.exceptions import RedisError
from taskiq.formatters.json_formatter import JSONFormatter

from gateway.broker.dead_letters import DEAD_LETTER_SUFFIX, DeadLetters
from gateway.broker.replication import NotReplicated
from gateway.redis_connection import connection_pool
from gateway.settings import BrokerSettings

EXIT_FAILED = 1


def run_dead_letters_command(settings: BrokerSettings, action: str, ids: list[str]) -> int:
    """``action`` is ``list`` or ``requeue``; ``ids`` empty with requeue means all of them."""
    return asyncio.run(_run(settings, action, ids))


async def _run(settings: BrokerSettings, action: str, ids: list[str]) -> int:
    pool = connection_pool(settings.url)
    dead_letters = DeadLetters(
        pool,
        settings.queue_name,
        settings.queue_name + DEAD_LETTER_SUFFIX,
        JSONFormatter(),
        replicas=settings.replicas_to_acknowledge(),
    )
    try:
        if action == "list":
            return await _list(dead_letters)
        return await _requeue(dead_letters, ids)
    except RedisError as error:
        print(f"cannot reach the broker: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await pool.disconnect()


async def _list(dead_letters: DeadLetters) -> int:
    listed = await dead_letters.listed()
    print(f"{len(listed)} dead letter(s) in {dead_letters.stream}")
    for dead in listed:
        print(
            f"{dead.dead_letter_id}  set aside {dead.set_aside_at.isoformat(timespec='seconds')}"
            f"  order {dead.order_id}  task {dead.task_id}  deliveries {dead.deliveries}"
            f"  last consumer {dead.last_consumer or '-'}"
        )
    return 0


async def _requeue(dead_letters: DeadLetters, ids: list[str]) -> int:
    failed = 0
    for dead_id in ids or [dead.dead_letter_id for dead in await dead_letters.listed()]:
        try:
            entry_id = await dead_letters.requeue(dead_id)
        except NotReplicated as error:
            failed += 1
            print(
                f"{dead_id}: requeued on the master, but {error}; should the master fail over "
                "before they catch up, it may still be a dead letter there: list and requeue "
                "again",
                file=sys.stderr,
            )
            continue
        if entry_id is None:
            failed += 1
            print(f"{dead_id}: no such dead letter", file=sys.stderr)
        else:
            print(f"{dead_id}: requeued as {entry_id}")
    return EXIT_FAILED if failed else 0
