#!/bin/sh
# fuzz-replay.sh DIR FUZZER... — run each fuzzer once over its seed corpus
# (fuzz/corpus/NAME) and its regression inputs (fuzz/regress/NAME).
set -eu
shift
for f in "$@"; do
	name=$(basename "$f")
	dirs=""
	for d in fuzz/corpus/$name fuzz/regress/$name; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	if [ -z "$dirs" ]; then echo "fuzz-replay: $name has no corpus" >&2; exit 1; fi
	# shellcheck disable=SC2086
	n=$(find $dirs -type f | wc -l)
	# shellcheck disable=SC2086
	# MUGAI_FUZZ_STRICT: fuzz_mail also fails when the output check fired at
	# all (a miss of the writer), not only when a final output fails it
	MUGAI_FUZZ_STRICT=1 ASAN_OPTIONS=detect_leaks=1 "$f" -runs=0 -rss_limit_mb=4096 -timeout=60 $dirs >"${TMPDIR:-/tmp}/replay-$name.log" 2>&1 \
		|| { cat "${TMPDIR:-/tmp}/replay-$name.log" >&2; echo "fuzz-replay: $name FAILED" >&2; exit 1; }
	echo "fuzz-replay: $name: $n inputs ok"
done
