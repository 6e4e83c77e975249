#!/usr/bin/env bash
# make test-latest (docs/testing.md "The latest-releases check"): the newest releases that
# pyproject.toml's ranges allow, in a throwaway venv; first every package that differs from the
# lock is named, then ruff, mypy and the whole suite run on them, and the last lines say which
# of those failed. The lock and .venv are left as they are.
set -uo pipefail
python=$1 lock=$2 example=$3

work=$(mktemp -d -t meters-test-latest.XXXXXX)
trap 'rm -rf "$work"' EXIT
venv=$work/venv
extras=$("$python" -c 'import tomllib; print(",".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]))')

echo "test-latest: a throwaway venv with the newest releases of .[$extras]"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
if ! "$venv/bin/pip" install --quiet --upgrade -e ".[$extras]" -e "$example"; then
  echo "test-latest: the newest releases the ranges allow do not install together (pip's message above)"
  exit 1
fi
"$venv/bin/pip" freeze --exclude-editable >"$work/latest.txt"

"$python" - "$lock" "$work/latest.txt" <<'PY'
"""Names every package whose version in the latest venv is not the lock's."""
import re
import sys


def pins(path: str) -> dict[str, str]:
    found = {}
    for line in open(path, encoding="utf-8"):
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


locked, latest = pins(sys.argv[1]), pins(sys.argv[2])
changed = [f"  {name}: {locked[name]} (lock) -> {latest[name]}" for name in sorted(locked.keys() & latest.keys()) if locked[name] != latest[name]]
added = [f"  {name}: {latest[name]} (not in the lock)" for name in sorted(latest.keys() - locked.keys())]
gone = [f"  {name}: {locked[name]} (lock; not installed now)" for name in sorted(locked.keys() - latest.keys())]
# pip, setuptools and wheel are the venv's own tools; the lock has them, freeze leaves them out.
gone = [line for line in gone if line.split(":")[0].strip() not in {"pip", "setuptools", "wheel"}]
differs = changed + added + gone
print(f"test-latest: {len(differs)} of {len(latest)} packages differ from the lock")
print("\n".join(differs) if differs else "  none: the lock holds the newest releases")
PY

failed=()
make --no-print-directory lint-venv BIN="$venv/bin" || failed+=("ruff or mypy")
"$venv/bin/python" -m pytest || failed+=("pytest")

if [ ${#failed[@]} -eq 0 ]; then
  echo "test-latest: ruff, mypy and the suite pass on the newest releases"
else
  echo "test-latest: FAILED on the newest releases: ${failed[*]} (the packages that differ are listed above)"
  exit 1
fi
