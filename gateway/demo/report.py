"""The demo's output: a timeline per ride and a summary table, as plain text."""

from collections.abc import Sequence

from gateway.demo.player import ActionResult, ScenarioResult, Step

WIDTH = 110
# Scenarios name the sections of the repository's design document they play.
DESIGN = "docs/design.md"
PASSED, FAILED = "PASS", "FAIL"


def scenario_report(number: int, total: int, result: ScenarioResult) -> str:
    scenario = result.scenario
    lines = [
        f"[{number}/{total}] {scenario.name}  -  {DESIGN} {scenario.design}".ljust(WIDTH, "-"),
        f"  ride: order {scenario.ride.order_id}, zone {scenario.ride.zone}",
    ]
    for action in result.actions:
        lines += _action_lines(action)
    if result.error:
        lines.append(f"  could not be played: {result.error}")
    lines.append(f"  {PASSED if result.ok else FAILED}")
    return "\n".join(lines)


def _action_lines(action: ActionResult) -> list[str]:
    lines = [
        "",
        f"  {'at ms':>7}  {'step':<44} {'service':<22} {'status':>6} {'ms':>7}  outcome",
        *(_step_line(step) for step in action.steps),
        f"  expected {action.expected}",
    ]
    if not action.ok:
        lines.append(f"  observed {action.observed}")
    return lines


def _step_line(step: Step) -> str:
    at = "" if step.at_ms is None else f"{step.at_ms:.0f}"
    status = "-" if step.status is None else str(step.status)
    ms = "" if step.ms is None else f"{step.ms:.1f}"
    what = _clip_endpoint(step.what, 44)
    return f"  {at:>7}  {what} {step.service:<22} {status:>6} {ms:>7}  {step.outcome}"


def _clip_endpoint(text: str, width: int) -> str:
    """Long paths lose their beginning, which is the part every call of a service shares."""
    if len(text) <= width:
        return text.ljust(width)
    method, _, path = text.rpartition(" ")
    head = f"{method} ..." if method else "..."
    tail = path[-(width - len(head)) :]
    return (head + tail[tail.find("/") :]).ljust(width)


def summary(results: Sequence[ScenarioResult]) -> str:
    failed = sum(not result.ok for result in results)
    lines = [
        "",
        "Summary".ljust(WIDTH, "="),
        f"  {'#':>3}  {'result':<6}  {'scenario':<36} {DESIGN}",
        *(
            f"  {number:>3}  {PASSED if result.ok else FAILED:<6}  {result.scenario.name:<36} "
            f"{result.scenario.design}"
            for number, result in enumerate(results, start=1)
        ),
        "",
        f"{len(results)} scenarios: {len(results) - failed} behaved as expected, {failed} did not",
    ]
    return "\n".join(lines)
