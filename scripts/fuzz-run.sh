#!/bin/sh
# fuzz-run.sh DIR SECONDS [NAME] — fuzz each target (or NAME) for SECONDS,
# growing a scratch corpus under fuzz/work/NAME (not committed). Crashes are
# left as crash-* files in fuzz/work/NAME/artifacts.
set -eu
dir=$1; secs=$2; only=${3:-}
for f in "$dir"/fuzz_*; do
	name=$(basename "$f")
	[ -z "$only" ] || [ "$only" = "$name" ] || continue
	mkdir -p "fuzz/work/$name/corpus" "fuzz/work/$name/artifacts"
	echo "fuzz: $name for ${secs}s"
	"$f" -max_total_time="$secs" -rss_limit_mb=4096 -timeout=30 \
		-artifact_prefix="fuzz/work/$name/artifacts/" \
		"fuzz/work/$name/corpus" "fuzz/corpus/$name" 2>&1 | tail -n 3
done
