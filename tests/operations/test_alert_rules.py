"""The shipped Prometheus rules: valid, unit-tested with promtool, and each alert usable by
on-call (severity, a summary of what drivers experience, a runbook that exists)."""

from pathlib import Path

import pytest

from tests.operations.artifacts import (
    PROMETHEUS_DIR,
    alerts,
    rule_files,
    rule_test_files,
    rule_tests,
    runbook_anchors,
)
from tests.operations.promtool import run_promtool

SEVERITIES = {"critical", "warning", "info"}
RUNBOOK_PREFIX = "docs/operations.md#"


def test_promtool_accepts_the_rule_files() -> None:
    assert rule_files(), f"no *.rules.yml in {PROMETHEUS_DIR}"

    checked = run_promtool(
        "check", "rules", *(path.name for path in rule_files()), cwd=PROMETHEUS_DIR
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("test_file", rule_test_files(), ids=lambda path: path.name)
def test_the_promtool_unit_tests_pass(test_file: Path) -> None:
    tested = run_promtool("test", "rules", test_file.name, cwd=PROMETHEUS_DIR)

    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_unit_tests_see_every_alert_fire() -> None:
    fired = {
        case["alertname"]
        for test in rule_tests()
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }

    assert set(alerts()) - fired == set()


@pytest.mark.parametrize("name", sorted(alerts()))
def test_an_alert_says_how_bad_what_drivers_see_and_where_its_runbook_is(name: str) -> None:
    rule = alerts()[name]

    assert rule["labels"]["severity"] in SEVERITIES
    assert "driver" in rule["annotations"]["summary"] or "ride" in rule["annotations"]["summary"]
    runbook = rule["annotations"]["runbook_url"]
    assert runbook == RUNBOOK_PREFIX + name.lower()
    assert runbook.removeprefix(RUNBOOK_PREFIX) in runbook_anchors()
