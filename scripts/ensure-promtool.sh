#!/usr/bin/env bash
# tests/operations/ check the Prometheus rules and the dashboard's queries with promtool; install
# it if this machine lacks it (Debian ships it in the `prometheus` package).
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "promtool is missing: install it (Debian: apt-get install prometheus)" >&2
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
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
