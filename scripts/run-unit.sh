#!/bin/sh
# run-unit.sh — run cmocka test binaries; fail if any fails. Prints each
# binary's cmocka summary and a total line.
set -u
pass=0; fail=0
for t in "$@"; do
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t" >&2; fi
done
echo "unit binaries: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
