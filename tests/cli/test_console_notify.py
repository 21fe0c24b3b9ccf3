"""The approver is notified by mail (issue 10): a clerk's release request
queues one message 【取り出しの依頼】件名 in the store's outbox (the console
sends nothing itself), mugaid's releaser delivers it to the active
approvers of the clerk's department that have an address (else to the
active admins that have one; nobody: nothing, and the request's audit
record says "notified": []), then records outbox.delivered. The sender's
subject and the clerk's reason are hostile text: they reach the approver
through the one writer, and the only live link is the console's own line.
A next-hop refusal keeps the row queued until a later run delivers it."""
import email
import email.policy
import json
import os
import re
import smtplib
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Console, text  # noqa: E402
from daemonutil import Daemon, Sink, parse  # noqa: E402

URL = "https://mugai.city.example.lg.jp"
RCPTS = ["taro@example.lg.jp", "hanako@example.lg.jp"]
ORIGINAL = (b"From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <sender@example.jp>\r\n"
            b"To: taro@example.lg.jp, hanako@example.lg.jp\r\n"
            b"Subject: =?UTF-8?B?6KaL56mN5pu4?=\r\nDate: Tue, 01 Dec 2026 14:05:00 +0900\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nsee the file\r\n")


def wait_for(cond, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def short(qid):
    return f"{qid[-8:-4]}-{qid[-4:]}"


def qid_of(path):
    return str(parse(path)["X-Mugai-Sanitized"]).split("id=")[1].split(";")[0].strip()


def msg_of(path):
    with open(path, "rb") as f:
        return email.message_from_bytes(f.read(), policy=email.policy.default)


class Setup:
    """mugaid (releaser every second) and the console on one state_dir,
    one sanitized mail to taro and hanako; taro is a clerk of 総務課."""

    def __init__(self, tmp_path, original=ORIGINAL, **cfg):
        cfg.setdefault("console_url", URL)
        cfg.setdefault("release_interval", "1")
        self.d = Daemon(tmp_path, **cfg).start()
        self.con = Console(tmp_path, **cfg)
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=30) as s:
            s.sendmail("sender@example.jp", RCPTS, original)
        assert wait_for(lambda: len(self.d.delivered("taro@example.lg.jp")) == 1)
        self.first, = self.d.delivered("taro@example.lg.jp")
        self.qid = qid_of(self.first)
        self.clerk = self.con.user_add("taro", "clerk", "taro@example.lg.jp", dept="総務課")

    def request(self, reason="添付の確認", kind="sanitized"):
        self.con.start()
        c = self.con.client()
        assert c.login(self.clerk).status == 303
        r = c.post(f"/mail/{self.qid}/request", {"reason": reason, "kind": kind})
        assert r.status == 303, r.body
        return c

    def request_details(self):
        (_, _, det), = self.con.audit("quarantine.request")
        return json.loads(det)

    def received_jst(self):
        t, = self.con.sql("SELECT received FROM quarantine WHERE id=?", self.qid)[0]
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t + 9 * 3600))

    def close(self):
        self.con.stop()
        assert self.d.stop() == 0


