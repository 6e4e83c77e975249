"""The score of the last `mutmut run`, per mutated module and overall (docs/testing.md).

Reads mutmut's own cache (``mutants/**/*.py.meta``) and classifies each mutant's exit code with
mutmut's table. A mutant is killed when its tests failed, timed out or crashed; a survivor,
one with no covering test and a suspicious one count against the score; mutants not checked
(an interrupted run) are reported and left out. The last line is always
``mutation score: NN.N% (K killed of N)``.
"""

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
LEFT_OUT = {"not checked", "skipped", "check was interrupted by user"}


def statuses(mutants: Path) -> dict[str, Counter[str]]:
    """Each module's (``gateway/money.py``) mutant statuses, counted."""
    by_module: dict[str, Counter[str]] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        module = str(meta.relative_to(mutants)).removesuffix(".meta")
        exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
        by_module[module] = Counter(status_by_exit_code[code] for code in exit_codes.values())
    return by_module


def score(counts: Counter[str]) -> tuple[int, int]:
    killed = sum(counts[status] for status in KILLED)
    checked = sum(n for status, n in counts.items() if status not in LEFT_OUT)
    return killed, checked


def percent(killed: int, checked: int) -> str:
    return f"{100 * killed / checked:.1f}%" if checked else "n/a"


def main() -> int:
    by_module = statuses(Path("mutants"))
    if not by_module:
        print("no mutmut results under mutants/: run `make mutate` first", file=sys.stderr)
        return 1
    total: Counter[str] = Counter()
    for module, counts in by_module.items():
        total += counts
        killed, checked = score(counts)
        others = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print(f"{module:40} {percent(killed, checked):>6} ({killed} of {checked}; {others})")
    unchecked = sum(total[status] for status in LEFT_OUT)
    if unchecked:
        print(f"{unchecked} mutants were not checked (interrupted run?) and are left out")
    killed, checked = score(total)
    print(f"mutation score: {percent(killed, checked)} ({killed} killed of {checked})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
