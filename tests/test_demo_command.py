"""``meters-integration-api demo``: every scripted ride plays as the design says, or it exits 1."""

import asyncio
import re

import pytest

from gateway.bootstrap.registry import discover_vendor_plugins
from gateway.demo import command
from gateway.demo.model import FinishRide, Scenario, SimCall, StartRide, fell_back, refused
from gateway.demo.start_scenarios import ISRAELI_RIDE
from gateway.http.error_catalog import Refusal
from gateway.rides.fallback_policy import StartStep
from tests.processes import CLI


async def test_demo_plays_every_scenario_as_designed() -> None:
    process = await asyncio.create_subprocess_exec(
        str(CLI), "demo", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    output = stdout.decode()

    assert process.returncode == 0, output
    summary = output.split("Summary")[-1]
    for number, scenario in enumerate(command.SCENARIOS, start=1):
        assert re.search(rf"^ +{number}  PASS +{re.escape(scenario.name)} ", summary, re.M)
    total = len(command.SCENARIOS)
    assert output.rstrip().endswith(f"{total} scenarios: {total} behaved as expected, 0 did not")
    # The first ride's timeline: the vendor call, its service, status and duration.
    assert re.search(r"POST /ride +monitex +201 +\d+\.\d  ok", output)
    assert re.search(r"start-ride task +gateway +- +\d+\.\d  started \(ok\)", output)


def test_demo_covers_every_refusal_of_the_finish_ride_table() -> None:
    expected = {
        action.expect.answer
        for scenario in command.SCENARIOS
        for action in scenario.actions
        if isinstance(action, FinishRide)
    }

    # docs/design.md §4's table; §6's answers of the HTTP surface on every route are played by
    # tests/test_hostile_input.py and tests/test_http_surface.py.
    http_surface = {
        Refusal.PAYLOAD_TOO_LARGE,
        Refusal.UNSUPPORTED_MEDIA_TYPE,
        Refusal.BAD_REQUEST,
        Refusal.REQUEST_TIMEOUT,
        Refusal.NOT_FOUND,
        Refusal.METHOD_NOT_ALLOWED,
        Refusal.INTERNAL_ERROR,
        Refusal.BROKER_UNAVAILABLE,
    }
    # Only where the ride ledger lives in Redis (the demo's is the process's): played by
    # tests/test_lost_start_answer.py.
    redis_only = {Refusal.RIDE_LEDGER_UNAVAILABLE}
    assert {
        refusal.value for refusal in Refusal if refusal not in http_surface | redis_only
    } <= expected


def test_demo_covers_every_failing_step_of_the_start_ride_matrix() -> None:
    expected = {
        action.expect.reason
        for scenario in command.SCENARIOS
        for action in scenario.actions
        if isinstance(action, StartRide)
    }

    # The embedded sandbox keeps its lease and ledger in memory, which cannot fail; Redis's
    # rows are played by tests/production/test_money_safety.py. Neither shipped vendor refuses
    # a start for a business reason (tests/test_vendor_refusals.py plays that row with a
    # refusing test vendor).
    unplayable = {
        StartStep.PUSH,
        StartStep.TAKE_LEASE,
        StartStep.LEASE_LOST,
        StartStep.CLAIM_RIDE,
        StartStep.VENDOR_REFUSED,
    }
    assert {step.value for step in StartStep if step not in unplayable} <= expected


def test_a_ride_that_misbehaves_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        command,
        "SCENARIOS",
        (
            Scenario(
                "Expects a fallback that never comes",
                "none",
                ISRAELI_RIDE,
                (StartRide(fell_back(StartStep.VENDOR_START)),),
            ),
            Scenario(
                "Cannot be set up",
                "none",
                ISRAELI_RIDE,
                (FinishRide(refused(Refusal.VENDOR_ERROR), (SimCall("monitex", "/_sim/x", {}),)),),
            ),
        ),
    )

    exit_code = command.run_demo(discover_vendor_plugins())

    output = capsys.readouterr().out
    assert exit_code == 1
    assert "expected fallback (vendor_start_failed), setcar false, push sent" in output
    assert "observed started (ok), setcar true, push sent, ride id stored" in output
    assert "could not be played: SetupFailed: monitex /_sim/x" in output
    assert output.rstrip().endswith("2 scenarios: 0 behaved as expected, 2 did not")


def test_only_plays_the_scenarios_it_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run_demo(discover_vendor_plugins(), only="no such scenario") == 2
    assert "no scenario name contains 'no such scenario'" in capsys.readouterr().out
