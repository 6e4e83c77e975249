"""The rehearsal's figures as docs/operations.md's table: ``python -m tests.rehearsal.table
SUMMARY.json...`` (scripts/rehearse.sh runs it on what each incident wrote)."""

import json
import sys
from pathlib import Path


def rows(summaries: list[dict[str, object]]) -> list[str]:
    lines = [
        "| incident (fault held) | alert | severity | fires after (s) | clears after (s) | pages |",
        "|---|---|---|---|---|---|",
    ]
    for summary in summaries:
        alerts = summary["alerts"]
        assert isinstance(alerts, dict)
        label = f"{summary['incident']} ({summary['fault_held_s']} s)"
        if not alerts:
            lines.append(f"| {label} | none | | | | |")
        for name, seen in sorted(alerts.items(), key=lambda item: item[1]["fires_after_s"]):
            # Negative: it cleared while the fault was still held.
            clears = seen["clears_after_s"]
            cleared = f"{clears}" if clears >= 0 else f"{-clears} before the recovery"
            lines.append(
                f"| {label} | {name} | {seen['severity']} | {seen['fires_after_s']} "
                f"| {cleared} | {seen['pages']} |"
            )
    return lines


def main(paths: list[str]) -> None:
    summaries = [json.loads(Path(path).read_text()) for path in paths if Path(path).exists()]
    print("\n".join(rows(summaries)))
    for summary in summaries:
        print(f"{summary['incident']}: finish-ride answers {summary['finish_answers']}")


if __name__ == "__main__":
    main(sys.argv[1:])
