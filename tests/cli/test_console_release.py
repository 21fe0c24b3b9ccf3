"""The console's release through mugaid's releaser (issue 10): a mail to two
people is sanitized by mugaid; one of them, a clerk, requests the original
or the sanitized files in the console, the 課長 of the department approves;
the releaser delivers to the clerk's Maildir only (not to the other
recipient), marked 【承認済・原本】 (our wrapper around the untouched
original) or 【承認済・無害化ファイル】 (rebuilt by the worker with
attachments = sanitize, the approval as the notice's first line), and the
audit trail holds both accounts and verifies."""
import base64
import json
import os
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Console, text  # noqa: E402
from storeutil import OS_ACTOR  # noqa: E402
from daemonutil import MUGAI, Daemon, Sink, parse  # noqa: E402
from test_daemon_release import approved_jst, check_wrapped  # noqa: E402
from test_file_util import assert_pdf_clean, make_zip, parts, simple_pdf  # noqa: E402

ORIGINAL = (b"From: sender@example.jp\r\nTo: taro@example.lg.jp, hanako@example.lg.jp\r\n"
            b"Subject: =?UTF-8?B?6KaL56mN5pu4?=\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
            b"--B\r\nContent-Type: text/plain\r\n\r\nsee the file\r\n"
            b"--B\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=tool.exe\r\n\r\nMZ original bytes\r\n--B--\r\n")
URL = "https://mugai.city.example.lg.jp"
RCPTS = ["taro@example.lg.jp", "hanako@example.lg.jp"]


def wait_files(d, rcpt, n, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(d.delivered(rcpt)) < n:
        time.sleep(0.2)
    return d.delivered(rcpt)


def attach(name, ctype, data):
    q = base64.b64encode(name.encode()).decode()
    return (f"--B\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; filename=\"=?UTF-8?B?{q}?=\"\r\n\r\n"
            + base64.encodebytes(data).decode().replace("\n", "\r\n"))


def with_files():
    pdf = simple_pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    zf = make_zip([("readme.txt", "hello\x07 world\n"), ("tool.exe", b"MZ\x90\x00")])
    body = ("--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n添付をご確認ください。\r\n"
            + attach("見積書.pdf", "application/pdf", pdf) + attach("資料.zip", "application/zip", zf)
            + attach("tool.exe", "application/octet-stream", b"MZ\x90\x00 payload") + "--B--\r\n")
    head = ("From: sender@example.jp\r\nTo: taro@example.lg.jp, hanako@example.lg.jp\r\n"
            "Subject: =?UTF-8?B?6KaL56mN5pu4?=\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=B\r\n\r\n")
    return (head + body).encode()


class Setup:
    """mugaid (attachments removed, as by default) and the console on one
    state_dir; the clerk taro and the 課長 of his department."""

    def __init__(self, tmp_path, original, **cfg):
        self.d = Daemon(tmp_path, release_interval="1", **cfg).start()
        self.con = Console(tmp_path, **cfg)
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=30) as s:
            s.sendmail("sender@example.jp", RCPTS, original)
        self.first, = wait_files(self.d, "taro@example.lg.jp", 1)
        assert len(wait_files(self.d, "hanako@example.lg.jp", 1)) == 1
        self.qid = str(parse(self.first)["X-Mugai-Sanitized"]).split("id=")[1].split(";")[0]
        self.clerk = self.con.user_add("taro", "clerk", "Taro@Example.LG.JP", dept="総務課")
        self.boss = self.con.user_add("kacho", "approver", dept="総務課")
        self.con.start()

    def release(self, kind):
        c = self.con.client()
        assert c.login(self.clerk).status == 303
        assert c.post(f"/mail/{self.qid}/request", {"reason": "添付の確認", "kind": kind}).status == 303
        b = self.con.client()
        assert b.login(self.boss).status == 303
        assert b.post(f"/mail/{self.qid}/approve", {"comment": "確認済み"}).status == 303
        files = wait_files(self.d, "taro@example.lg.jp", 2)
        assert len(files) == 2
        time.sleep(2.5)
        assert len(self.d.delivered("hanako@example.lg.jp")) == 1, "the other recipient gets nothing"
        assert len(self.d.delivered("taro@example.lg.jp")) == 2
        return c, open([f for f in files if f != self.first][0], "rb").read()

    def acts(self):
        return [(a, x) for a, x in self.con.sql(
            "SELECT actor, action FROM audit WHERE object=? AND action NOT IN"
            " ('quarantine.show', 'mail.verdict', 'quarantine.list') ORDER BY seq", self.qid)]

    def close(self):
        self.con.stop()
        assert self.d.stop() == 0