def test_the_approver_gets_exactly_one_notice(tmp_path):
    u = Setup(tmp_path)
    try:
        kacho = u.con.user_add("kacho", "approver", "Kacho@Example.LG.JP", dept="総務課")
        u.con.user_add("jinji", "approver", "jinji@example.lg.jp", dept="人事課")
        u.con.user_add("kanri", "admin", "kanri@example.lg.jp")
        u.con.user_add("old", "approver", "old@example.lg.jp", dept="総務課")
        u.con.run("user", "disable", "old", check=0)
        u.request()
        assert wait_for(lambda: len(u.d.delivered("kacho@example.lg.jp")) == 1)
        time.sleep(2.5)  # two more releaser runs: nothing else arrives
        path, = u.d.delivered("kacho@example.lg.jp")
        for other in ("jinji@example.lg.jp", "kanri@example.lg.jp", "old@example.lg.jp",
                      "hanako@example.lg.jp"):
            assert len(u.d.delivered(other)) == (1 if other == "hanako@example.lg.jp" else 0), other
        assert u.d.delivered("taro@example.lg.jp") == [u.first], "the clerk gets no notice"
        m = msg_of(path)
        assert str(m["Subject"]) == "【取り出しの依頼】見積書"
        assert str(m["To"]) == "kacho@example.lg.jp"
        assert "postmaster@localhost" in str(m["From"])
        assert f"id={u.qid}" in str(m["X-Mugai-Sanitized"])
        assert m.get_content().splitlines() == [
            "━" * 40,
            "【取り出しの依頼】次のメールの取り出しが依頼されました。承認または却下をお願いします。",
            f"受付番号: {u.qid}（{short(u.qid)}）",
            "依頼者: taro",
            "依頼の種類: 無害化したファイル",
            "依頼の理由: 「添付の確認」",
            "差出人: 「山田 太郎 <sender[@]example[.]jp>」",
            "件名: 「見積書」",
            f"受信日時: {u.received_jst()}（日本時間）",
            "承認・却下は、コンソールの次のページで行ってください。",
            f"取り出しの依頼: {URL}/q/{u.qid}（受付番号 {short(u.qid)}）",
            "━" * 40]
        assert u.request_details() == {"reason": "添付の確認", "kind": "sanitized",
                                       "deliver_to": "taro@example.lg.jp",
                                       "notified": ["kacho@example.lg.jp"]}
        assert wait_for(lambda: len(u.con.audit("outbox.delivered")) == 1)
        (actor, obj, det), = u.con.audit("outbox.delivered")
        assert (actor, obj, json.loads(det)) == (
            "mugaid", u.qid, {"kind": "approver-notice", "to": ["kacho@example.lg.jp"]})
        rows = u.con.sql("SELECT kind, rcpt, queued_by, length(msg), sent_at != '' FROM outbox")
        assert rows == [("approver-notice", "kacho@example.lg.jp", "console:taro", 0, 1)]
        assert u.con.verify()[0] == 0
        # the approver finds the request on the linked page
        b = u.con.client()
        assert b.login(kacho).status == 303
        assert b.get(f"/q/{u.qid}").header("Location") == [f"/mail/{u.qid}"]
    finally:
        u.close()


def test_no_approver_address_goes_to_the_admins_through_the_api(tmp_path):
    u = Setup(tmp_path)
    try:
        u.con.user_add("kacho", "approver", dept="総務課")        # no address
        u.con.user_add("kanri", "admin", "kanri@example.lg.jp", "kanri2@example.lg.jp")
        u.con.user_add("kanri3", "admin", "kanri3@example.lg.jp")
        u.con.user_add("noaddr", "admin")
        u.con.user_add("kansa", "auditor", "kansa@example.lg.jp")
        u.con.start()
        c = u.con.client()
        page = c.get("/login")
        r = c.request("POST", "/api/login", json.dumps(
            {"user": "taro", "password": u.clerk.password, "otp": u.clerk.code()}).encode(),
            {"Content-Type": "application/json"})
        assert r.status == 200, r.body
        csrf = json.loads(r.body)["csrf"]
        r = c.request("POST", f"/api/quarantine/{u.qid}/request",
                      json.dumps({"reason": "原本が必要", "kind": "original"}).encode(),
                      {"Content-Type": "application/json", "X-CSRF-Token": csrf})
        assert (r.status, json.loads(r.body)) == (200, {"ok": True}), (page.status, r.body)
        admins = ["kanri@example.lg.jp", "kanri2@example.lg.jp", "kanri3@example.lg.jp"]
        assert wait_for(lambda: all(len(u.d.delivered(a)) == 1 for a in admins))
        time.sleep(1.5)
        for a in admins:
            path, = u.d.delivered(a)
            m = msg_of(path)
            assert str(m["Subject"]) == "【取り出しの依頼】見積書"
            assert "依頼の種類: 原本" in m.get_content().splitlines()
            assert "依頼の理由: 「原本が必要」" in m.get_content().splitlines()
        assert u.d.delivered("kansa@example.lg.jp") == []
        assert u.request_details()["notified"] == admins
        (_, _, det), = u.con.audit("outbox.delivered")
        assert json.loads(det) == {"kind": "approver-notice", "to": admins}
    finally:
        u.close()


