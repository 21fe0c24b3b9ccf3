"""Buffers that hold what the store already bounded are UNCAPPED_BY the table
limit that bounded it, not a second, smaller literal cap: an entry of mugaid
with 6,000 long recipients (1.1 MB of addresses, allowed by
smtp_recipients_max) is listed and shown by `quarantine list/show --json`
(with the old literal 1 MiB cap of one list item, `list --json` failed:
"mugai: quarantine list: list output failed", exit 74)."""
import json
import smtplib
import subprocess
import time

from daemonutil import MUGAI, Daemon, parse


def rcpt(i):
    return f"u{i:04d}-{'x' * 55}@{'a' * 60}.{'b' * 60}.lg.jp"


def test_an_entry_with_a_megabyte_of_recipients_is_listed_and_shown(tmp_path):
    rcpts = [rcpt(i) for i in range(6000)]
    assert sum(len(r) + 1 for r in rcpts) > 1024 * 1024
    d = Daemon(tmp_path, smtp_recipients_max="6000", smtp_timeout="120").start()
    try:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=300) as s:
            assert s.sendmail("sender@example.jp", rcpts,
                              b"From: a@example.jp\r\nTo: b@example.lg.jp\r\nSubject: many\r\n\r\n"
                              b"hello\r\n") == {}
        first = d.delivered(rcpts[0])[0]
        qid = str(parse(first)["X-Mugai-Sanitized"]).split("id=")[1]
    finally:
        assert d.stop() == 0
    r = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "list", "--json"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    items = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [i["id"] for i in items] == [qid]
    r = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "show", qid, "--json"],
                       capture_output=True, timeout=60)
    show = json.loads(r.stdout)
    assert show["id"] == qid and show["report"]["verdict"] == "clean"
    for item in (items[0], show):
        got = item["rcpt"] if isinstance(item["rcpt"], list) else item["rcpt"].split(",")
        assert got == rcpts