def test_original_goes_to_the_requester_only_wrapped(tmp_path):
    u = Setup(tmp_path, ORIGINAL)
    try:
        c, released = u.release("original")
        check_wrapped(u.d, u.qid, released, "kacho", "【承認済・原本】見積書", ["taro@example.lg.jp"],
                      ORIGINAL)
        assert u.acts() == [("mugaid", "quarantine.put"), ("console:taro", "quarantine.request"),
                            ("console:kacho", "quarantine.approve"),
                            ("console:kacho", "quarantine.release"),
                            ("console:kacho", "console.approve"),
                            ("mugaid", "quarantine.release.delivered")]
        (_, _, det), = u.con.audit("quarantine.release.delivered")
        assert json.loads(det) == {"kind": "original", "to": "next_hop"}
        assert u.con.sql("SELECT release_to FROM quarantine WHERE id=?", u.qid) == [("queue-delivered",)]
        assert "承認され、原本を依頼者のメールボックスに配送しました。" in text(c.get(f"/mail/{u.qid}").body)
        assert u.con.verify()[0] == 0
    finally:
        u.close()


def test_sanitized_files_go_to_the_requester_only(tmp_path):
    u = Setup(tmp_path, with_files(), console_url=URL)
    try:
        first = parse(u.first)
        notice = first.get_content()
        short = f"{u.qid[-8:-4]}-{u.qid[-4:]}"
        # the notice names the console page and the 受付番号; the console takes both
        assert f"取り出しの依頼: {URL}/q/{u.qid}（受付番号 {short}）" in notice.splitlines()
        assert "verdict=sanitized" in str(first["X-Mugai-Sanitized"])
        c = u.con.client()
        assert c.login(u.clerk).status == 303
        for key in (u.qid, short, short.upper().replace("-", "")):
            r = c.get(f"/q/{key}")
            assert (r.status, r.header("Location")) == (303, [f"/mail/{u.qid}"]), key
        assert c.get("/q/0000-0000").status == 404
        assert f"受付番号{u.qid}（{short}）" in text(c.get(f"/mail/{u.qid}").body)

        c, released = u.release("sanitized")
        m = parse_bytes(released)
        assert str(m["Subject"]).strip() == "【承認済・無害化ファイル】見積書"  # GMime folds a long word
        assert f"id={u.qid}" in str(m["X-Mugai-Sanitized"])
        assert "verdict=sanitized" in str(m["X-Mugai-Sanitized"])
        body = next(m.iter_parts()).get_content().splitlines()
        assert body[1].startswith("【無害化済み】")
        assert body[2] == (f"このメールは 承認者 kacho が {approved_jst(u.d, u.qid)} に"
                           "無害化ファイルの取り出しを承認しました。")
        assert f"取り出しの依頼: {URL}/q/{u.qid}（受付番号 {short}）" in body
        assert "添付をご確認ください。" in body
        assert any(l.startswith("  1. 「tool.exe」") for l in body), body   # blocked, listed
        att = {p.get_filename(): p.get_payload(decode=True) for p in m.iter_attachments()}
        assert set(att) == {"見積書.pdf", "資料.zip"}
        assert_pdf_clean(att["見積書.pdf"])
        assert parts(att["資料.zip"]) == {"readme.txt": b"hello world\n"}

        (_, _, det), = u.con.audit("quarantine.release.delivered")
        assert json.loads(det) == {"kind": "sanitized", "verdict": "sanitized"}
        assert u.con.sql("SELECT release_to FROM quarantine WHERE id=?", u.qid) == [
            ("queue-sanitized-delivered",)]
        assert ("承認され、無害化したファイルを依頼者のメールボックスに配送しました。"
                in text(c.get(f"/mail/{u.qid}").body))
        assert u.con.verify()[0] == 0
    finally:
        u.close()


