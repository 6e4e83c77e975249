"""Every ``meters-integration-api`` command the README and docs/ write in a code span or a code
block runs, as written, as a real subprocess, its placeholders filled with real things: a
settings FILE the test writes (pointing at a Redis it starts, for the commands that use one),
the ids of real dead letters, a free PORT. Each must exit as documented and do what its line
says, checked from outside: ``check-config`` accepts the file and names the bad key of a broken
one, ``dead-letters list`` prints the dead letters and ``requeue`` moves them back, ``demo``
plays its scenarios, ``new-vendor`` writes the package. A daemon (``serve``, ``worker``,
``simulators``, ``sandbox``) is started, waited for until ready (its ``/health``, or the line it
prints when it listens), sent SIGTERM, and must exit 0 within the grace, leaving no process of
its own behind. A runbook line that the parser refuses, or that does not work, fails here, not
at 3 a.m."""

import argparse
import asyncio
import json
import os
import re
import shlex
import signal
import socket
import tomllib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio
import tomli_w

from gateway import cli
from gateway.broker.dead_letters import DEAD_LETTER_SUFFIX
from gateway.sandbox.simulators_command import READY
from gateway.settings import BrokerSettings
from tests.operations.documented import PROGRAM, Written, documented_commands
from tests.processes import CLI, HOST, SHIPPED_CONFIG, STOP_TIMEOUT_S, free_port, sandbox_config
from tests.production.redis_server import RedisServer
from tests.production.rides import start_ride_message
from tests.production.stream import eventually
from tests.rehearsal.world import production_tree

pytestmark = pytest.mark.timeout(120)

# What the docs' NAME and DIR (or D) are filled with; FILE is the bench's settings file, ID a dead
# letter's id it reads from Redis, PORT a free port.
VENDOR_NAME = "acme"
VENDOR_DEST = "out"
# The documented default control port (`--control-port 8100`) is a port like any other here:
# a free one, so the test runs beside whatever else this machine serves.
PORT_WORDS = {"PORT", "8100"}
READY_TIMEOUT_S = 30.0
DEAD_LETTERS = 3
_SUMMARY = re.compile(r"^(\d+) scenarios: \1 behaved as expected, 0 did not$", re.MULTILINE)


def argv_of(command: str) -> list[list[str]]:
    """The command lines a documented one stands for: a synopsis's alternatives
    (``list|requeue ID...``) each, its optional parts (``[--config FILE]``) given, its
    placeholders still in place."""
    rest = command.replace("\\|", "|").removeprefix(PROGRAM + " ")
    words = shlex.split(rest)
    head, tail = words[:1], words[1:]
    alternatives = " ".join(tail).split("|") if "|" in " ".join(tail) else [" ".join(tail)]
    return [
        [*head, *alternative.split()]
        for alternative in (
            part.replace("[", "").replace("]", "").replace("...", "") for part in alternatives
        )
    ]


@dataclass(frozen=True)
class Documented:
    """One command line as it runs, and everywhere the docs write it."""

    argvs: tuple[tuple[str, ...], ...]
    written: tuple[Written, ...]

    def __str__(self) -> str:
        return self.written[0].text

    def places(self) -> str:
        return "; ".join(f"{line.document} § {line.section}" for line in self.written)


def documented() -> list[Documented]:
    """The documented commands, those that run the same (a file named ``my-meters.toml`` or
    FILE, DIR or D, a PORT or 8100) grouped: each is run once."""
    groups: dict[tuple[tuple[str, ...], ...], list[Written]] = {}
    for line in documented_commands():
        key = tuple(tuple(map(_kind, argv)) for argv in argv_of(line.text))
        groups.setdefault(key, []).append(line)
    return [
        Documented(tuple(tuple(argv) for argv in argv_of(lines[0].text)), tuple(lines))
        for lines in groups.values()
    ]


