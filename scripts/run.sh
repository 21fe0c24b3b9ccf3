#!/bin/sh
# run.sh BUILD — the main job on embedded defaults: sanitize the sample
# messages shipped in samples/ and say where the results are.
set -eu
build=${1:-build}
out=var/run
mkdir -p "$out"
printf '%-32s %-12s %s\n' "sample" "verdict" "removed"
for f in samples/*.eml; do
	name=$(basename "$f" .eml)
	"$build/mugai" mail sanitize -r "$out/$name.report.json" "$f" "$out/$name.eml"
	/usr/bin/python3 - "$out/$name.report.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
items = ", ".join(f"{i['filename'] or i['content_type']} ({i['reason']})" for i in r["removed"]) or "-"
print(f"{sys.argv[2]:32} {r['verdict']:12} {items}")
PY
done
echo
echo "Rebuilt messages and JSON reports: $out/"
echo "Read one:  /usr/bin/python3 -c \"import email,sys;m=email.message_from_binary_file(open(sys.argv[1],'rb'));print(m.get_payload(decode=True).decode())\" $out/02-html-newsletter.eml"
