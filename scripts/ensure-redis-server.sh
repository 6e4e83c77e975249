#!/usr/bin/env bash
# The queue tests start throwaway redis-server processes; install the server if this machine lacks it.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "redis-server is missing: install it (Debian: apt-get install redis-server) or set REDIS_URL" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq redis-server >/dev/null
