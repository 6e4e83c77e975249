"""One incident's production on loopback, as docs/production.md deploys it: a Redis, the
platform and vendor simulators (the real ``simulators`` command), two ``serve`` gateways, a
``worker`` host of two processes, and a real Prometheus scraping all three every 2 s."""

import asyncio
import itertools
import os
import signal
import tomllib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio
import tomli_w

from gateway.broker.redis_streams import CONSUMER_GROUP
from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH
from gateway.sandbox.simulators_command import READY
from gateway.sandbox.world_control import RIDES
from gateway.settings import BrokerSettings
from tests.operations.artifacts import PROMETHEUS_DIR, ROOT
from tests.processes import CLI, HOST, Served, free_port, serving
from tests.production.redis_server import RedisServer
from tests.production.stream import eventually
from tests.production.workers import Workers
from tests.rehearsal.prometheus import INTERVAL, Prometheus, Targets, prometheus

READY_TIMEOUT_S = 30.0
SIMULATOR_ATTEMPTS = 3
STOP_TIMEOUT_S = 15.0
# One ride a second, as in the rehearsal; a ride's finish comes this long after its start
# (longer than a redelivery timeout would be truer, and makes every incident minutes longer).
RIDE_INTERVAL_S = 1.0
RIDE_LENGTH_S = 60.0
FIXED_PRICE = 40

# Changes a world makes to the shipped settings before their ports are chosen.
Adjust = Callable[[dict[str, Any]], None] | None


def rules_dir() -> Path:
    """The rule files evaluated: the shipped ones, or REHEARSAL_RULES (an earlier commit's,
    to measure the rules before a change the same way)."""
    return Path(os.environ.get("REHEARSAL_RULES", str(PROMETHEUS_DIR)))


def national_id(serial: int) -> str:
    """A valid Israeli id number (its ninth digit is the Luhn-style check digit)."""
    body = f"{10_000_000 + serial:08d}"
    total = 0
    for position, digit in enumerate(body):
        product = int(digit) * (1 + position % 2)
        total += product // 10 + product % 10
    return body + str((10 - total % 10) % 10)


def plate(serial: int) -> str:
    """An Israeli-looking plate, NN-NNN-NN, of its own for each serial below 10 million."""
    digits = f"{serial:07d}"
    return f"{digits[:2]}-{digits[2:5]}-{digits[5:]}"


def production_tree(redis_url: str, adjust: Adjust = None) -> dict[str, Any]:
    """The shipped settings, ``adjust``ed (a section added, say), on free ports and this Redis."""
    tree = tomllib.loads((ROOT / "config" / "meters.toml").read_text())
    if adjust is not None:
        adjust(tree)
    for section in [*tree["upstreams"].values(), *tree["vendors"].values()]:
        section["url"] = f"http://{HOST}:{free_port()}"
    tree["broker"] = {**tree.get("broker", {}), "url": redis_url}
    tree["worker"] = {**tree.get("worker", {}), "processes": 2, "metrics_port": free_port()}
    return tree


@dataclass
class RideTally:
    """What the drivers saw: finish-ride answers by status (and refusal code)."""

    answers: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def add(self, key: str) -> None:
        self.answers[key] = self.answers.get(key, 0) + 1


