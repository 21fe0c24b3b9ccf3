"""The self-inspection report (自己点検, issue 10): counts for a period of JST
dates from the store, as JSON (/api/report), CSV for Japanese Excel and a
printable page. The store is filled by real runs: mugaid (first with a
clamd that finds a virus, then with another config) sanitizes four mails;
accounts are added with `mugai user`; clerks, an approver and an attacker
use the console. Every count is asserted exactly, and the totals are
cross-checked with SQL of our own over the audit table."""
import csv
import datetime
import email.message
import email.policy
import io
import json
import os
import smtplib
import socket
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Console, text  # noqa: E402
from daemonutil import Daemon  # noqa: E402

CLERK = "tanaka@city.example.lg.jp"
OTHER = "sato@city.example.lg.jp"
JST = datetime.timezone(datetime.timedelta(hours=9))


class FoundClamd:
    """A clamd on a unix socket that finds a virus in every stream."""

    def __init__(self, path):
        self.path = path
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(8)
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            with c:
                buf = b""
                while not buf.endswith(b"\0\0\0\0"):
                    b = c.recv(65536)
                    if not b:
                        break
                    buf += b
                c.sendall(b"stream: Eicar-Test-Signature FOUND\0")

    def close(self):
        self.srv.close()


def mail(subject, body="本文です。\n", attach=None):
    m = email.message.EmailMessage()
    m["From"] = "取引先 <sales@example.jp>"
    m["To"] = CLERK
    m["Subject"] = subject
    m.set_content(body)
    if attach:
        m.add_attachment(attach, maintype="application", subtype="octet-stream",
                         filename="tool.exe")
    return m.as_bytes(policy=email.policy.SMTP)


