"""Every ``meters-integration-api`` command the README and docs/ write in a code span or a code
block is one the CLI accepts, as written (its placeholders filled in): a runbook line that the
parser refuses ("unrecognized arguments") fails here, not at 3 a.m. What the commands then do
is specified by their own tests (tests/test_cli.py, tests/production/test_dead_letters.py)."""

import argparse
import shlex

import pytest

from gateway import cli
from tests.operations.documented import PROGRAM, Written, documented_commands

# The placeholders the docs write, and a value of each kind.
PLACEHOLDERS = {
    "FILE": "meters.toml",
    "NAME": "acme",
    "DIR": "out",
    "D": "out",
    "ID": "1-0",
    "PORT": "8100",
    "COMMAND": "serve",
}


def argv_of(command: str) -> list[list[str]]:
    """The command lines a documented one stands for: a synopsis's alternatives
    (``list|requeue ID...``) each, its optional parts (``[--config FILE]``) given."""
    rest = command.replace("\\|", "|").removeprefix(PROGRAM + " ")
    words = shlex.split(rest)
    head, tail = words[:1], words[1:]
    alternatives = " ".join(tail).split("|") if "|" in " ".join(tail) else [" ".join(tail)]
    return [
        [PLACEHOLDERS.get(word, word) for word in [*head, *alternative.split()]]
        for alternative in (
            part.replace("[", "").replace("]", "").replace("...", "") for part in alternatives
        )
    ]


def test_the_docs_write_the_commands_on_call_runs() -> None:
    written = {command.text for command in documented_commands()}

    assert f"{PROGRAM} dead-letters list --config FILE" in written
    assert f"{PROGRAM} dead-letters requeue --config FILE ID" in written


@pytest.mark.parametrize("command", documented_commands(), ids=str)
def test_a_documented_command_is_accepted_as_written(command: Written) -> None:
    for argv in argv_of(command.text):
        assert _accepted(argv), f"{command}: refused by the CLI: {argv}"


def _accepted(argv: list[str]) -> bool:
    try:
        cli._parser().parse_args(argv)
    except SystemExit as exited:  # --help and --version print and exit 0
        return exited.code == 0
    except argparse.ArgumentError:
        return False
    return True
