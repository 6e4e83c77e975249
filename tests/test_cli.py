"""The command explains itself (docs/operations.md "The command"): each subcommand's --help
says what it does, where it listens and how it exits; --version; `--config` where the
runbooks put it; a port already taken is a message, not a traceback."""

import os
import socket
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.processes import CLI, HOST

SHIPPED = Path(__file__).parent.parent / "config" / "meters.toml"

COMMANDS = (
    "serve",
    "worker",
    "sandbox",
    "simulators",
    "demo",
    "dead-letters",
    "check-config",
    "new-vendor",
)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("METERS_")}
    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**clean, **(env or {})},
    )


def test_version_is_the_installed_packages() -> None:
    result = run("--version")

    assert (result.returncode, result.stdout) == (
        0,
        f"meters-integration-api {version('meters-integration-api')}\n",
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_lists_its_exit_codes(command: str) -> None:
    result = run(command, "--help")

    assert result.returncode == 0
    exit_codes = result.stdout.split("exit codes:\n", 1)[1].split("\n\n", 1)[0]
    assert exit_codes.startswith("  0  ")
    assert "  2  " in exit_codes


def test_serve_help_says_where_it_listens_and_what_it_serves() -> None:
    help_text = run("serve", "--help").stdout

    assert "server.host:server.port (127.0.0.1:8080 unless set)" in help_text
    assert "POST /driver/v1/meters-integration-api/finish-ride" in help_text
    assert "POST /internal/meters-integration-api/v1/start-ride" in help_text
    assert "  1  cannot listen\n" in help_text


def test_worker_help_names_its_metrics_endpoint() -> None:
    help_text = run("worker", "--help").stdout

    assert "worker.metrics_host:worker.metrics_port (127.0.0.1:9101" in help_text


@pytest.mark.parametrize(
    "args",
    [("dead-letters", "list", "--config"), ("dead-letters", "--config")],
    ids=["after the action, as the runbooks write it", "before the action"],
)
def test_dead_letters_reads_the_config_on_either_side_of_its_action(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    config = tmp_path / "meters.toml"
    config.write_text("[brokr]\nurl = 'redis://127.0.0.1:1'\n")
    command = [*args, str(config)] if args[-2] == "list" else [*args, str(config), "list"]

    result = run(*command)

    assert result.returncode == 2
    assert "brokr: unknown key `brokr`, did you mean `broker`?" in result.stderr


def test_serve_on_a_port_already_taken_says_so_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "meters.toml"
        config.write_text(f"[server]\nport = {port}\n")

        result = run("serve", "--config", str(config))

    assert result.returncode == 1
    assert result.stderr.startswith("serve cannot listen: ")
    assert "Traceback" not in result.stderr


def test_a_misspelled_variable_is_refused_naming_the_nearest_one() -> None:
    result = run("check-config", str(SHIPPED), env={"METERS_SERVR__PORT": "9000"})

    assert result.returncode == 2
    assert result.stderr == (
        "configuration error:\n"
        "METERS_SERVR__PORT: unknown key `servr`, did you mean METERS_SERVER__PORT?\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--config", str(SHIPPED)],
        ["worker", "--config", str(SHIPPED)],
        ["check-config", str(SHIPPED)],
    ],
    ids=lambda argv: argv[0],
)
def test_a_routed_vendors_secret_set_empty_is_refused_before_anything_listens(
    argv: list[str],
) -> None:
    result = run(*argv, env={"METERS_VENDORS__MONITEX__TOKEN": ""})

    assert result.returncode == 2
    assert result.stderr == (
        "configuration error:\n"
        "vendors.monitex.token: empty, and countries.IL routes to monitex: set it in the file "
        "or in METERS_VENDORS__MONITEX__TOKEN\n"
    )
    assert "sandbox-optumplus-token" not in result.stdout + result.stderr
