"""The shipped operations artifacts (Prometheus rules and their tests, the Grafana dashboard)
and the metric names their PromQL reads."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import yaml

ROOT = Path(__file__).parents[2]
PROMETHEUS_DIR = ROOT / "config" / "prometheus"
DASHBOARD = ROOT / "config" / "grafana" / "meters-integration-api.json"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
# What Grafana puts in place of its variables before the query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$vendor": ".*"}


def rule_files() -> list[Path]:
    return sorted(PROMETHEUS_DIR.glob("*.rules.yml"))


def rule_test_files() -> list[Path]:
    return sorted(PROMETHEUS_DIR.glob("*_test.yml"))


def rules() -> list[dict[str, Any]]:
    """Every recording and alerting rule of every rule file."""
    return [
        rule
        for path in rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def rule_tests() -> list[dict[str, Any]]:
    return [
        test for path in rule_test_files() for test in yaml.safe_load(path.read_text())["tests"]
    ]


def fed_series() -> list[str]:
    """Every ``input_series`` the rule unit tests feed, e.g. ``meters_x_total{vendor="v"}``."""
    return [series["series"] for test in rule_tests() for series in test["input_series"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def dashboard_queries() -> dict[str, str]:
    """Every panel target's PromQL, with Grafana's variables replaced, by panel title and ref."""
    queries = {}
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            queries[f"{panel['title']} / {target['refId']}"] = expr
    return queries


def dashboard_variable_metrics() -> set[str]:
    """The metrics the dashboard's ``label_values(metric, label)`` variables read."""
    found = set()
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((\w+),\s*\w+\)", variable["definition"])
            assert match, f"unexpected variable query {variable['definition']!r}"
            found.add(match.group(1))
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    return {selector.name for selector in _selectors(promql_parser.parse(expr))}


def selectors(expr: str) -> list[Any]:
    """The vector selectors of a PromQL expression (a range's included), each printable as a
    query of its own."""
    return list(_selectors(promql_parser.parse(expr)))


def used_labels(expr: str) -> dict[str, set[str]]:
    """The label names the expression needs on each metric it selects: those it matches on and
    those an enclosing ``by (...)`` groups by, e.g. ``{"x_total": {"vendor", "result"}}``."""
    used: dict[str, set[str]] = {}
    for node, grouped in _grouped_selectors(promql_parser.parse(expr), frozenset()):
        names = {matcher.name for matcher in node.matchers.matchers}
        used.setdefault(node.name, set()).update(names | grouped)
    return used


def _grouped_selectors(node: Any, grouped: frozenset[str]) -> Iterator[tuple[Any, frozenset[str]]]:
    if isinstance(node, promql_parser.AggregateExpr):
        modifier = node.modifier
        if modifier is not None and modifier.type == promql_parser.AggModifierType.By:
            grouped = grouped | set(modifier.labels)
        yield from _grouped_selectors(node.expr, grouped)
        return
    for selector in _children_or_self(node):
        if selector is node:
            yield node, grouped
        else:
            yield from _grouped_selectors(selector, grouped)


def _children_or_self(node: Any) -> list[Any]:
    if isinstance(node, promql_parser.VectorSelector):
        return [node]
    if isinstance(node, promql_parser.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, promql_parser.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, promql_parser.Call):
        return list(node.args)
    if isinstance(
        node, promql_parser.ParenExpr | promql_parser.UnaryExpr | promql_parser.SubqueryExpr
    ):
        return [node.expr]
    assert isinstance(node, promql_parser.NumberLiteral | promql_parser.StringLiteral), node
    return []


def _selectors(node: Any) -> Iterator[Any]:
    for selector, _ in _grouped_selectors(node, frozenset()):
        assert selector.name, f"a selector without a metric name: {selector}"
        yield selector


def every_query() -> list[str]:
    """The PromQL of every rule, every fed series and every dashboard panel."""
    return [rule["expr"] for rule in rules()] + fed_series() + list(dashboard_queries().values())


def runbook_anchors() -> set[str]:
    """The anchors of docs/operations.md's headings, as GitHub and most renderers make them."""
    anchors = set()
    for line in OPERATIONS_DOC.read_text().splitlines():
        heading = re.match(r"#{1,6} (.+)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors
