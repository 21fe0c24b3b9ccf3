#!/bin/sh
# ooxml.sh BUILD [ROUNDS] — OOXML CDR (positive-selection rebuild) files/s and
# MB/s next to a plain libzip unzip-and-rezip of the same files, same run.
set -eu
build=${1:-build}; rounds=${2:-20}
make --no-print-directory BUILD="$build" "$build/bench/bench_ooxml" >/dev/null
"$build/bench/bench_ooxml" "$rounds"