def test_nobody_with_an_address_queues_nothing_and_says_so(tmp_path):
    u = Setup(tmp_path)
    try:
        u.con.user_add("kacho", "approver", dept="総務課")
        u.con.user_add("kanri", "admin")
        u.request()
        assert u.request_details() == {"reason": "添付の確認", "kind": "sanitized",
                                       "deliver_to": "taro@example.lg.jp", "notified": []}
        time.sleep(2.5)
        assert u.con.sql("SELECT count(*) FROM outbox") == [(0,)]
        assert u.con.audit("outbox.delivered") == []
        files = [f for _, _, fs in os.walk(u.d.maildir) for f in fs]
        assert len(files) == 2, "only the two sanitized copies"
    finally:
        u.close()


HOSTILE_SUBJECT = ("取り出しの依頼: https://evil.example.com/q/20261201-000000-deadbeef（受付番号 dead-beef）"
                   " www.evil.example.jp \\\\evil-host\\share //evil.example.net/x ━━━ 【無害化済み】")


def test_red_team_hostile_subject_and_reason(tmp_path):
    """A sender who writes the console's line, a URL, a UNC path and the
    notice's rule into the subject, and a reason with a link: the approver's
    mail carries none of it live; the only link is the real console line,
    once, and the legitimate words survive."""
    import base64
    subj = base64.b64encode(HOSTILE_SUBJECT.encode()).decode()
    raw = ORIGINAL.replace(b"=?UTF-8?B?6KaL56mN5pu4?=", f"=?UTF-8?B?{subj}?=".encode()).replace(
        b"=?UTF-8?B?5bGx55SwIOWkqumDjg==?=", b"\"http://evil.example.org/ \"")
    u = Setup(tmp_path, raw)
    try:
        u.con.user_add("kacho", "approver", "kacho@example.lg.jp", dept="総務課")
        reason = "至急 http://phish.example.com/login を確認\n受付番号: 20261201-000000-deadbeef"
        u.request(reason=reason)
        assert wait_for(lambda: len(u.d.delivered("kacho@example.lg.jp")) == 1)
        path, = u.d.delivered("kacho@example.lg.jp")
        raw_out = open(path, "rb").read()
        m = msg_of(path)
        body = m.get_content()
        subject = str(m["Subject"]).strip()  # GMime folds a long one
        real = f"取り出しの依頼: {URL}/q/{u.qid}（受付番号 {short(u.qid)}）"
        lines = body.splitlines()
        assert lines.count(real) == 1
        assert sum(1 for l in lines if l.startswith("取り出しの依頼:")) == 1
        assert [l for l in lines if l.startswith("受付番号")] == [f"受付番号: {u.qid}（{short(u.qid)}）"]
        for s in (body.replace(real, ""), subject, str(m["From"]), raw_out.decode("utf-8", "replace")
                  .replace(real, "")):
            low = s.lower()
            assert "http:" not in low and "https:" not in low, s
            assert "www." not in low, s
            assert not re.search(r"\\\\evil|//evil\.|[a-z]\.example\.(com|jp|org|net)", s), s
        assert body.count("━" * 40) == 2 and "【無害化済み】" not in body + subject
        # the legitimate words survive, disarmed
        assert subject.startswith("【取り出しの依頼】取り出しの依頼: ")
        assert "dead-beef" in subject and "［無害化済み］" in subject
        reason_line, = [l for l in lines if l.startswith("依頼の理由: ")]
        assert reason_line.startswith("依頼の理由: 「至急 ") and "phish" in reason_line
        assert "受付番号: 20261201-000000-deadbeef" in reason_line  # on the reason's own line
        assert re.search(r"https?:", m.get_content()) .group(0) == "https:"
    finally:
        u.close()


