#!/bin/sh
# cdr.sh BUILD [PAGES] — file CDR benchmark: flatten pages/s at 150 dpi on
# generated text and image pages, MuPDF render-only for the same pages (the
# ceiling), rebuild MB/s, peak RSS. Targets: >= 20 pages/s on one core,
# flatten within 2x of render-only (issue #12), peak RSS flat in the page count
# (each size flattened in a fresh process: 25, PAGES, 250, 4 x PAGES pages).
set -eu
build=${1:-build}; pages=${2:-100}
make --no-print-directory BUILD="$build" "$build/bench/bench_cdr" >/dev/null
"$build/bench/bench_cdr" "$pages"
