"""The kit's pytest plugin, opt-in: ``pytest -p gateway.testing.plugin`` (or ``addopts``, or
``pytest_plugins`` in the top conftest.py). No entry point loads it behind anyone's back.

Loading it imports the kit before any test module does, so that pytest rewrites the suites'
asserts; after a run it lists the capabilities vendors declared they lack, so that the tests
skipped for them are seen, not mistaken for passes.
"""

from collections import Counter

import pytest

from gateway.testing.suites.subject import ENDPOINT_NOT_CALLED, UNDECLARED_CAPABILITY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for prefix, title in (
        (UNDECLARED_CAPABILITY, "capabilities not declared"),
        (ENDPOINT_NOT_CALLED, "faults whose endpoint was not called"),
    ):
        _summarize(terminalreporter, prefix, title)


def _summarize(terminalreporter: pytest.TerminalReporter, prefix: str, title: str) -> None:
    counted: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = _skip_reason(report)
        if reason.startswith(prefix):
            counted[reason.removeprefix(f"{prefix}: ")] += 1
    if not counted:
        return
    terminalreporter.section(f"meter vendor conformance: {title}")
    for what, count in sorted(counted.items()):
        terminalreporter.write_line(f"{what}: {count} test{'s' * (count != 1)} skipped")


def _skip_reason(report: pytest.TestReport) -> str:
    # A skip's longrepr is (path, line, "Skipped: <reason>").
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return ""
