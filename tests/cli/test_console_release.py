"""The console's release through mugaid's releaser (issue 10): a mail to two
people is sanitized by mugaid; one of them, a clerk, requests the original
in the console, the 課長 of the department approves; the releaser delivers
the original to the clerk's Maildir only (not to the other recipient), and
the audit trail holds both accounts and verifies."""
import os
import smtplib
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Console  # noqa: E402
from daemonutil import Daemon, parse  # noqa: E402

ORIGINAL = (b"From: sender@example.jp\r\nTo: taro@example.lg.jp, hanako@example.lg.jp\r\n"
            b"Subject: =?UTF-8?B?6KaL56mN5pu4?=\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
            b"--B\r\nContent-Type: text/plain\r\n\r\nsee the file\r\n"
            b"--B\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=tool.exe\r\n\r\nMZ original bytes\r\n--B--\r\n")


def wait_files(d, rcpt, n, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(d.delivered(rcpt)) < n:
        time.sleep(0.2)
    return d.delivered(rcpt)


def test_release_goes_to_the_requester_only(tmp_path):
    d = Daemon(tmp_path, release_interval="1").start()
    con = Console(tmp_path)
    try:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=30) as s:
            s.sendmail("sender@example.jp", ["taro@example.lg.jp", "hanako@example.lg.jp"],
                       ORIGINAL)
        first, = wait_files(d, "taro@example.lg.jp", 1)
        assert len(wait_files(d, "hanako@example.lg.jp", 1)) == 1
        qid = str(parse(first)["X-Mugai-Sanitized"]).split("id=")[1]
        clerk = con.user_add("taro", "clerk", "Taro@Example.LG.JP", dept="総務課")
        boss = con.user_add("kacho", "approver", dept="総務課")
        con.start()
        c = con.client()
        assert c.login(clerk).status == 303
        assert "見積書" in c.get("/").body
        assert c.post(f"/mail/{qid}/request", {"reason": "実行ファイルの確認",
                                               "kind": "original"}).status == 303
        b = con.client()
        assert b.login(boss).status == 303
        assert b.post(f"/mail/{qid}/approve", {"comment": "確認済み"}).status == 303
        files = wait_files(d, "taro@example.lg.jp", 2)
        assert len(files) == 2
        released = open([f for f in files if f != first][0], "rb").read()
        assert released.endswith(
            f"X-Mugai-Released: id={qid}; approved-by=console:kacho\r\n".encode() + ORIGINAL)
        time.sleep(2.5)
        assert len(d.delivered("hanako@example.lg.jp")) == 1, "the other recipient gets nothing"
        assert len(d.delivered("taro@example.lg.jp")) == 2
        acts = [(a, x) for a, x in con.sql(
            "SELECT actor, action FROM audit WHERE object=? AND action NOT IN"
            " ('quarantine.show', 'mail.verdict') ORDER BY seq", qid)]
        assert acts == [("mugaid", "quarantine.put"), ("console:taro", "quarantine.request"),
                        ("console:kacho", "quarantine.approve"),
                        ("console:kacho", "quarantine.release"),
                        ("console:kacho", "console.approve"),
                        ("mugaid", "quarantine.release.delivered")]
        assert con.verify()[0] == 0
    finally:
        con.stop()
        assert d.stop() == 0
