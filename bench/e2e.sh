#!/bin/sh
# e2e.sh BUILD — `make bench-e2e`: throughput and latency through a private
# Postfix on loopback, bare relay (ceiling) vs mugaid in the path. Root only
# (private Postfix instance). BENCH_MESSAGES sets the messages per run.
set -eu
build=${1:-build}
[ "$(id -u)" -eq 0 ] || { echo "bench-e2e: needs root (private Postfix instance)" >&2; exit 1; }
command -v smtp-source >/dev/null 2>&1 || ./scripts/deps.sh postfix swaks
exec /usr/bin/python3 bench/e2e.py "$build" "${BENCH_MESSAGES:-400}"
