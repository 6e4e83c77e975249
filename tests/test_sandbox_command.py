"""``meters-integration-api sandbox`` as a newcomer runs it: the requests it prints just work."""

import asyncio
import json
import shlex
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import tomli_w

from gateway.bootstrap.registry import discover_vendor_plugins
from gateway.sandbox.command import run_sandbox
from gateway.settings import Settings
from tests.processes import CLI, sandbox_config

READY = "Stop with Ctrl-C."


@dataclass
class Curl:
    """One printed curl command, read as the request it sends."""

    url: str = ""
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    @classmethod
    def parse(cls, command: str) -> "Curl":
        curl = cls()
        words = iter(shlex.split(command)[1:])
        for word in words:
            if word == "-X":
                curl.method = next(words)
            elif word == "-H":
                name, _, value = next(words).partition(": ")
                curl.headers[name] = value
            elif word == "-d":
                curl.body = next(words)
            elif not word.startswith("-"):
                curl.url = word
        return curl

    async def send(self, http: aiohttp.ClientSession) -> tuple[int, Any]:
        async with http.request(
            self.method, self.url, headers=self.headers, data=self.body
        ) as response:
            return response.status, await response.json()


def printed_curls(banner: str) -> list[Curl]:
    commands = banner.replace("\\\n", " ").splitlines()
    return [Curl.parse(command) for command in commands if command.startswith("curl ")]


async def wait_for_banner(process: asyncio.subprocess.Process, output: Path) -> str:
    async with asyncio.timeout(30):
        while READY not in (text := await asyncio.to_thread(output.read_text)):
            assert process.returncode is None, text
            await asyncio.sleep(0.1)
    return text


async def setcar_value(http: aiohttp.ClientSession, builder_url: str, alias_id: str) -> Any:
    """The meter flag of the order's setcar, once the start-ride task has written it."""
    async with asyncio.timeout(10):
        while True:
            async with http.get(builder_url + "/_sim/setcars") as response:
                values = {s["order_id"]: s["value"] for s in await response.json()}
            if values.get(alias_id) is not None:
                return values[alias_id]
            await asyncio.sleep(0.05)


async def test_sandbox_serves_the_printed_ride_and_fault_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    config, tree = sandbox_config(tmp_path)
    output = tmp_path / "sandbox.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(CLI), "sandbox", "--config", str(config), stdout=sink, stderr=sink
        )
    try:
        banner = await wait_for_banner(process, output)
        start, finish, vendor_calls, fault, start_again, setcars = printed_curls(banner)
        builder_url = tree["upstreams"]["driver_orders_builder"]["url"]
        async with aiohttp.ClientSession() as http:
            assert (await start.send(http))[0] == 202
            assert await setcar_value(http, builder_url, "demo-il-1-alias") == "true"
            assert await finish.send(http) == (200, {"price": 42.24})
            _, calls = await vendor_calls.send(http)
            assert [(call["endpoint"], call["status"]) for call in calls] == [
                ("POST /ride", 201),
                ("PUT /rides/{rideId}", 200),
                ("GET /rides/{rideId}", 200),
            ]
            assert all(call["duration_ms"] >= 0 for call in calls)
            assert (await fault.send(http))[0] == 201
            assert (await start_again.send(http))[0] == 202
            assert await setcar_value(http, builder_url, "demo-il-2-alias") == "false"
            assert setcars.url == builder_url + "/_sim/setcars"
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(process.wait(), timeout=15)

    assert exit_code == 0
    text = await asyncio.to_thread(output.read_text)
    assert f"Gateway  http://127.0.0.1:{tree['server']['port']}" in text
    for name, section in tree["vendors"].items():
        assert f"{name:<22} {section['url']}" in text
    events = [json.loads(line)["event"] for line in text.splitlines() if line.startswith("{")]
    assert events[-1] == "sandbox.stopped"
    assert "sandbox-monitex-token" not in text


async def test_sandbox_refuses_upstreams_it_cannot_stand_in_for(tmp_path: Path) -> None:
    config, tree = sandbox_config(tmp_path)
    tree["upstreams"]["personal"]["url"] = "https://personal.internal.example"
    config.write_text(tomli_w.dumps(tree))

    process = await asyncio.create_subprocess_exec(
        str(CLI), "sandbox", "--config", str(config), stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 2
    assert "upstreams.personal.url: https://personal.internal.example: the sandbox serves" in (
        stderr.decode()
    )


def test_sandbox_names_the_address_it_cannot_listen_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, tree = sandbox_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        tree["upstreams"]["personal"]["url"] = f"http://127.0.0.1:{port}"

        exit_code = run_sandbox(Settings.model_validate(tree), discover_vendor_plugins())

    assert exit_code == 1
    error = capsys.readouterr().err
    assert error.startswith("sandbox cannot listen: [Errno 98] error while attempting to bind")
    assert f"('127.0.0.1', {port})" in error