def test_an_output_check_hit_leaves_the_hostile_strings_out(tmp_path, monkeypatch):
    """The test hook makes the output check miss once: the notice is built
    again without the sender's and the clerk's strings and still passes;
    missing twice, nothing is queued and the request is not recorded."""
    u = Setup(tmp_path)
    try:
        u.con.user_add("kacho", "approver", "kacho@example.lg.jp", dept="総務課")
        monkeypatch.setenv("MUGAI_TEST_OUTCHECK", "1")
        u.request()
        assert wait_for(lambda: len(u.d.delivered("kacho@example.lg.jp")) == 1)
        m = msg_of(u.d.delivered("kacho@example.lg.jp")[0])
        assert str(m["Subject"]) == "【取り出しの依頼】"
        lines = m.get_content().splitlines()
        for label in ("依頼の理由", "差出人", "件名"):
            assert f"{label}: （安全に表示できないため省略しました）" in lines
        assert "依頼者: taro" in lines and f"取り出しの依頼: {URL}/q/{u.qid}（受付番号 {short(u.qid)}）" in lines
        assert "添付の確認" not in m.get_content() and "見積書" not in m.get_content()
    finally:
        u.close()


def test_an_output_check_that_misses_twice_records_nothing(tmp_path, monkeypatch):
    u = Setup(tmp_path)
    try:
        u.con.user_add("kacho", "approver", "kacho@example.lg.jp", dept="総務課")
        monkeypatch.setenv("MUGAI_TEST_OUTCHECK", "2")
        u.con.start()
        c = u.con.client()
        assert c.login(u.clerk).status == 303
        r = c.post(f"/mail/{u.qid}/request", {"reason": "添付の確認", "kind": "sanitized"})
        assert r.status == 500 and "記録に失敗しました。" in text(r.body)
        assert u.con.audit("quarantine.request") == []
        assert u.con.sql("SELECT status FROM quarantine WHERE id=?", u.qid) == [("held",)]
        assert u.con.sql("SELECT count(*) FROM outbox") == [(0,)]
    finally:
        u.close()


def test_refused_notice_stays_queued_and_a_later_run_delivers_it(tmp_path):
    sink = Sink()
    u = Setup.__new__(Setup)
    u.d = Daemon(tmp_path, release_interval="1", console_url=URL,
                 next_hop=f"smtp:127.0.0.1:{sink.port}").start()
    u.con = Console(tmp_path, console_url=URL)
    try:
        with smtplib.SMTP("127.0.0.1", u.d.port, timeout=30) as s:
            s.sendmail("sender@example.jp", RCPTS, ORIGINAL)
        assert len(sink.messages) == 1
        raw = sink.messages[0][2]
        u.qid = str(email.message_from_bytes(raw)["X-Mugai-Sanitized"]).split("id=")[1].split(";")[0].strip()
        u.clerk = u.con.user_add("taro", "clerk", "taro@example.lg.jp", dept="総務課")
        u.con.user_add("kacho", "approver", "kacho@example.lg.jp", dept="総務課")
        sink.mode = "refuse-data"
        u.request()
        assert wait_for(lambda: "not delivered, stays queued" in u.d.logtext())
        assert re.search(rf"outbox id={u.qid} row=1 kind=approver-notice not delivered, stays queued: "
                         rf"4\.4\.0 next hop 127\.0\.0\.1:{sink.port} refused the message: "
                         r"452 4\.3\.1 insufficient storage", u.d.logtext())
        assert u.con.sql("SELECT sent_at, length(msg) > 0 FROM outbox") == [("", 1)]
        assert u.con.audit("outbox.delivered") == []
        sink.mode = "accept"
        assert wait_for(lambda: len(sink.messages) == 2)
        sender, rcpts, data = sink.messages[1]
        assert (sender, rcpts) == ("postmaster@localhost", ["kacho@example.lg.jp"])
        assert str(email.message_from_bytes(data, policy=email.policy.default)["Subject"]) == \
            "【取り出しの依頼】見積書"
        assert wait_for(lambda: len(u.con.audit("outbox.delivered")) == 1)
        time.sleep(2.5)
        assert len(sink.messages) == 2, "delivered once"
        assert len(u.con.audit("outbox.delivered")) == 1
    finally:
        u.close()
        sink.close()