def test_sanitized_release_of_a_withheld_mail_stays_a_notice(tmp_path):
    deep = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(100))
    original = ("From: sender@example.jp\r\nTo: taro@example.lg.jp, hanako@example.lg.jp\r\n"
                "Subject: deep\r\nMIME-Version: 1.0\r\n" + deep + "Content-Type: text/plain\r\n\r\nhi\r\n").encode()
    u = Setup(tmp_path, original)
    try:
        assert "verdict=quarantined" in str(parse(u.first)["X-Mugai-Sanitized"])
        # a limit withheld it: only an administrator approves (README "admin release")
        c = u.con.client()
        assert c.login(u.clerk).status == 303
        assert c.post(f"/mail/{u.qid}/request", {"reason": "確認", "kind": "sanitized"}).status == 303
        r = subprocess.run([MUGAI, "quarantine", "-c", u.d.cf, "approve", u.qid, "--by", "kanri",
                            "--admin", "--queue"], capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        files = wait_files(u.d, "taro@example.lg.jp", 2)
        assert len(files) == 2
        released = open([f for f in files if f != u.first][0], "rb").read()
        m = parse_bytes(released)
        assert str(m["Subject"]).strip() == "【承認済・無害化ファイル】[無害化:隔離] deep"
        assert "verdict=quarantined" in str(m["X-Mugai-Sanitized"])
        lines = m.get_content().splitlines()
        assert lines[1].startswith("【隔離】")
        assert lines[2] == (f"このメールは 承認者 {OS_ACTOR[3:]} が {approved_jst(u.d, u.qid)} に"
                            "無害化ファイルの取り出しを承認しました。")
        (_, _, det), = u.con.audit("quarantine.release.delivered")
        assert json.loads(det) == {"kind": "sanitized", "verdict": "quarantined"}
    finally:
        u.close()


def parse_bytes(raw):
    import email
    import email.policy
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_refused_delivery_stays_queued(tmp_path):
    """The next hop refuses the release: nothing is marked delivered, the
    releaser tries again next run, and only then is it recorded."""
    sink = Sink()
    d = Daemon(tmp_path, release_interval="1", next_hop=f"smtp:127.0.0.1:{sink.port}").start()
    con = Console(tmp_path)
    try:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=30) as s:
            s.sendmail("sender@example.jp", RCPTS, ORIGINAL)
        assert len(sink.messages) == 1
        qid = email_qid(sink.messages[0][2])
        clerk = con.user_add("taro", "clerk", "taro@example.lg.jp", dept="総務課")
        boss = con.user_add("kacho", "approver", dept="総務課")
        con.start()
        sink.mode = "refuse-data"
        c = con.client()
        assert c.login(clerk).status == 303
        assert c.post(f"/mail/{qid}/request", {"reason": "確認", "kind": "sanitized"}).status == 303
        b = con.client()
        assert b.login(boss).status == 303
        assert b.post(f"/mail/{qid}/approve", {"comment": ""}).status == 303
        end = time.monotonic() + 20
        while f"release id={qid} not delivered, stays queued" not in d.logtext() and time.monotonic() < end:
            time.sleep(0.2)
        assert (f"release id={qid} not delivered, stays queued: 4.4.0 next hop 127.0.0.1:{sink.port} "
                "refused the message: 452 4.3.1 insufficient storage") in d.logtext()
        assert con.sql("SELECT release_to FROM quarantine WHERE id=?", qid) == [("queue-sanitized",)]
        assert con.audit("quarantine.release.delivered") == []
        sink.mode = "accept"
        end = time.monotonic() + 20
        while len(sink.messages) < 2 and time.monotonic() < end:
            time.sleep(0.2)
        (sender, rcpts, data), = sink.messages[1:]
        assert rcpts == ["taro@example.lg.jp"]
        assert "【承認済・無害化ファイル】見積書" in str(parse_bytes(data)["Subject"])
        time.sleep(0.5)
        assert con.sql("SELECT release_to FROM quarantine WHERE id=?", qid) == [
            ("queue-sanitized-delivered",)]
        assert len(con.audit("quarantine.release.delivered")) == 1
    finally:
        con.stop()
        assert d.stop() == 0
        sink.close()


