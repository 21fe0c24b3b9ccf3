"""Originals approved with `quarantine approve --queue` are delivered by
mugaid: the exact original bytes (after an X-Mugai-Released line) reach the
envelope recipients, once, and the delivery is in the audit trail."""
import json
import smtplib
import subprocess
import time

from daemonutil import MUGAI, Daemon, parse
from storeutil import as_person

ORIGINAL = (b"From: sender@example.jp\r\nTo: taro@example.lg.jp\r\nSubject: report\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
            b"--B\r\nContent-Type: text/plain\r\n\r\nsee the file\r\n"
            b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=r.pdf\r\n"
            b"\r\n%PDF-1.4 original bytes\r\n--B--\r\n")


def cli(d, *args, env=None):
    return subprocess.run([MUGAI, "quarantine", "-c", d.cf, *args], capture_output=True,
                          timeout=30, env=env)


def wait_files(d, rcpt, n, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        files = d.delivered(rcpt)
        if len(files) >= n:
            return files
        time.sleep(0.2)
    return d.delivered(rcpt)


def test_queued_release_is_delivered_once(tmp_path):
    taro, _ = as_person("taro")
    admin, admin_actor = as_person("admin")
    d = Daemon(tmp_path, release_interval="1").start()
    try:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=30) as s:
            s.sendmail("sender@example.jp", ["taro@example.lg.jp"], ORIGINAL)
        first, = wait_files(d, "taro@example.lg.jp", 1)
        qid = str(parse(first)["X-Mugai-Sanitized"]).split("id=")[1]
        assert [i["filename"] for i in json.loads(cli(d, "show", qid, "--json").stdout)["report"]["removed"]] == ["r.pdf"]
        assert cli(d, "request", qid, "--reason", "need the pdf", env=taro).returncode == 0
        assert cli(d, "approve", qid, "--queue", env=taro).returncode == 65   # self-approval
        assert cli(d, "approve", qid, "--queue", env=admin).returncode == 0
        files = wait_files(d, "taro@example.lg.jp", 2)
        assert len(files) == 2
        released = open([f for f in files if f != first][0], "rb").read()
        head = f"X-Mugai-Released: id={qid}; approved-by={admin_actor}\r\n".encode()
        # the Maildir writer adds its trace lines (Return-Path, Delivered-To) first
        assert released.endswith(head + ORIGINAL)
        trace = released[:-len(head + ORIGINAL)].split(b"\r\n")[:-1]
        assert [l.split(b":")[0] for l in trace] == [b"Return-Path", b"Delivered-To"], trace
        time.sleep(2.5)                      # later runs must not deliver it again
        assert len(d.delivered("taro@example.lg.jp")) == 2
        audit = subprocess.run([MUGAI, "audit", "-c", d.cf, "export", "--format", "jsonl"],
                               capture_output=True, timeout=30).stdout.decode().splitlines()
        delivered = [json.loads(l) for l in audit if json.loads(l)["action"] == "quarantine.release.delivered"]
        assert [(r["object"], r["actor"]) for r in delivered] == [(qid, "mugaid")]
        assert subprocess.run([MUGAI, "audit", "-c", d.cf, "verify"], capture_output=True).returncode == 0
    finally:
        assert d.stop() == 0
