"""First contact (issue #11 part 4) through mugaid: the session asks its
store process (SEEN) whether the envelope sender sent anything within
first_contact_days before the worker runs; the worker writes the warning.
Exact notice text, header and report field; a store lookup by the real
SQLite index (a row aged with sqlite3 to step out of the window)."""
import email.message
import email.policy
import json
import os
import smtplib
import subprocess

import pytest

from daemonutil import MUGAI, Daemon, parse

RCPT = "b@city.example.lg.jp"
RULE = "━" * 40
FIRST = "注意: 初めてのお相手からのメールです"


@pytest.fixture
def daemon(tmp_path):
    made = []

    def make(**cfg):
        d = Daemon(tmp_path / f"d{len(made)}", **cfg)
        made.append(d)
        return d.start()
    yield make
    for d in made:
        d.stop()


def send(d, sender, subject):
    m = email.message.EmailMessage()
    m["From"] = f"取引先 <{sender or 'mailer-daemon@example.jp'}>"
    m["To"] = RCPT
    m["Subject"] = subject
    m.set_content("本文です。\n")
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        assert s.sendmail(sender, [RCPT], m.as_bytes(policy=email.policy.SMTP)) == {}
    for f in d.delivered(RCPT):
        m = parse(f)
        if str(m["Subject"]) == subject:
            return m
    raise AssertionError(f"{subject} not delivered")


def qid_of(m):
    return str(m["X-Mugai-Sanitized"]).split("id=")[1]


def notice(m, *warnings):
    return "\n".join([RULE, "【無害化済み】このメールは無害化装置 (mugai) がテキスト形式に変換しました。",
                      *warnings, "削除した項目はありません。",
                      f"原本が必要な場合は、次の ID を添えて管理者にお問い合わせください: {qid_of(m)}",
                      RULE, "", "本文です。", ""])


def report(d, qid):
    r = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "show", qid, "--json"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)["report"]
    return json.loads(rep) if isinstance(rep, str) else rep


def text(m):
    return m.get_content().replace("\r\n", "\n")


def test_first_mail_of_a_sender_is_flagged_then_not(daemon):
    d = daemon()
    m = send(d, "sales@example.jp", "one")
    assert text(m) == notice(m, FIRST)
    assert m["X-Mugai-Warning"] == "first-contact"
    assert str(m["X-Mugai-Sanitized"]) == f"verdict=clean; actions=WARN; id={qid_of(m)}"
    assert report(d, qid_of(m))["sender_warnings"] == ["first-contact"]
    for sender, subject in (("sales@example.jp", "two"), ("SALES@Example.JP", "three")):
        m = send(d, sender, subject)
        assert text(m) == notice(m)
        assert m["X-Mugai-Warning"] is None
        assert report(d, qid_of(m))["sender_warnings"] == []
    m = send(d, "other@example.jp", "four")
    assert text(m) == notice(m, FIRST)


def test_outside_the_window_is_a_first_contact_again(daemon):
    d = daemon(first_contact_days="90")
    send(d, "old@example.jp", "then")
    db = os.path.join(d.state, "mugai.db")
    subprocess.run(["sqlite3", db, "UPDATE quarantine SET received = received - 91*86400"],
                   check=True, timeout=30)
    m = send(d, "old@example.jp", "now")
    assert text(m) == notice(m, FIRST)


def test_off_and_null_sender(daemon):
    d = daemon(first_contact_days="0")
    m = send(d, "new@example.jp", "off")
    assert text(m) == notice(m)
    d2 = daemon()
    m = send(d2, "", "bounce")
    assert text(m) == notice(m)
    assert report(d2, qid_of(m))["sender_warnings"] == []