class World:
    def __init__(
        self,
        tree: dict[str, Any],
        redis: RedisServer,
        control_url: str,
        gateways: list[Served],
        workers: Workers,
        watcher: Prometheus,
        workdir: Path,
    ) -> None:
        self.tree = tree
        self.redis = redis
        self.control_url = control_url
        self.gateways = gateways
        self.workers = workers
        self.prometheus = watcher
        self.workdir = workdir
        self.tally = RideTally()

    def url_of(self, section: str) -> str:
        sections = {**self.tree["upstreams"], **self.tree["vendors"]}
        url: str = sections[section]["url"]
        return url

    async def fault(self, http: aiohttp.ClientSession, section: str, fault: dict[str, Any]) -> None:
        async with http.post(self.url_of(section) + "/_sim/faults", json=fault) as response:
            assert response.status == 201, await response.text()

    async def clear_faults(self, http: aiohttp.ClientSession, section: str) -> None:
        async with http.delete(self.url_of(section) + "/_sim/faults") as response:
            assert response.status in (200, 204), await response.text()

    def worker_processes(self) -> dict[str, int]:
        """The worker host's task processes, consumer name to pid, as each announced itself."""
        started = self.workers.started[0].events("worker.started")
        return {str(line["consumer"]): int(line["pid"]) for line in started}

    async def pending_of(self, consumer: str) -> int:
        """How many start-ride tasks the consumer was delivered and has not acknowledged."""
        client = redis.asyncio.Redis.from_url(self.redis.url)
        try:
            pending: list[dict[str, Any]] = await client.xpending_range(
                BrokerSettings(**self.tree["broker"]).queue_name,
                CONSUMER_GROUP,
                min="-",
                max="+",
                count=100,
                consumername=consumer,
            )
        finally:
            await client.aclose()
        return len(pending)

    def log_lines(self) -> list[str]:
        """Every JSON log line the gateways and the worker host wrote."""
        texts = [gateway.output() for gateway in self.gateways]
        texts += [worker.output_text() for worker in self.workers.started]
        return [line for text in texts for line in text.splitlines() if line.startswith("{")]

    async def drive(self, http: aiohttp.ClientSession) -> None:
        """Rides until cancelled: one a second, each started on one gateway and finished on the
        other, as the platform and the driver app do."""
        rides: set[asyncio.Task[None]] = set()
        try:
            for serial in itertools.count():
                task = asyncio.create_task(self._ride(http, serial))
                rides.add(task)
                task.add_done_callback(rides.discard)
                await asyncio.sleep(RIDE_INTERVAL_S)
        finally:
            for task in rides:
                task.cancel()
            await asyncio.gather(*rides, return_exceptions=True)

    async def _ride(self, http: aiohttp.ClientSession, serial: int) -> None:
        # Every ride its own driver, car, permit and national id: a vendor keys its running rides
        # by them (docs/simulators.md), and a meter an incident leaves running (its stop failed)
        # would make that driver's every later ride a stale meter ride, MetersStaleMeterRide's
        # own incident, until a person settles it.
        seed = ride_seed(f"rehearsal-{serial}", driver=serial)
        count = len(self.gateways)
        starter, finisher = self.gateways[serial % count], self.gateways[(serial + 1) % count]
        try:
            headers = await self.seed(http, seed)
            await self.start(http, starter, seed["order_id"])
            await asyncio.sleep(RIDE_LENGTH_S)
            status, code = await self.finish(http, finisher, seed["alias_id"], headers)
            self.tally.add(f"{status} {code}".strip())
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError):
            self.tally.errors += 1

    async def seed(self, http: aiohttp.ClientSession, seed: dict[str, Any]) -> dict[str, str]:
        """Seed the whole ride in the simulators (``POST /_sim/rides``); the identity headers
        its finish-ride needs."""
        async with http.post(self.control_url + RIDES, json=seed) as seeded:
            headers: dict[str, str] = (await seeded.json())["driver_headers"]
        return headers

    async def start(self, http: aiohttp.ClientSession, gateway: Served, order_id: str) -> int:
        """Start-ride, as the platform calls it; the answer's status."""
        async with http.post(gateway.base_url + START_RIDE_PATH, json={"order_id": order_id}) as r:
            await r.read()
            return r.status

    async def finish(
        self, http: aiohttp.ClientSession, gateway: Served, alias_id: str, headers: dict[str, str]
    ) -> tuple[int, str]:
        """Finish-ride at the fixed price, as the driver app calls it; the answer's status and
        refusal code ("" for a price)."""
        async with http.post(
            gateway.base_url + FINISH_RIDE_PATH,
            json={"order_id": alias_id, "user_price": FIXED_PRICE, "driver_price": FIXED_PRICE},
            headers=headers,
        ) as finished:
            answer = await finished.json(content_type=None)
            code = answer.get("code", "") if isinstance(answer, dict) else ""
            return finished.status, str(code)


