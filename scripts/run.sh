#!/bin/sh
# run.sh BUILD — `make run`: the main job on embedded defaults.
#   1. sanitize the sample messages in samples/ (a quick look at the engine);
#   2. start mugaid in the foreground, as the invoking user (even root: the
#      workers are sandboxed either way): listen 127.0.0.1:10025, deliver the
#      rebuilt mail to ./var/maildir/<recipient>/new/, quarantine in ./var;
#   3. start the web console beside it on http://127.0.0.1:8025/ (same ./var).
# It prints a swaks command to send a test mail and where to look; the log
# (one line per message) scrolls in this terminal. Ctrl-C stops it cleanly.
set -eu
build=${1:-build}
out=var/run
mkdir -p "$out"
echo "== 1. the sanitizer on the shipped samples =="
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
echo "Rebuilt samples and JSON reports: $out/"
echo
# mugaid runs in the foreground as the invoking user (`user =` empty), so a
# checkout under /root works whether or not the `mugai` user exists (the
# tests create it; it could not reach ./var under /root, mode 0700). An
# installed mugaid (make install) drops to `mugai` instead.
cf=$out/mugaid.cf
cat > "$cf" <<EOF1
# written by scripts/run.sh for make run: embedded defaults, invoking user
user =
state_dir = ./var
next_hop = maildir:./var/maildir
metrics_file = ./var/mugaid.prom
EOF1
cat <<EOF2
== 2. mugaid, the SMTP content filter, on embedded defaults ==
  listen     127.0.0.1:10025
  next_hop   maildir:./var/maildir   (one Maildir per recipient)
  state      ./var                   (quarantine: originals, index, audit trail)

In another terminal, send a test mail:
  swaks --server 127.0.0.1:10025 --from sender@example.jp --to taro@example.lg.jp \\
        --header 'Subject: テスト' --body 'こんにちは https://example.com/' \\
        --attach-type text/html --attach '<p>HTML <script>alert(1)</script></p>'

Then read the result and the quarantine:
  ls var/maildir/taro@example.lg.jp/new/ && cat var/maildir/taro@example.lg.jp/new/*
  $build/mugai quarantine list -c $cf   # originals kept, with their verdicts
  $build/mugai audit verify -c $cf      # the audit chain holds
  cat var/mugaid.prom                     # counters (Prometheus text format)

== 3. the web console (release requests and approvals), same ./var ==
  Create the first accounts (each prints its password and the TOTP for an
  authenticator app, with a QR code in a terminal):
  $build/mugai user add admin1 --role admin -c $cf
  $build/mugai user add taro --role clerk --addr taro@example.lg.jp --dept 総務課 -c $cf
  $build/mugai user add kacho --role approver --dept 総務課 -c $cf
  Then log in at http://127.0.0.1:8025/ (loopback only; docs/ja/console.md).

mugaid runs in the foreground; its log follows. Stop both with Ctrl-C.
EOF2
# The console in the background: it catches SIGINT itself (an asynchronous
# command of sh would otherwise ignore it), so Ctrl-C stops both.
"$build/mugai" console -c "$cf" &
exec "$build/mugaid" -f -c "$cf"
