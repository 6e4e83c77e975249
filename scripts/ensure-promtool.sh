#!/usr/bin/env bash
# tests/operations/ check the Prometheus rules and the dashboard's queries with promtool, and
# `make rehearse` runs a real Prometheus and the runbooks' jq filters: install what this machine
# lacks (Debian ships promtool and Prometheus in the `prometheus` package, jq in `jq`).
set -euo pipefail
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: install them (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Only the tool is wanted: the package's Prometheus server must not start here, on hosts where
# a service manager would start it.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