def _kind(word: str) -> str:
    if word.endswith(".toml"):
        return "FILE"
    if word in PORT_WORDS:
        return "PORT"
    return {"D": "DIR"}.get(word, word)


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class Bench:
    """A working directory, the settings file its commands read, and a Redis when they need
    one; every process it starts is stopped by ``close``."""

    cwd: Path
    tree: dict[str, Any] = field(default_factory=dict)
    redis: RedisServer | None = None

    @property
    def config(self) -> Path:
        return self.cwd / "meters.toml"

    def write_config(self, tree: dict[str, Any]) -> None:
        self.tree = tree
        self.config.write_text(tomli_w.dumps(tree))

    def with_redis(self) -> str:
        self.redis = RedisServer(self.cwd)
        self.redis.start()
        return self.redis.url

    def close(self) -> None:
        if self.redis is not None:
            self.redis.stop()

    def filled(self, argv: tuple[str, ...], **values: str) -> list[str]:
        """The argv with its placeholders filled (FILE: the bench's settings file); a ``*.toml``
        file it names written with the bench's settings."""
        values = {"FILE": str(self.config), **values}
        words = []
        for word in argv:
            if word.endswith(".toml"):
                (self.cwd / word).write_text(self.config.read_text())
            words.append(values.get(word, word))
        return words

    def env(self, argv: list[str]) -> dict[str, str]:
        """This process's environment without METERS_* (only the file speaks); a command
        written without ``--config`` reads the bench's file from ``$METERS_CONFIG``, as the
        README says it defaults to."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("METERS_")}
        inherited.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if "--config" not in argv and self.tree:
            inherited["METERS_CONFIG"] = str(self.config)
        return inherited

    async def run(self, argv: list[str]) -> Ran:
        process = await asyncio.create_subprocess_exec(
            str(CLI),
            *argv,
            cwd=self.cwd,
            env=self.env(argv),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return Ran(process.returncode, out.decode(), err.decode())


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    made = Bench(tmp_path)
    try:
        yield made
    finally:
        made.close()


def test_the_docs_write_the_commands_on_call_runs() -> None:
    written = {command.text for command in documented_commands()}

    assert f"{PROGRAM} dead-letters list --config FILE" in written
    assert f"{PROGRAM} dead-letters requeue --config FILE ID" in written


@pytest.mark.parametrize("command", documented(), ids=str)
async def test_a_documented_command_runs_and_does_what_its_line_says(
    command: Documented, bench: Bench
) -> None:
    for argv in command.argvs:
        for form in _forms(argv):
            assert _accepted(form), f"{command} ({command.places()}): refused: {form}"
    runner = _runner(command.argvs[0])
    for argv in command.argvs:
        await runner(bench, argv, f"{command} ({command.places()})")


def _forms(argv: tuple[str, ...]) -> list[list[str]]:
    """The argv once per command it stands for: ``COMMAND --help`` is every command's."""
    if argv[0] != "COMMAND":
        return [list(argv)]
    return [[name, *argv[1:]] for name in _commands()]


def _accepted(argv: list[str]) -> bool:
    try:
        cli._parser().parse_args(argv)
    except SystemExit as exited:  # --help and --version print and exit 0
        return exited.code == 0
    except argparse.ArgumentError:
        return False
    return True


Runner = Callable[[Bench, tuple[str, ...], str], Awaitable[None]]


def _runner(argv: tuple[str, ...]) -> Runner:
    if "--help" in argv:
        return _help
    daemons: dict[str, Runner] = {
        "serve": _serve,
        "worker": _worker,
        "simulators": _simulators,
        "sandbox": _sandbox,
    }
    others: dict[str, Runner] = {
        "--version": _version,
        "check-config": _check_config,
        "demo": _demo,
        "new-vendor": _new_vendor,
        "dead-letters": _dead_letters,
    }
    return {**daemons, **others}[argv[0]]


