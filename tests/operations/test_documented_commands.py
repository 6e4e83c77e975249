"""Every ``meters-integration-api`` command the README and docs/ write in a code span or a code
block is one the CLI accepts, as written (its placeholders filled in): a runbook line that the
parser refuses ("unrecognized arguments") fails here, not at 3 a.m. What the commands then do
is specified by their own tests (tests/test_cli.py, tests/production/test_dead_letters.py)."""

import argparse
import re
import shlex

import pytest

from gateway import cli
from tests.operations.artifacts import ROOT
from tests.rehearsal.runbooks import run_jq

PROGRAM = "meters-integration-api"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
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
_SPAN = re.compile(r"`([^`\n]+)`")
_BLOCK = re.compile(r"^```[a-z]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def documented_commands() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        spans = _SPAN.findall(_BLOCK.sub("", text))
        lines = [line for block in _BLOCK.findall(text) for line in _joined(block)]
        for candidate in [*spans, *lines]:
            command = candidate.split("  #", 1)[0].split(" # ", 1)[0].strip()
            if command.startswith(PROGRAM + " "):
                found.append((document.name, command))
    return sorted(set(found))


def _joined(block: str) -> list[str]:
    """A code block's lines, each continued line (ending in a backslash) joined to the next."""
    return block.replace("\\\n", " ").splitlines()


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
    written = {command for _, command in documented_commands()}

    assert f"{PROGRAM} dead-letters list --config FILE" in written
    assert f"{PROGRAM} dead-letters requeue --config FILE ID" in written


@pytest.mark.parametrize(
    ("document", "command"), documented_commands(), ids=lambda value: str(value)
)
def test_a_documented_command_is_accepted_as_written(document: str, command: str) -> None:
    for argv in argv_of(command):
        assert _accepted(argv), f"{document}: `{command}` is refused by the CLI: {argv}"


def _accepted(argv: list[str]) -> bool:
    try:
        cli._parser().parse_args(argv)
    except SystemExit as exited:  # --help and --version print and exit 0
        return exited.code == 0
    except argparse.ArgumentError:
        return False
    return True


def documented_jq_filters() -> list[tuple[str, str]]:
    """The log queries the docs write: every code span with a jq ``select(``."""
    return sorted(
        {
            (document.name, span)
            for document in DOCUMENTS
            for span in _SPAN.findall(document.read_text().replace("\n  ", " "))
            # not the page's illustration of how to run one (`… | jq -c 'select(…)'`)
            if "select(" in span and "| jq" not in span
        }
    )


@pytest.mark.parametrize(("document", "program"), documented_jq_filters(), ids=str)
def test_a_documented_jq_filter_compiles(document: str, program: str) -> None:
    """Whether its fields are the lines' fields is `make rehearse`'s to check, on real lines."""
    filter_only = program.removeprefix("jq ").removeprefix("-c ").strip("'")
    compiled = run_jq(filter_only, [])

    assert compiled == [], f"{document}: {program}"
