#!/bin/sh
# store.sh BUILD — quarantine-store benchmark: durable puts/s for 40 KB
# originals vs the raw fsync ceiling of the same disk, in one run.
# The state directory lives under BUILD, i.e. on the disk the build uses.
set -eu
BUILD=${1:-build}
N=${BENCH_STORE_N:-300}
BATCH=${BENCH_STORE_BATCH:-16}
[ -x "$BUILD/bench/bench_store" ] || make --no-print-directory "$BUILD/bench/bench_store"
dir=$(mktemp -d "$BUILD/bench-store.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
"$BUILD/bench/bench_store" "$dir" "$N" "$BATCH"
