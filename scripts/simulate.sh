#!/usr/bin/env bash
# make simulate (docs/testing.md "The simulation"): the money-invariant search, split over
# PARTS processes, each searching its own random schedules; then one line adding up what they
# all played and met. More processes than cores: a schedule spends much of its time waiting on
# the timeouts it races, and another process's schedule runs meanwhile.
set -uo pipefail
bin=$1 schedules=$2 parts=$3
if ! [[ "$schedules" =~ ^[1-9][0-9]*$ && "$parts" =~ ^[1-9][0-9]*$ ]]; then
  echo "simulate: SIMULATION_SCHEDULES and SIMULATION_PARTS must be positive integers" >&2
  exit 2
fi
work=$(mktemp -d -t meters-simulate.XXXXXX)
pids=()
# Interrupted, the parts stop too (background jobs of a script ignore the terminal's SIGINT).
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
share=$(( (schedules + parts - 1) / parts ))
for part in $(seq 1 "$parts"); do
  SIMULATION_SCHEDULES=$share SIMULATION_SUMMARY="$work/$part.json" \
    "$bin/python" -m pytest -q -p no:cacheprovider tests/simulation >"$work/$part.log" 2>&1 &
  pids+=($!)
done
failed=0
for part in $(seq 1 "$parts"); do
  if ! wait "${pids[$((part - 1))]}"; then
    failed=1
    # A violation prints its shrunk schedule; any other failure (a redis-server that would
    # not start, a collection error) prints its own error. Its schedules are not counted.
    echo "simulate: part $part failed (its log follows)"
    cat "$work/$part.log"
  fi
done
"$bin/python" - "$work" "$failed" <<'PY'
import json, sys
from collections import Counter
from pathlib import Path

played, met = 0, Counter()
for summary in sorted(Path(sys.argv[1]).glob("*.json")):
    part = json.loads(summary.read_text())
    played += part["schedules"]
    met.update(part["faults"])
kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(met.items()))
violations = "found (above)" if sys.argv[2] != "0" else "0"
print(f"schedules: {played}, faults injected: {{{kinds}}}, invariant violations: {violations}")
PY
summed=$?
[ "$summed" -ne 0 ] && exit "$summed"
exit "$failed"
