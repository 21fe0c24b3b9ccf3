"""Originals approved with `quarantine approve --queue` are delivered by
mugaid: a message of our own (Subject 【承認済・原本】, a banner naming the
approver and the time in JST) carrying the exact original bytes as an
attached message/rfc822 reaches the envelope recipients, once, and the
delivery is in the audit trail."""
import datetime
import email
import email.policy
import json
import os
import smtplib
import sqlite3
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


def approved_jst(d, qid):
    """The store's approval time (UTC, audit format) as the banner shows it."""
    with sqlite3.connect(os.path.join(d.state, "mugai.db")) as con:
        (at,), = con.execute("SELECT approved_at FROM quarantine WHERE id=?", (qid,)).fetchall()
    t = datetime.datetime.strptime(at[:19], "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(hours=9)
    return t.strftime("%Y-%m-%d %H:%M")


def check_wrapped(d, qid, raw, approver, subject, to, original=ORIGINAL):
    """Our wrapper: headers of our own, the banner first, then the original
    byte for byte as message/rfc822."""
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(m["Subject"]) == subject
    assert str(m["From"]) == "postmaster@localhost"
    assert [a.addr_spec for a in m["To"].addresses] == to
    assert m["Message-ID"].endswith(".release@" + m["Message-ID"].split("@")[1])
    assert m["Date"].datetime.utcoffset() == datetime.timedelta(hours=9)
    assert m.get_content_type() == "multipart/mixed"
    banner, att = m.get_payload()
    assert banner.get_content_type() == "text/plain" and banner["Content-Transfer-Encoding"] == "base64"
    assert banner.get_content().splitlines() == [
        f"この原本は 承認者 {approver} が {approved_jst(d, qid)} に取り出しを承認しました。",
        "添付のメールは受信したままの原本で、無害化されていません。"
        "差出人と内容に心当たりがある場合だけ開いてください。",
        f"受付番号: {qid}"]
    assert att.get_content_type() == "message/rfc822"
    assert att.get_filename() == f"original-{qid}.eml"
    # the original, untouched: the raw bytes between the part's header and the close
    body = raw.split(b"Content-Transfer-Encoding: 7bit\r\n\r\n", 1)[1]
    assert body.endswith(b"--\r\n")
    assert body[:body.rindex(b"\r\n--")] + b"\r\n" == original
    return m


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
        # the Maildir writer adds its trace lines (Return-Path, Delivered-To) first
        assert [l.split(b":")[0] for l in released.split(b"\r\n")[:2]] == [b"Return-Path",
                                                                          b"Delivered-To"]
        # the approver as a person: os:root(sudo:admin) is admin
        check_wrapped(d, qid, released, "admin", "【承認済・原本】report", ["taro@example.lg.jp"])
        time.sleep(2.5)                      # later runs must not deliver it again
        assert len(d.delivered("taro@example.lg.jp")) == 2
        audit = subprocess.run([MUGAI, "audit", "-c", d.cf, "export", "--format", "jsonl"],
                               capture_output=True, timeout=30).stdout.decode().splitlines()
        delivered = [json.loads(l) for l in audit if json.loads(l)["action"] == "quarantine.release.delivered"]
        assert [(r["object"], r["actor"], json.loads(r["details"]) if isinstance(r["details"], str)
                 else r["details"]) for r in delivered] == [
            (qid, "mugaid", {"kind": "original", "to": "next_hop"})]
        assert subprocess.run([MUGAI, "audit", "-c", d.cf, "verify"], capture_output=True).returncode == 0
    finally:
        assert d.stop() == 0
