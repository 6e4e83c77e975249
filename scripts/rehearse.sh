#!/usr/bin/env bash
# make rehearse (docs/operations.md "Rehearsed on a real Prometheus"): each incident of
# tests/rehearsal on its own loopback production, all at once (one pytest process each: the
# incidents wait on the rules' windows, not on the CPU); then the table of what paged when.
# REHEARSAL_RULES=DIR evaluates the rule files of DIR instead of config/prometheus;
# REHEARSAL_OUT=DIR keeps each incident's log and figures there.
set -uo pipefail
bin=$1
incidents=(monitex_503 worker_killed redis_down_61s order_core_slow)
work=${REHEARSAL_OUT:-$(mktemp -d -t meters-rehearse.XXXXXX)}
mkdir -p "$work"
pids=()
# Every process of this run carries the mark (they inherit it), so that an interrupted run
# stops them all: pytest killed mid-incident runs no finalizer.
export REHEARSAL_RUN="meters-rehearse-$$"
stop_all() {
  kill "${pids[@]}" 2>/dev/null
  sleep 1
  for environ in /proc/[0-9]*/environ; do
    if grep -qz "^REHEARSAL_RUN=$REHEARSAL_RUN\$" "$environ" 2>/dev/null; then
      pid=${environ#/proc/}
      kill -9 "${pid%/environ}" 2>/dev/null
    fi
  done
  [ -n "${REHEARSAL_OUT:-}" ] || rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT TERM
for incident in "${incidents[@]}"; do
  REHEARSE=1 REHEARSAL_SUMMARY="$work/$incident.json" \
    "$bin/python" -m pytest -q -p no:cacheprovider -o timeout=3000 \
    "tests/rehearsal/test_incidents.py::test_the_incident_pages_soon_and_clears_with_the_recovery[$incident]" \
    >"$work/$incident.log" 2>&1 &
  pids+=($!)
done
failed=0
for index in "${!incidents[@]}"; do
  if ! wait "${pids[$index]}"; then
    failed=1
    echo "rehearse: ${incidents[$index]} failed (its last lines follow)"
    grep -v '^{' "$work/${incidents[$index]}.log" | tail -40
  fi
done
"$bin/python" -m tests.rehearsal.table "$work"/*.json
exit $failed
