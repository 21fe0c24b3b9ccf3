#!/bin/sh
# e2e.sh BUILD — `make bench-e2e`: throughput, latency and CPU per message through a private
# Postfix on loopback, bare relay (ceiling) vs mugaid in the path, and mugaid
# as built from BENCH_BEFORE (a git revision, default main; empty: skip) in
# the same run: its tree is exported with git archive into a temp directory
# and only its mugaid (and mugaid-store, if it has one) is built there. Root
# only (private Postfix instance). BENCH_MESSAGES sets the messages per run.
set -eu
build=${1:-build}
[ "$(id -u)" -eq 0 ] || { echo "bench-e2e: needs root (private Postfix instance)" >&2; exit 1; }
command -v smtp-source >/dev/null 2>&1 || ./scripts/deps.sh postfix swaks
before=${BENCH_BEFORE-main}
tmp=""
if [ -n "$before" ] && git rev-parse -q --verify "$before^{commit}" >/dev/null 2>&1; then
	tmp=$(mktemp -d /tmp/mugai-before-XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	chmod 755 "$tmp"
	git archive "$before" | tar -x -C "$tmp"
	targets=build/mugaid
	grep -q 'mugaid-store' "$tmp/Makefile" && targets="$targets build/mugaid-store"
	echo "bench-e2e: building mugaid of $before ($(git rev-parse --short "$before")) in $tmp"
	# shellcheck disable=SC2086
	nice make -s -C "$tmp" -j2 BUILD=build $targets >"$tmp/build.log" 2>&1 ||
		{ cat "$tmp/build.log" >&2; exit 1; }
	export BENCH_BEFORE_BUILD="$tmp/build" BENCH_BEFORE="$before"
elif [ -n "$before" ]; then
	echo "bench-e2e: no revision '$before': measuring this build only" >&2
fi
/usr/bin/python3 bench/e2e.py "$build" "${BENCH_MESSAGES:-400}"