LONG_LINE = (b"From: sales@example.jp\r\nTo: " + CLERK.encode() + b"\r\nSubject: long line\r\n"
             b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" + b"a" * 1500 + b"\r\n")


def send(d, data):
    with smtplib.SMTP("127.0.0.1", d.port, timeout=120) as s:
        assert s.sendmail("sales@example.jp", [CLERK], data) == {}


def today():
    return datetime.datetime.now(JST).date()


def fill(tmp):
    """The store of the scenario (module docstring); mugaid is stopped before
    the console is used, so nothing else writes while the report counts."""
    (tmp / "c").mkdir()
    state = str(tmp / "c" / "var")                 # the console's state_dir (Console)
    os.makedirs(state, mode=0o700)
    fake = FoundClamd(str(tmp / "clamd.ctl"))
    d = Daemon(tmp / "d", state_dir=state, first_contact_days="0",
               antivirus=f"clamd:{fake.path}", metrics_file=os.path.join(state, "mugaid.prom"))
    try:
        d.start()                                  # config A
        send(d, mail("ウイルス入り"))
        assert d.stop() == 0
        d.cfg.pop("antivirus")
        d.write_config(line_length_max="998")      # config B: a changed config file
        d.start()
        send(d, mail("こんにちは"))
        send(d, mail("請求書", attach=b"MZ\x90\x00 not really a program"))
        send(d, LONG_LINE)                         # over line_length_max: withheld
    finally:
        fake.close()
        assert d.stop() == 0
    # the CLI and the console read their own config file (a third one), and the
    # console's port is taken only now
    con = Console(tmp / "c", console_login_failures_max="2")
    ids = {subj: qid for qid, subj in con.sql("SELECT id, subject FROM quarantine")}
    acct = {n: con.user_add(n, role, *addr, dept=dept) for n, role, addr, dept in [
        ("tanaka", "clerk", [CLERK], "総務課"), ("kacho", "approver", [], "総務課"),
        ("sato", "clerk", [OTHER], "税務課"), ("kansa", "auditor", [], None),
        ("kanri", "admin", [], None), ("mallory", "clerk", [OTHER], None)]}
    con.start()
    c = con.client()
    assert c.login(acct["tanaka"]).status == 303
    assert c.post(f"/mail/{ids['請求書']}/request",
                  {"reason": "取引先の確認", "kind": "original"}).status == 303
    assert c.post(f"/mail/{ids['こんにちは']}/request", {"reason": "念のため"}).status == 303
    assert c.post(f"/mail/{ids['請求書']}/request", {"reason": "x"}, csrf="bad").status == 403
    s = con.client()
    assert s.login(acct["sato"]).status == 303
    assert s.get(f"/mail/{ids['請求書']}").status == 404
    b = con.client()
    assert b.login(acct["kacho"]).status == 303
    assert b.post(f"/mail/{ids['請求書']}/approve", {"comment": "確認済み"}).status == 303
    assert b.post(f"/mail/{ids['こんにちは']}/refuse", {"comment": "不要です"}).status == 303
    m = con.client()
    assert m.login(acct["mallory"], password="wrong").status == 401
    assert m.login(acct["mallory"], password="wrong").status == 401    # locked now
    assert m.login(acct["mallory"]).status == 401                     # refused: locked
    assert con.client().login(acct["tanaka"], code="000000").status == 401
    con.run("user", "reset", "mallory", check=0)
    # a CLI approval of a message nobody asked for: refused, audited (cli.refused)
    con.run("quarantine", "approve", ids["long line"], "--by", "管理者", "--queue", check=65)
    return con, acct, ids


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    con, acct, ids = fill(tmp_path_factory.mktemp("report"))
    yield con, acct, ids
    con.stop()


_clients = {}


def signed_in(con, acct):
    """One login per account (each login takes the next TOTP step)."""
    if acct.name not in _clients:
        c = con.client()
        assert c.login(acct).status == 303
        _clients[acct.name] = c
    return _clients[acct.name]


def audit_counts(con, since):
    """Records per action written at or after since (UTC audit time)."""
    return dict(con.sql("SELECT action, count(*) FROM audit WHERE time >= ? GROUP BY action",
                        since))


def jst_midnight_utc(day):
    t = datetime.datetime(day.year, day.month, day.day, tzinfo=JST)
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


SUMMARY = {"messages": 4, "virus": 1, "release_requests": 2, "releases": 1, "refusals": 1,
           "ppap_paired": 0, "ppap_expired": 0, "logins": 3, "login_failures": 4,
           "lockouts": 1, "permission_refusals": 1, "other_refusals": 2,
           "config_changes": 3, "account_changes": 7}


def test_report_counts_exactly_from_the_store(filled):
    con, acct, ids = filled
    day = today().isoformat()
    c = signed_in(con, acct["kansa"])
    r = c.get(f"/api/report?from={day}&to={day}")
    assert r.status == 200, r.body
    j = json.loads(r.body)
    actions = audit_counts(con, jst_midnight_utc(today()))
    assert actions.pop("report.export") == 1       # this report's own record, written after
    summary = j.pop("summary")
    assert summary.pop("audit_records") == sum(actions.values())
    assert summary == dict(SUMMARY, logins=4)       # the auditor's login is the 4th
    assert j.pop("actions") == actions
    since = int(datetime.datetime(today().year, today().month, today().day,
                                  tzinfo=JST).timestamp())
    assert j == {
        "report": "self-inspection", "from": day, "to": day,
        "since": since, "until": since + 86400,
        "verdicts": {"clean": 1, "quarantined": 2, "sanitized": 1},
        "reasons": {"executable": 1},
        "limits": {"line_length_max": 1},
        "releases": {"queue": 1},
        "audit_verify": {"result": "intact", "records": j["audit_verify"]["records"],
                         "first_broken_seq": 0},
        "truncated": False}
    assert j["audit_verify"]["records"] == con.sql("SELECT count(*) FROM audit")[0][0] - 1
    actor, obj, det = con.audit("report.export")[-1]
    assert (actor, obj) == ("console:kansa", "self-inspection")
    assert json.loads(det) == {"client": "127.0.0.1", "from": day, "to": day,
                               "format": "json", "verify": "intact"}


def test_report_of_another_period_counts_nothing(filled):
    con, acct, _ = filled
    yesterday = (today() - datetime.timedelta(days=1)).isoformat()
    c = signed_in(con, acct["kanri"])               # an admin may see it too
    month_ago = (today() - datetime.timedelta(days=30)).isoformat()
    j = json.loads(c.get(f"/api/report?from={month_ago}&to={yesterday}").body)
    assert j["summary"] == dict({k: 0 for k in SUMMARY}, audit_records=0)
    assert (j["verdicts"], j["reasons"], j["limits"], j["releases"], j["actions"]) == \
        ({}, {}, {}, {}, {})


@pytest.mark.parametrize("query", ["from=2026-02-30&to=2026-03-01", "from=2026-03-02&to=2026-03-01",
                                   "from=2026-3-1&to=2026-03-01", "from=0000-01-01",
                                   "from=2026-03-01T00&to=2026-03-01", "to=2026-03-01%0A"])
def test_a_bad_period_is_refused(filled, query):
    con, acct, _ = filled
    c = signed_in(con, acct["kansa"])
    r = c.get(f"/api/report?{query}")
    assert r.status == 400
    assert json.loads(r.body) == {"error": "期間は開始日と終了日を YYYY-MM-DD の形で、開始日が"
                                           "終了日より前になるように指定してください。"}


LABELS = [("受信したメール（件）", "4"), ("ウイルスを検出したメール（件）", "1"),
          ("受け取りの依頼（件）", "2"), ("受け取りの承認（件）", "1"), ("依頼の却下（件）", "1"),
          ("パスワード付き zip の解凍（件）", "0"), ("パスワード付き zip の期限切れ（件）", "0")]


def test_report_csv_for_excel(filled):
    con, acct, _ = filled
    day = today().isoformat()
    c = signed_in(con, acct["kansa"])
    r = c.request("GET", f"/report/self.csv?from={day}&to={day}")
    assert r.status == 200
    assert r.header("Content-Type") == ["text/csv; charset=utf-8"]
    assert r.header("Content-Disposition") == [
        'attachment; filename="mugai-self-inspection.csv"']
    assert r.body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(r.body[1:], newline="")))
    assert rows[:3] == [["区分", "項目", "値"], ["対象期間", "開始日（日本時間）", day],
                        ["対象期間", "終了日（日本時間）", day]]
    summary = [(k, v) for s, k, v in rows if s == "概要"]
    logins = str(con.sql("SELECT count(*) FROM audit WHERE action='console.login'")[0][0])
    assert summary[:len(LABELS)] == LABELS
    assert summary[len(LABELS):-1] == [
        ("ログイン（回）", logins), ("ログインの失敗（回）", "4"), ("アカウントのロック（回）", "1"),
        ("権限のない操作の拒否（回）", "1"), ("その他の拒否した要求（回）", "2"),
        ("設定の変更（回）", "3"), ("アカウントの変更（回）", "7")]
    assert [r[1:] for r in rows if r[0] == "判定別のメール（件）"] == [
        ["問題なし", "1"], ["隔離", "2"], ["無害化済み", "1"]]
    assert [r[1:] for r in rows if r[0] == "削除した項目（理由別、項目数）"] == [
        ["実行可能ファイル", "1"]]
    assert [r[1:] for r in rows if r[0] == "受け取りの承認（種類別、件）"] == [
        ["原本（依頼者へ配送）", "1"]]
    assert rows[-2][:2] == ["監査記録の検証", "結果"] and rows[-2][2] == "改ざんは検出されませんでした。"
    assert rows[-1][:2] == ["監査記録の検証", "検証した記録"]
    assert json.loads(con.audit("report.export")[-1][2])["format"] == "csv"


def test_report_page_prints_the_counts(filled):
    con, acct, _ = filled
    day = today().isoformat()
    c = signed_in(con, acct["kanri"])
    assert '<a href="/report/self">自己点検報告書</a>' in c.get("/").body
    r = c.get(f"/report/self?from={day}&to={day}")
    assert r.status == 200
    t = text(r.body)
    assert f"対象期間: {day} 〜 {day}（日本時間、両日を含む）" in t
    for label, n in LABELS:
        assert f"{label}{n}" in t
    assert "改ざんは検出されませんでした。（検証した記録 " in t
    assert f'href="/report/self.csv?from={day}&amp;to={day}"' in r.body


def test_a_clerk_cannot_see_the_report(filled):
    con, acct, _ = filled
    c = signed_in(con, acct["tanaka"])
    for path in ("/report/self", "/report/self.csv", "/api/report"):
        r = c.get(path)
        assert r.status == 403, path
        assert "自己点検報告書を見る権限がありません。" in r.body
    refused = [(a, o, json.loads(d)["why"]) for a, o, d in con.audit("console.refused")][-3:]
    assert refused == [("console:tanaka", p, "not permitted")
                       for p in ("/report/self", "/report/self.csv", "/api/report")]