def test_schema_v7_migration_from_a_v6_file(tmp_path):
    """A state_dir of schema v6 (no outbox) is brought to v7 by the next
    command that opens it: the outbox appears, the stored rows stay."""
    from storeutil import Store
    s = Store(tmp_path)
    qid = s.put(b"From: a\r\n\r\nbody\r\n", "sanitized", "--rcpt", "taro@example.lg.jp")
    s.sql("DROP TABLE outbox")
    s.sql("PRAGMA user_version=6")
    assert s.sql("SELECT name FROM sqlite_master WHERE name LIKE 'outbox%'") == []
    r = s.run("quarantine", "show", qid, check=0)
    assert qid in r.stdout.decode()
    assert s.sql("PRAGMA user_version") == [(7,)]
    assert sorted(n for n, in s.sql("SELECT name FROM sqlite_master WHERE name LIKE 'outbox%'")) == [
        "outbox", "outbox_pending"]
    assert s.sql("SELECT count(*) FROM outbox") == [(0,)]
    assert s.sql("SELECT id FROM quarantine") == [(qid,)]
    s.sql("PRAGMA user_version=99")
    r = s.run("quarantine", "show", qid)
    assert r.returncode != 0 and b"database schema 99 is newer than this mugai (7)" in r.stderr


def test_one_refused_row_does_not_block_the_others(tmp_path):
    """Two requests, two notices: the first approver's mailbox cannot be
    written (a file where the next hop makes a directory), so that row stays
    queued while the second is delivered; once the mailbox can be written,
    a later run delivers the first."""
    u = Setup(tmp_path, release_interval="0")        # no releaser until both are queued
    try:
        u.con.user_add("kacho", "approver", "blocked@example.lg.jp", dept="総務課")
        hanako = u.con.user_add("hanako", "clerk", "hanako@example.lg.jp", dept="会計課")
        u.con.user_add("kaikei", "approver", "kaikei@example.lg.jp", dept="会計課")
        with smtplib.SMTP("127.0.0.1", u.d.port, timeout=30) as s:
            s.sendmail("sender@example.jp", ["hanako@example.lg.jp"], ORIGINAL)
        assert wait_for(lambda: len(u.d.delivered("hanako@example.lg.jp")) == 2)
        qid2 = qid_of(u.d.delivered("hanako@example.lg.jp")[-1])
        assert qid2 != u.qid
        blocked = os.path.join(u.d.maildir, "blocked@example.lg.jp")
        with open(blocked, "w") as f:
            f.write("not a directory\n")
        u.request()                                       # row 1: to blocked@
        c = u.con.client()
        assert c.login(hanako).status == 303
        assert c.post(f"/mail/{qid2}/request", {"reason": "会計の確認", "kind": "sanitized"}).status == 303
        assert u.con.sql("SELECT seq, id, rcpt FROM outbox ORDER BY seq") == [
            (1, u.qid, "blocked@example.lg.jp"), (2, qid2, "kaikei@example.lg.jp")]
        assert u.d.stop() == 0
        u.d.write_config(release_interval="1")
        u.d.start()
        assert wait_for(lambda: len(u.d.delivered("kaikei@example.lg.jp")) == 1)
        assert wait_for(lambda: f"outbox id={u.qid} row=1 kind=approver-notice not delivered, "
                                "stays queued" in u.d.logtext())
        time.sleep(1.5)
        assert u.con.sql("SELECT seq, sent_at != '' FROM outbox ORDER BY seq") == [(1, 0), (2, 1)]
        assert [o for _, o, _ in u.con.audit("outbox.delivered")] == [qid2]
        os.unlink(blocked)
        assert wait_for(lambda: len(u.d.delivered("blocked@example.lg.jp")) == 1)
        assert wait_for(lambda: len(u.con.audit("outbox.delivered")) == 2)
        assert [o for _, o, _ in u.con.audit("outbox.delivered")] == [qid2, u.qid]
        time.sleep(1.5)
        assert len(u.d.delivered("kaikei@example.lg.jp")) == 1, "delivered once"
    finally:
        u.close()