def ride_seed(order_id: str, driver: int) -> dict[str, Any]:
    """A ride of this order for the driver numbered ``driver``, with that driver's own car,
    permit and national id (docs/simulators.md, ``POST /_sim/rides``)."""
    return {
        "order_id": order_id,
        "alias_id": f"{order_id}-alias",
        "fixed_price": FIXED_PRICE,
        "driver_profile_id": f"driver-{driver}",
        "car_id": f"car-{driver}",
        "car_number": plate(driver),
        "national_id": national_id(driver),
        "permit": f"PERMIT-{driver}",
    }


@asynccontextmanager
async def running_world(
    workdir: Path, gateways: int = 2, interval: str = INTERVAL, adjust: Adjust = None
) -> AsyncIterator[World]:
    """``gateways``: how many ``serve`` processes (the rehearsal's two unless given);
    ``interval``: how often Prometheus scrapes and evaluates; ``adjust``: see
    ``production_tree``."""
    redis = RedisServer(workdir)
    redis.start()
    async with AsyncExitStack() as stack:
        stack.callback(redis.stop)
        tree, control_url = await _simulators_on_free_ports(stack, redis.url, workdir, adjust)
        served = []
        for number in range(1, gateways + 1):
            gateway_dir = workdir / f"gateway-{number}"
            gateway_dir.mkdir()
            served.append(await stack.enter_async_context(serving(tree, gateway_dir)))
        workers = Workers(tree, workdir)
        stack.push_async_callback(workers.close)
        host = await workers.start("worker-host", wait_until_started=False)
        await workers.wait_until_started(host, processes=2)
        targets = Targets(
            gateways=[gateway.base_url.removeprefix("http://") for gateway in served],
            workers=[f"{HOST}:{tree['worker']['metrics_port']}"],
        )
        rules = sorted(rules_dir().glob("*.rules.yml"))
        watcher = await stack.enter_async_context(prometheus(targets, rules, workdir, interval))
        yield World(tree, redis, control_url, served, workers, watcher, workdir)


async def _simulators_on_free_ports(
    stack: AsyncExitStack, redis_url: str, workdir: Path, adjust: Adjust
) -> tuple[dict[str, Any], str]:
    """The simulators on ports probed free: the incidents start side by side (make rehearse),
    and another world may take a probed port before these bind it; then new ports."""
    for _ in range(SIMULATOR_ATTEMPTS - 1):
        tree = production_tree(redis_url, adjust)
        try:
            return tree, await stack.enter_async_context(_simulators(tree, workdir))
        except PortTaken:
            continue
    tree = production_tree(redis_url, adjust)
    return tree, await stack.enter_async_context(_simulators(tree, workdir))


class PortTaken(Exception):
    pass


@asynccontextmanager
async def _simulators(tree: dict[str, Any], workdir: Path) -> AsyncIterator[str]:
    config = workdir / "simulators.toml"
    config.write_text(tomli_w.dumps(tree))
    control_port = free_port()
    output = workdir / "simulators.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(CLI),
            *("simulators", "--config", str(config), "--control-port", str(control_port)),
            stdout=sink,
            stderr=sink,
        )

    def ready() -> bool:
        text = output.read_text(errors="replace")
        if process.returncode is not None and "address already in use" in text:
            raise PortTaken(text)
        assert process.returncode is None, text
        return READY in text

    try:
        await eventually(ready, READY_TIMEOUT_S, "the simulators print where they listen")
        yield f"http://{HOST}:{control_port}"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