def test_a_failing_release_does_not_hold_back_the_next(tmp_path):
    """Two approved releases, the older one refused by the next hop: the
    releaser goes on to the newer one in the same run and delivers it; the
    older one stays queued, is tried again every run, and is delivered once
    the next hop takes it."""
    sink = Sink()
    d = Daemon(tmp_path, release_interval="1", next_hop=f"smtp:127.0.0.1:{sink.port}").start()
    con = Console(tmp_path)
    try:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=30) as s:
            s.sendmail("sender@example.jp", RCPTS, ORIGINAL)
            s.sendmail("sender@example.jp", RCPTS, ORIGINAL.replace(b"see the file", b"second"))
        qids = [email_qid(m[2]) for m in sink.messages]
        assert len(qids) == 2 and qids[0] != qids[1]
        taro = con.user_add("taro", "clerk", "taro@example.lg.jp", dept="総務課")
        hanako = con.user_add("hanako", "clerk", "hanako@example.lg.jp", dept="総務課")
        boss = con.user_add("kacho", "approver", dept="総務課")
        con.start()
        sink.refuse_rcpts = {"taro@example.lg.jp"}
        b = con.client()
        for acct, qid in ((taro, qids[0]), (hanako, qids[1])):
            c = con.client()
            assert c.login(acct).status == 303
            assert c.post(f"/mail/{qid}/request", {"reason": "確認", "kind": "original"}).status == 303
        assert b.login(boss).status == 303
        for qid in qids:  # taro's first: the older approval
            assert b.post(f"/mail/{qid}/approve", {"comment": ""}).status == 303
            time.sleep(1.1)
        end = time.monotonic() + 20
        while len(sink.messages) < 3 and time.monotonic() < end:
            time.sleep(0.2)
        (_, rcpts, data), = sink.messages[2:]
        assert rcpts == ["hanako@example.lg.jp"]
        assert str(parse_bytes(data)["Subject"]) == "【承認済・原本】見積書"
        time.sleep(0.5)
        assert dict(con.sql("SELECT id, release_to FROM quarantine")) == {
            qids[0]: "queue", qids[1]: "queue-delivered"}
        log = d.logtext()
        assert log.count(f"release id={qids[0]} not delivered, stays queued") >= 1
        sink.refuse_rcpts = set()
        end = time.monotonic() + 20
        while len(sink.messages) < 4 and time.monotonic() < end:
            time.sleep(0.2)
        (_, rcpts, _), = sink.messages[3:]
        assert rcpts == ["taro@example.lg.jp"]
        time.sleep(0.5)
        assert dict(con.sql("SELECT id, release_to FROM quarantine")) == {
            qids[0]: "queue-delivered", qids[1]: "queue-delivered"}
        assert [o for _, o, _ in con.audit("quarantine.release.delivered")] == [qids[1], qids[0]]
    finally:
        con.stop()
        assert d.stop() == 0
        sink.close()


def email_qid(raw):
    return str(parse_bytes(raw)["X-Mugai-Sanitized"]).split("id=")[1].split(";")[0].strip()


def test_sanitized_release_of_a_virus_keeps_the_verdict(tmp_path):
    """The antivirus flagged the mail at receipt; an administrator approves a
    request for the sanitized files: the worker gets the virus as a fact and
    withholds the mail unparsed, so the clerk receives the notice naming
    the virus with the approval line, never a rebuilt copy."""
    from test_daemon_av import Fake
    fake = Fake(str(tmp_path / "clamd.ctl"), reply=b"stream: Win.Test.EICAR_HDB-1 FOUND\0")
    u = Setup(tmp_path, ORIGINAL, antivirus=f"clamd:{tmp_path / 'clamd.ctl'}")
    try:
        assert "verdict=quarantined" in str(parse(u.first)["X-Mugai-Sanitized"])
        c = u.con.client()
        assert c.login(u.clerk).status == 303
        assert c.post(f"/mail/{u.qid}/request", {"reason": "確認", "kind": "sanitized"}).status == 303
        r = subprocess.run([MUGAI, "quarantine", "-c", u.d.cf, "approve", u.qid, "--by", "kanri",
                            "--admin", "--queue"], capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        files = wait_files(u.d, "taro@example.lg.jp", 2)
        assert len(files) == 2
        m = parse_bytes(open([f for f in files if f != u.first][0], "rb").read())
        assert str(m["Subject"]).strip() == "【承認済・無害化ファイル】[無害化:隔離] 見積書"
        lines = m.get_content().splitlines()
        assert lines[1].startswith("【隔離】")
        assert lines[2] == (f"このメールは 承認者 {OS_ACTOR[3:]} が {approved_jst(u.d, u.qid)} に"
                            "無害化ファイルの取り出しを承認しました。")
        assert ("注意: ウイルス対策ソフトがウイルス「Win.Test.EICAR_HDB-1」を検出したため、"
                "このメールを隔離しました。原本の取り出しには管理者の承認が必要です。") in lines
        assert not m.is_multipart()              # nothing rebuilt, nothing attached
        (_, _, det), = u.con.audit("quarantine.release.delivered")
        assert json.loads(det) == {"kind": "sanitized", "verdict": "quarantined"}
        time.sleep(1)
        assert len(u.d.delivered("hanako@example.lg.jp")) == 1
    finally:
        u.close()
        fake.close()