async def _version(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    ran = await bench.run(list(argv))

    assert ran.code == 0, f"{where}: {ran}"
    assert ran.stdout.strip() == f"{PROGRAM} {version(PROGRAM)}", f"{where}: {ran}"


async def _help(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    """``COMMAND --help``: for every command, what it does and each exit code (README)."""
    for form in _forms(argv):
        name = form[0]
        ran = await bench.run(form)
        assert ran.code == 0, f"{where} [{name}]: {ran}"
        assert ran.stdout.startswith(f"usage: {PROGRAM} {name}"), f"{where} [{name}]: {ran}"
        assert "exit codes:\n  0  " in ran.stdout, f"{where} [{name}]: {ran}"


def _commands() -> list[str]:
    parser = cli._parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(commands.choices)


def _shipped() -> dict[str, Any]:
    return tomllib.loads(SHIPPED_CONFIG.read_text())


async def _check_config(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    """Exit 0 on a good file; 2 naming the key of a bad one (README)."""
    bench.write_config(_shipped())
    filled = bench.filled(argv)
    good = await bench.run(filled)

    assert good.code == 0, f"{where}: {good}"
    assert good.stdout.startswith(f"{filled[-1]}: OK\n"), f"{where}: {good}"

    misspelt = _shipped()
    misspelt["server"]["prot"] = misspelt["server"].pop("port")
    bench.write_config(misspelt)
    bad = await bench.run(bench.filled(argv))

    assert bad.code == 2, f"{where}: {bad}"
    assert "server.prot" in bad.stderr, f"{where}: {bad}"
    assert "did you mean" in bad.stderr, f"{where}: {bad}"


async def _demo(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    """Every scenario played behaves; ``--only`` plays those it names; ``--config`` plays the
    vendors the file routes."""
    if "--config" in argv:
        bench.write_config(_shipped())
    ran = await bench.run(bench.filled(argv))

    assert ran.code == 0, f"{where}: {ran}"
    summary = _SUMMARY.search(ran.stdout)
    assert summary is not None, f"{where}: {ran}"
    if "--only" in argv:
        assert summary.group(1) == "1", f"{where}: {ran}"
        assert "Stale meter ride" in ran.stdout, f"{where}: {ran}"
    if "--config" in argv:
        for vendor in {country["vendor"] for country in bench.tree["countries"].values()}:
            assert f"({vendor})" in ran.stdout, f"{where}: {vendor} not played: {ran}"


async def _new_vendor(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    filled = bench.filled(argv, NAME=VENDOR_NAME, DIR=VENDOR_DEST, D=VENDOR_DEST)
    name, dest = filled[1], bench.cwd / filled[filled.index("--dest") + 1]
    ran = await bench.run(filled)

    assert ran.code == 0, f"{where}: {ran}"
    assert ran.stdout.startswith("wrote "), f"{where}: {ran}"
    assert f'"meters-vendor-{name}"' in (dest / "pyproject.toml").read_text(), where


async def _dead_letters(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    """``list`` prints every dead letter; ``requeue ID`` moves that one back into the task
    stream, ``requeue --all`` every one; an id that is none exits 1 (docs/production.md)."""
    if bench.redis is None:
        tree = _shipped()
        tree["broker"] = {"url": bench.with_redis()}
        bench.write_config(tree)
        await _bury(bench)
    stream = BrokerSettings(**bench.tree["broker"]).queue_name
    before = await _dead_ids(bench)
    queued = await _stream_length(bench, stream)
    ran = await bench.run(bench.filled(argv, ID=before[0]))

    assert ran.code == 0, f"{where}: {ran}"
    after = await _dead_ids(bench)
    if argv[1] == "list":
        heading = f"{len(before)} dead letter(s) in {stream}{DEAD_LETTER_SUFFIX}"
        assert heading in ran.stdout, f"{where}: {ran}"
        for dead_id in before:
            assert f"{dead_id}  set aside " in ran.stdout, f"{where}: {ran}"
        assert f"order {_order_id(0)}  task task-0" in ran.stdout, f"{where}: {ran}"
        assert after == before, where
        return
    moved = before if "--all" in argv else before[:1]
    for dead_id in moved:
        assert f"{dead_id}: requeued as " in ran.stdout, f"{where}: {ran}"
    assert after == [dead_id for dead_id in before if dead_id not in moved], where
    assert await _stream_length(bench, stream) == queued + len(moved), where
    if "ID" in argv:
        missing = await bench.run(bench.filled(argv, ID="abc"))
        assert missing.code == 1, f"{where}: {missing}"
        assert "abc: no such dead letter" in missing.stderr, f"{where}: {missing}"


def _order_id(number: int) -> str:
    return f"documented-dead-{number}"


async def _bury(bench: Bench) -> None:
    """Dead letters as a worker sets them aside: the task, its delivery count, its entry id
    and its last consumer."""
    stream = BrokerSettings(**bench.tree["broker"]).queue_name
    async with _client(bench) as client:
        for number in range(DEAD_LETTERS):
            await client.xadd(
                stream + DEAD_LETTER_SUFFIX,
                {
                    "data": start_ride_message(f"task-{number}", _order_id(number)),
                    "deliveries": "6",
                    "entry_id": f"{number + 1}-0",
                    "last_consumer": f"{HOST}:1:documented",
                },
            )


def _client(bench: Bench) -> "redis.asyncio.Redis":
    assert bench.redis is not None
    return redis.asyncio.Redis.from_url(bench.redis.url)


async def _dead_ids(bench: Bench) -> list[str]:
    stream = BrokerSettings(**bench.tree["broker"]).queue_name + DEAD_LETTER_SUFFIX
    async with _client(bench) as client:
        entries: Any = await client.xrange(stream)
    return [entry_id.decode() for entry_id, _ in entries]


async def _stream_length(bench: Bench, stream: str) -> int:
    async with _client(bench) as client:
        length: int = await client.xlen(stream)
    return length


def _production_tree(bench: Bench) -> dict[str, Any]:
    """The rehearsal's production settings (free ports; a worker host of two processes), the
    broker a Redis of the bench's own."""
    tree = production_tree(bench.with_redis())
    tree["server"]["port"] = free_port()
    return tree


async def _serve(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    tree = bench.tree or _production_tree(bench)
    bench.write_config(tree)
    url = f"http://{HOST}:{tree['server']['port']}/health"
    await _daemon(bench, argv, where, lambda output: _answers_200(url))


async def _worker(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    tree = bench.tree or _production_tree(bench)
    bench.write_config(tree)
    url = f"http://{HOST}:{tree['worker']['metrics_port']}/health"
    # A supervisor and its processes: SIGTERM must stop them all.
    processes = tree["worker"]["processes"]
    await _daemon(bench, argv, where, lambda output: _answers_200(url), processes=processes)


async def _simulators(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    if "--control-port" not in argv and not _port_free(8100):
        pytest.skip(f"{where}: its default control port 8100 is taken on this machine")
    bench.write_config(bench.tree or _production_tree(bench))
    await _daemon(bench, argv, where, _printed_ready)


async def _sandbox(bench: Bench, argv: tuple[str, ...], where: str) -> None:
    _, bench.tree = sandbox_config(bench.cwd)
    await _daemon(bench, argv, where, _logged_sandbox_ready)


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


async def _answers_200(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def _printed_ready(output: Path) -> bool:
    return READY in await asyncio.to_thread(output.read_text, errors="replace")


async def _logged_sandbox_ready(output: Path) -> bool:
    """The sandbox logs ``sandbox.ready`` once its gateway and simulators listen."""
    text = await asyncio.to_thread(output.read_text, errors="replace")
    return any(
        json.loads(line).get("event") == "sandbox.ready"
        for line in text.splitlines()
        if line.startswith("{")
    )


async def _daemon(
    bench: Bench,
    argv: tuple[str, ...],
    where: str,
    ready: Callable[[Path], Awaitable[bool]],
    processes: int = 0,
) -> None:
    """Start it, wait until ready, SIGTERM it: exit 0 within the grace, nothing left behind.
    ``processes``: how many processes of its own it runs once ready (a worker host's)."""
    port = str(free_port())
    filled = [port if word in PORT_WORDS else word for word in bench.filled(argv)]
    output = bench.cwd / f"{filled[0]}.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(CLI), *filled, cwd=bench.cwd, env=bench.env(filled), stdout=sink, stderr=sink
        )
    try:

        async def up() -> bool:
            assert process.returncode is None, f"{where}: exited\n{output.read_text()}"
            return await ready(output)

        await eventually(up, READY_TIMEOUT_S, f"{where}: ready")
        children: list[int] = []

        def started() -> bool:
            children[:] = _descendants(process.pid)
            return len(children) >= processes

        await eventually(started, READY_TIMEOUT_S, f"{where}: its {processes} processes run")
        process.send_signal(signal.SIGTERM)
        grace_s = bench.tree.get("worker", {}).get("shutdown_grace_ms", 30_000) / 1000
        code = await asyncio.wait_for(process.wait(), grace_s + STOP_TIMEOUT_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert code == 0, f"{where}: exit {code}\n{output.read_text()}"
    await eventually(
        lambda: not [pid for pid in children if _running(pid)],
        STOP_TIMEOUT_S,
        f"{where}: its processes {children} end with it",
    )


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (its children, theirs, …), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _running(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
