"""The shipped Grafana dashboard: every query is PromQL that Prometheus accepts."""

from pathlib import Path

import yaml

from tests.operations.artifacts import dashboard, dashboard_queries
from tests.operations.promtool import run_promtool


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    queries = dashboard_queries()
    assert queries
    # promtool checks expressions only inside rule files: one recording rule per query.
    group = {
        "name": "dashboard",
        "rules": [
            {"record": f"dashboard:query_{number}", "expr": expr}
            for number, expr in enumerate(queries.values())
        ],
    }
    rule_file = tmp_path / "dashboard.rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [group]}))

    checked = run_promtool("check", "rules", rule_file.name, cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_query_reads_the_chosen_prometheus() -> None:
    for panel in dashboard()["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], panel["title"]
