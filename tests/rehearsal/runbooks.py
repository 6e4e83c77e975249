"""The queries of a runbook (docs/operations.md "Alerts and runbooks"), as written: the PromQL
and the jq filters of its **Confirm** line, each run against the rehearsal's live processes."""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass

from tests.operations.artifacts import ROOT
from tests.operations.documented import is_promql

OPERATIONS = ROOT / "docs" / "operations.md"
JQ_TIMEOUT_S = 30.0
_SPAN = re.compile(r"`([^`]+)`")
_NAMED_FIELDS = re.compile(r"\{([a-z_, ]+)\}\s*$")


@dataclass(frozen=True, slots=True)
class RunbookQueries:
    promql: list[str]
    jq: list[str]


def confirm_queries(alert: str) -> RunbookQueries:
    """The PromQL and jq of the alert's runbook section's **Confirm** bullet."""
    section = OPERATIONS.read_text().split(f"\n### {alert}\n", 1)[1].split("\n### ", 1)[0]
    bullet = section.split("- **Confirm**", 1)[1].split("\n- **", 1)[0]
    spans = _SPAN.findall(bullet.replace("\n  ", " "))
    jq = [span for span in spans if "select(" in span]
    promql = [span for span in spans if "select(" not in span and is_promql(span)]
    return RunbookQueries(promql, jq)


def run_jq(program: str, lines: list[str]) -> list[object]:
    """What ``jq -c PROGRAM`` prints for these log lines, decoded; jq refusing it fails."""
    binary = shutil.which("jq")
    assert binary is not None, "jq is not installed (Debian: apt-get install jq)"
    ran = subprocess.run(
        [binary, "-c", program],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        timeout=JQ_TIMEOUT_S,
        check=False,
    )
    assert ran.returncode == 0, f"jq {program!r}: {ran.stderr}"
    return [json.loads(line) for line in ran.stdout.splitlines()]


def null_fields(program: str, outputs: list[object]) -> set[str]:
    """The fields a filter's closing ``{a, b}`` names that its outputs print as null: a field the
    log line does not have. (A whole line or call printed with a null in it is data: a timed-out
    call has no status.)"""
    named = _NAMED_FIELDS.search(program)
    if named is None:
        return set()
    fields = {name.strip() for name in named.group(1).split(",")}
    return {
        key
        for output in outputs
        if isinstance(output, dict)
        for key in fields
        if output.get(key) is None
    }
