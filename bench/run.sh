#!/bin/sh
# run.sh BUILD — every benchmark, each with its ceiling measured in the same run.
set -eu
build=${1:-build}
corpus=$build/bench/corpus
[ -d "$corpus" ] || /usr/bin/python3 bench/gen_corpus.py "$corpus" 400
echo "== mail sanitizer (one core, engine only; with and without the output check) =="
taskset -c 0 "$build/bench/bench_mail" "$corpus" 5
echo
echo "== quarantine store: durable puts vs raw fsync of the same disk =="
./bench/store.sh "$build"
echo
echo "== file CDR: PDF flatten at 150 dpi vs MuPDF render-only, rebuild, peak RSS =="
./bench/cdr.sh "$build" 100
/usr/bin/python3 bench/cdr_cli.py "$build"
echo
echo "== mugaid session: its own CPU per message and next-hop round trips, PIPELINING vs not =="
/usr/bin/python3 bench/session.py "$build" 400 3
echo
echo "== file CDR: OOXML rebuild vs plain unzip-and-rezip (libzip) of the same files =="
./bench/ooxml.sh "$build" 20
echo
echo "== console: list page with 10,000 stored messages vs the same server's static page =="
/usr/bin/python3 bench/console.py "$build" 10000 5
