"""The console, first slice (issue 10): accounts (`mugai user`), login with
password and TOTP, sessions, CSRF, lockout, idle timeout, the clerk's list
and detail, release request, approval and refusal — over HTTP on loopback,
asserting the exact Japanese text and the audit records. Written as an
attacker who has read src/console/."""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import urllib.parse
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import MSG_BAD_LOGIN, MSG_LOCKED, Console, text  # noqa: E402

CLERK_ADDR = "tanaka@city.example.lg.jp"


@pytest.fixture
def con(tmp_path):
    c = Console(tmp_path)
    yield c
    c.stop()


def details(rows):
    return [(a, o, json.loads(d)) for a, o, d in rows]


# ---- accounts ----

def test_user_add_prints_password_and_totp_and_is_audited(con):
    r = con.run("user", "add", "tanaka", "--role", "clerk", "--addr", "Tanaka@City.Example.LG.JP",
                "--addr", "soumu@city.example.lg.jp", "--dept", "総務課", check=0)
    out = r.stdout.decode()
    assert re.fullmatch(r"password: [a-zA-Z2-9]{16}\n"
                        r"totp: otpauth://totp/mugai:tanaka\?secret=[A-Z2-7]{32}&issuer=mugai"
                        r"&algorithm=SHA1&digits=6&period=30\n", out), out
    assert con.run("user", "list", check=0).stdout.decode() == (
        "tanaka\tclerk\t総務課\ttanaka@city.example.lg.jp,soumu@city.example.lg.jp\tactive\n")
    (h,), = con.sql("SELECT pwhash FROM account WHERE name='tanaka'")
    assert h.startswith("$argon2id$v=19$")
    assert out.split()[1] not in open(os.path.join(con.state, "mugai.db"), "rb").read().decode(
        "latin-1"), "the password itself is never stored"
    (actor, obj, det), = details(con.audit("account.add"))
    assert actor.startswith("os:") and obj == "tanaka"
    assert det == {"role": "clerk", "dept": "総務課",
                   "addrs": "tanaka@city.example.lg.jp,soumu@city.example.lg.jp"}


def test_user_disable_enable_reset_and_refusals(con):
    a = con.user_add("sato", "approver", dept="総務課")
    assert con.run("user", "disable", "sato", check=0).stdout == b"sato: disabled\n"
    assert con.run("user", "enable", "sato", check=0).stdout == b"sato: enabled\n"
    out = con.run("user", "reset", "sato", check=0).stdout.decode()
    assert out.startswith("password: ") and a.password not in out
    assert [x for x, in con.sql("SELECT action FROM audit WHERE object='sato' ORDER BY seq")] == [
        "account.add", "account.disable", "account.enable", "account.reset"]
    r = con.run("user", "add", "sato", "--role", "clerk")
    assert r.returncode == 65 and r.stderr == b"mugai: user add: account sato exists\n"
    r = con.run("user", "add", "x", "--role", "boss")
    assert r.returncode == 64
    assert r.stderr == b"mugai: user add: bad role, department or address list\n"
    r = con.run("user", "add", "../root", "--role", "clerk")
    assert r.returncode == 64 and b"bad account name" in r.stderr
    r = con.run("user", "disable", "nobody")
    assert r.returncode == 65 and r.stderr == b"mugai: user disable: no account nobody\n"
    assert con.run("user", "add", "y").returncode == 64  # --role is required


def test_console_refuses_a_non_loopback_address_without_tls(tmp_path):
    con = Console(tmp_path, console_listen="0.0.0.0:8025")
    r = con.run("console", timeout=10)
    assert r.returncode == 78
    assert r.stderr == (b"mugai console: console_listen 0.0.0.0:8025 is not a loopback address: "
                        b"without console_tls_cert and console_tls_key the console speaks plain "
                        b"HTTP, so it listens on 127.0.0.0/8 only\n")
    r = Console(tmp_path, console_listen="localhost").run("console", timeout=10)
    assert r.returncode == 78 and b"console_listen is IPV4:PORT, not 'localhost'" in r.stderr
    r = Console(tmp_path, console_tls_cert="/nonexistent.pem").run("console", timeout=10)
    assert r.returncode == 78
    assert r.stderr == b"mugai console: console_tls_cert and console_tls_key go together\n"
    r = Console(tmp_path, console_tls_cert="/nonexistent.pem",
                console_tls_key="/nonexistent.key").run("console", timeout=10)
    assert r.returncode == 78
    assert r.stderr == (b"mugai console: console_tls_cert /nonexistent.pem: "
                        b"No such file or directory\n")


def test_https_with_secure_cookies(tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=127.0.0.1", "-days", "2", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    con = Console(tmp_path, console_tls_cert=cert, console_tls_key=key)
    try:
        a = con.user_add("tanaka", "clerk", CLERK_ADDR)
        con.start()
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        h = http.client.HTTPSConnection("127.0.0.1", con.port, context=ctx, timeout=10)
        h.request("GET", "/login")
        r = h.getresponse()
        body = r.read().decode()
        assert r.status == 200 and "<h1>ログイン</h1>" in body
        ck = r.getheader("Set-Cookie")
        assert ck.endswith("; Path=/login; HttpOnly; SameSite=Strict; Secure"), ck
        assert r.getheader("Strict-Transport-Security") == "max-age=31536000"
        token = ck.split(";")[0]
        csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
        h.request("POST", "/login", urllib.parse.urlencode(
            {"csrf": csrf, "user": "tanaka", "password": a.password, "otp": a.code()}),
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": token})
        r = h.getresponse()
        r.read()
        assert r.status == 303
        assert [c for c in r.headers.get_all("Set-Cookie") if c.startswith("mugai_session=")][
            0].endswith("; Path=/; HttpOnly; SameSite=Strict; Secure")
        h.close()
        # plain HTTP on the HTTPS port gets no page
        with socket.create_connection(("127.0.0.1", con.port), timeout=10) as sk:
            sk.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"<h1>" not in sk.recv(4096)
        assert details(con.audit("console.start"))[0][2] == {
            "listen": f"127.0.0.1:{con.port}", "tls": True}
    finally:
        con.stop()


# ---- login ----

def test_login_page_headers_and_cookie_flags(con):
    con.start()
    r = con.client().get("/login")
    assert r.status == 200
    assert r.header("Content-Security-Policy") == [
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"]
    assert r.header("X-Frame-Options") == ["DENY"]
    assert r.header("X-Content-Type-Options") == ["nosniff"]
    assert r.header("Cache-Control") == ["no-store"]
    (ck,) = r.header("Set-Cookie")
    assert re.fullmatch(r"mugai_login=[A-Za-z0-9_-]{43}; Path=/login; HttpOnly; SameSite=Strict",
                        ck)
    assert "<script" not in r.body and "<h1>ログイン</h1>" in r.body


def test_login_with_password_and_totp(con):
    a = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    con.start()
    c = con.client()
    r = c.login(a)
    assert r.status == 303 and r.header("Location") == ["/"]
    ck = [x for x in r.header("Set-Cookie") if x.startswith("mugai_session=")]
    assert re.fullmatch(r"mugai_session=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict",
                        ck[0])
    home = c.get("/")
    assert home.status == 200 and "<h1>メール一覧</h1>" in home.body
    assert "表示するメールはありません。" in home.body
    (actor, obj, det), = details(con.audit("console.login"))
    assert (actor, obj, det) == ("console:tanaka", "tanaka", {"client": "127.0.0.1"})


def test_wrong_password_missing_and_replayed_totp_are_refused(con):
    a = con.user_add("tanaka", "clerk", CLERK_ADDR)
    con.start()
    c = con.client()
    r = c.login(a, password="wrong-password")
    assert r.status == 401 and text(r.body).count(MSG_BAD_LOGIN) == 1
    r = c.login(a, code="")
    assert r.status == 401 and MSG_BAD_LOGIN in text(r.body)
    good = a.code()
    assert c.login(a, code=good).status == 303
    r = con.client().login(a, code=good)  # the same code again: a replay
    assert r.status == 401 and MSG_BAD_LOGIN in text(r.body)
    r = con.client().login(type(a)("nobody", "x", a.uri))
    assert r.status == 401 and MSG_BAD_LOGIN in text(r.body)
    assert [d["why"] for _, _, d in details(con.audit("console.login.failed"))] == [
        "password", "totp missing", "totp", "unknown account"]
    assert c.get("/").status == 200  # the good login holds


def test_failures_lock_the_account(tmp_path):
    con = Console(tmp_path, console_login_failures_max=3, console_lockout_time=600)
    try:
        a = con.user_add("tanaka", "clerk", CLERK_ADDR)
        con.start()
        c = con.client()
        for i in range(2):
            r = c.login(a, password=f"guess{i}")
            assert r.status == 401 and MSG_BAD_LOGIN in text(r.body)
        r = c.login(a, password="guess2")
        assert r.status == 401 and MSG_LOCKED in text(r.body)
        r = c.login(a)  # the right password and code: still locked
        assert r.status == 401 and MSG_LOCKED in text(r.body)
        assert len(con.audit("console.login.failed")) == 3
        assert details(con.audit("console.lockout")) == [
            ("console:tanaka", "tanaka", {"client": "127.0.0.1", "why": "password"})]
        assert details(con.audit("console.login.refused")) == [
            ("console:tanaka", "tanaka", {"client": "127.0.0.1", "why": "locked"})]
        assert con.audit("console.login") == []
        # an administrator's reset lifts the lock
        out = con.run("user", "reset", "tanaka", check=0).stdout.decode()
        b = type(a)("tanaka", out.split()[1], out.split()[3])
        assert con.client().login(b).status == 303
    finally:
        con.stop()


def test_disabled_account_cannot_log_in_and_ends_its_session(con):
    a = con.user_add("tanaka", "clerk", CLERK_ADDR)
    con.start()
    c = con.client()
    assert c.login(a).status == 303
    con.run("user", "disable", "tanaka", check=0)
    r = c.get("/")
    assert r.status == 303 and r.header("Location") == ["/login"]
    r = con.client().login(a)
    assert r.status == 401 and MSG_BAD_LOGIN in text(r.body)
    assert details(con.audit("console.login.refused"))[0][2]["why"] == "disabled"


def test_idle_session_expires(tmp_path):
    con = Console(tmp_path, console_idle_timeout=1)
    try:
        a = con.user_add("tanaka", "clerk", CLERK_ADDR)
        con.start()
        c = con.client()
        assert c.login(a).status == 303
        time.sleep(2.2)
        r = c.get("/")
        assert r.status == 401
        assert ("一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"
                in text(r.body))
        assert details(con.audit("console.session.expired")) == [
            ("console:tanaka", "tanaka", {"client": "127.0.0.1"})]
        assert c.get("/").status == 303  # the session is gone
    finally:
        con.stop()


def test_logout_ends_the_session(con):
    a = con.user_add("tanaka", "clerk", CLERK_ADDR)
    con.start()
    c = con.client()
    assert c.login(a).status == 303
    sid = c.cookies["mugai_session"]
    r = c.post("/logout", {})
    assert r.status == 303 and r.header("Location") == ["/login"]
    c.cookies["mugai_session"] = sid  # replaying the old cookie
    assert c.get("/").status == 303
    assert len(con.audit("console.logout")) == 1


# ---- CSRF and request limits ----

def test_post_without_or_with_a_wrong_csrf_token_is_refused(con):
    a = con.user_add("tanaka", "clerk", CLERK_ADDR)
    qid = con.put_mail(CLERK_ADDR)
    con.start()
    c = con.client()
    assert c.login(a).status == 303
    want = ("フォームの確認用の値が一致しないため、この操作を受け付けませんでした。"
            "画面を開き直してからもう一度操作してください。")
    for token in (None, "A" * 43, c.csrf + "x"):
        r = c.post(f"/mail/{qid}/request", {"reason": "必要です", "kind": "original"},
                   csrf=token or False)
        assert r.status == 403 and want in text(r.body)
    assert con.sql("SELECT status FROM quarantine WHERE id=?", qid) == [("held",)]
    assert [d["why"] for _, _, d in details(con.audit("console.refused"))] == ["csrf"] * 3
    # a login form posted without its own cookie (login CSRF) is refused too
    r = con.client().post("/login", {"user": "tanaka", "password": a.password,
                                     "otp": a.code()}, csrf="B" * 43)
    assert r.status == 403
    assert "画面の有効期限が切れました。もう一度ログインしてください。" in text(r.body)


def test_oversized_request_is_refused(tmp_path):
    con = Console(tmp_path, console_request_max=1024)
    try:
        con.start()
        r = con.client().request("POST", "/login", b"user=" + b"a" * 5000,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 413
        assert "送信された内容が大きすぎるため、受け付けませんでした。" in text(r.body)
        # chunked, without a Content-Length: read up to the cap, then refused too
        with socket.create_connection(("127.0.0.1", con.port), timeout=10) as sk:
            sk.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
            for _ in range(10):
                sk.sendall(b"400\r\n" + b"a" * 1024 + b"\r\n")
            sk.sendall(b"0\r\n\r\n")
            assert sk.recv(100).startswith(b"HTTP/1.1 413 ")
        assert details(con.audit("console.refused")) == [
            ("console", "/login", {"client": "127.0.0.1", "why": "request too large"})] * 2
    finally:
        con.stop()


def test_post_without_a_session_is_refused(con):
    qid = con.put_mail(CLERK_ADDR)
    con.start()
    r = con.client().post(f"/mail/{qid}/request", {"reason": "x"}, csrf="C" * 43)
    assert r.status == 403
    assert "ログインしていないか、セッションが終了しています。" in text(r.body)
    assert con.client().get(f"/mail/{qid}").header("Location") == ["/login"]


# ---- the clerk ----

def test_clerk_sees_only_own_mail_with_jst_times(con):
    a = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    mine = con.put_mail("Tanaka@City.Example.LG.JP", subject="見積書の送付",
                        removed=[("見積書.exe", "executable")])
    other = con.put_mail("suzuki@city.example.lg.jp", subject="他人宛て")
    con.sql("UPDATE quarantine SET received=1767225600 WHERE id=?", mine)  # 2026-01-01 00:00Z
    con.start()
    c = con.client()
    assert c.login(a).status == 303
    home = text(c.get("/").body)
    assert "2026-01-01 09:00山田 太郎 <taro@example.co.jp>見積書の送付無害化済み保管中" in home
    assert "他人宛て" not in home
    d = c.get(f"/mail/{mine}")
    assert d.status == 200
    t = text(d.body)
    assert f"受付番号{mine}" in t
    assert "受信日時2026-01-01 09:00（日本時間）" in t
    assert "送信元（エンベロープ）taro@example.co.jp" in t
    assert "削除した項目見積書.exe — 実行可能ファイル" in t
    assert "隔離の理由上限を超えた項目はありません。" in t
    # another clerk's message, by changing the id: the same answer as a missing one
    want = "このメールは表示できません（存在しないか、表示する権限がありません）。"
    r = c.get(f"/mail/{other}")
    assert r.status == 404 and want in text(r.body)
    r = c.get("/mail/20260101-000000-00000000")
    assert r.status == 404 and want in text(r.body)
    r = c.post(f"/mail/{other}/request", {"reason": "見せて", "kind": "original"})
    assert r.status == 404 and want in text(r.body)
    assert con.sql("SELECT status FROM quarantine WHERE id=?", other) == [("held",)]
    assert [(o, d["why"]) for _, o, d in details(con.audit("console.refused"))] == [
        (other, "not permitted"), ("20260101-000000-00000000", "no such message"),
        (other, "not permitted")]
    assert c.get("/mail/..%2f..%2fetc%2fpasswd").status == 404


def test_withheld_message_shows_its_reasons_in_japanese(con):
    a = con.user_add("tanaka", "clerk", CLERK_ADDR)
    qid = con.put_mail(CLERK_ADDR, verdict="quarantined",
                       limits=["mime_depth_max", "worker-crash", "some_future_limit"])
    con.sql("UPDATE quarantine SET report='{\"removed\":[' WHERE id=?",
            bad := con.put_mail(CLERK_ADDR, subject="壊れた記録"))
    con.start()
    c = con.client()
    assert c.login(a).status == 303
    t = text(c.get(f"/mail/{qid}").body)
    assert "判定隔離" in t and "削除した項目削除した項目はありません。" in t
    assert ("隔離の理由メールの入れ子が深すぎます変換の処理が異常終了しました"
            "大きさや数が上限を超えました") in t
    t = text(c.get(f"/mail/{bad}").body)
    assert "削除した項目処理結果を読み取れませんでした。" in t


def test_hostile_subject_and_file_name_are_escaped(con):
    a = con.user_add("tanaka", "clerk", CLERK_ADDR)
    evil = '<script>alert(1)</script>"onmouseover="alert(2)\'<img src=x onerror=alert(3)>'
    qid = con.put_mail(CLERK_ADDR, subject=evil, sender="a@example.com",
                       removed=[('"><svg onload=alert(4)>.exe', "executable")])
    con.start()
    c = con.client()
    assert c.login(a).status == 303
    for body in (c.get("/").body, c.get(f"/mail/{qid}").body):
        assert "<script" not in body and "<img" not in body and "<svg" not in body
        assert '"onmouseover' not in body and "'<" not in body
        assert ("&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;alert(2)&#39;"
                "&lt;img src=x onerror=alert(3)&gt;") in body
    assert "&quot;&gt;&lt;svg onload=alert(4)&gt;.exe — 実行可能ファイル" in c.get(
        f"/mail/{qid}").body


# ---- request, approval, refusal ----

def request(c, qid, reason="取引先からの見積書が必要です", kind=None):
    f = {"reason": reason}
    if kind:
        f["kind"] = kind
    return c.post(f"/mail/{qid}/request", f)


def test_request_sanitized_then_approver_of_the_department_approves(con):
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    boss = con.user_add("kacho", "approver", dept="総務課")
    other = con.user_add("kacho2", "approver", dept="税務課")
    qid = con.put_mail(CLERK_ADDR, subject="見積書の送付")
    con.start()
    c = con.client()
    assert c.login(clerk).status == 303
    assert "無害化したファイル（通常はこちら）" in text(c.get(f"/mail/{qid}").body)
    r = request(c, qid)
    assert r.status == 303
    assert con.sql("SELECT status, requested_by, request_reason, release_kind FROM quarantine"
                   " WHERE id=?", qid) == [("release-requested", "console:tanaka",
                                            "取引先からの見積書が必要です", "sanitized")]
    assert "受け取りの依頼は承認待ちです。" in text(c.get(f"/mail/{qid}").body)
    # an approver of another department sees nothing and may not decide
    o = con.client()
    assert o.login(other).status == 303
    assert "承認待ちの依頼はありません。" in text(o.get("/").body)
    r = o.post(f"/mail/{qid}/approve", {"comment": "ok"})
    assert r.status == 404
    # the clerk may not approve (not an approver, and it is their own request)
    r = c.post(f"/mail/{qid}/approve", {"comment": "自分で"})
    assert r.status == 403 and "ご自身の依頼は承認も却下もできません。" in text(r.body)
    b = con.client()
    assert b.login(boss).status == 303
    home = text(b.get("/").body)
    assert f"{qid}" in home and "tanaka見積書の送付無害化したファイル取引先からの見積書が必要です" in home
    r = b.post(f"/mail/{qid}/approve", {"comment": "確認しました"})
    assert r.status == 303
    assert con.sql("SELECT status, approved_by, release_to FROM quarantine WHERE id=?", qid) == [
        ("released", "console:kacho", "queue-sanitized")]
    assert details(con.audit("console.approve")) == [
        ("console:kacho", qid, {"client": "127.0.0.1", "comment": "確認しました"})]
    acts = [x for x, in con.sql("SELECT actor || ' ' || action FROM audit WHERE object=? AND"
                                " action LIKE 'quarantine.%' AND action != 'quarantine.show'"
                                " ORDER BY seq", qid)]
    assert acts == ["os:root quarantine.put" if os.getuid() == 0 else acts[0],
                    "console:tanaka quarantine.request",
                    "console:tanaka quarantine.approve.refused",
                    "console:kacho quarantine.approve", "console:kacho quarantine.release"]
    (_, _, det), = details(con.audit("quarantine.request"))
    assert det == {"reason": "取引先からの見積書が必要です", "kind": "sanitized",
                   "deliver_to": CLERK_ADDR, "notified": []}  # nobody has an address
    assert "承認されました。無害化したファイルを依頼者に配送します。" in text(c.get(f"/mail/{qid}").body)


def test_original_request_is_queued_for_the_releaser(con):
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    boss = con.user_add("kacho", "approver", dept="総務課")
    qid = con.put_mail(CLERK_ADDR)
    con.start()
    c = con.client()
    assert c.login(clerk).status == 303
    assert request(c, qid, kind="original").status == 303
    b = con.client()
    assert b.login(boss).status == 303
    assert b.post(f"/mail/{qid}/approve", {"comment": ""}).status == 303
    assert con.sql("SELECT release_kind, release_to FROM quarantine WHERE id=?", qid) == [
        ("original", "queue")]
    assert "承認されました。原本を依頼者に配送します。" in text(c.get(f"/mail/{qid}").body)


def test_approver_cannot_approve_own_request(con):
    boss = con.user_add("kacho", "approver", "kacho@city.example.lg.jp", dept="総務課")
    qid = con.put_mail("kacho@city.example.lg.jp")
    con.start()
    b = con.client()
    assert b.login(boss).status == 303
    assert request(b, qid, kind="original").status == 303
    assert "承認する" not in b.get(f"/mail/{qid}").body
    r = b.post(f"/mail/{qid}/approve", {"comment": "急ぎ"})
    assert r.status == 403 and "ご自身の依頼は承認も却下もできません。" in text(r.body)
    assert con.sql("SELECT status FROM quarantine WHERE id=?", qid) == [("release-requested",)]
    assert details(con.audit("quarantine.approve.refused")) == [
        ("console:kacho", qid, {"client": "127.0.0.1", "why": "own request"})]


def test_refusal_with_comment_is_shown_to_the_clerk(con):
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    boss = con.user_add("kacho", "approver", dept="総務課")
    qid = con.put_mail(CLERK_ADDR)
    con.start()
    c = con.client()
    assert c.login(clerk).status == 303
    assert request(c, qid, kind="original").status == 303
    b = con.client()
    assert b.login(boss).status == 303
    r = b.post(f"/mail/{qid}/refuse", {"comment": ""})
    assert r.status == 400 and "却下の理由をコメントに入力してください。" in text(r.body)
    assert b.post(f"/mail/{qid}/refuse", {"comment": "<b>原本は不要</b>"}).status == 303
    assert con.sql("SELECT status, refused_by FROM quarantine WHERE id=?", qid) == [
        ("held", "console:kacho")]
    body = c.get(f"/mail/{qid}").body
    assert "前回の依頼は却下されました（kacho）: <b>" not in body
    assert "前回の依頼は却下されました（kacho）: &lt;b&gt;原本は不要&lt;/b&gt;" in body
    assert details(con.audit("quarantine.refuse")) == [
        ("console:kacho", qid, {"client": "127.0.0.1", "comment": "<b>原本は不要</b>"})]
    r = b.post(f"/mail/{qid}/approve", {"comment": ""})
    assert r.status == 409 and "承認待ちの依頼ではありません。" in text(r.body)


def test_request_needs_a_reason_and_a_known_kind(con):
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR)
    qid = con.put_mail(CLERK_ADDR)
    con.start()
    c = con.client()
    assert c.login(clerk).status == 303
    r = request(c, qid, reason="")
    assert r.status == 400 and "理由を入力してください。" in text(r.body)
    r = request(c, qid, kind="everything")
    assert r.status == 400 and "入力が正しくありません。" in text(r.body)
    r = c.request("POST", f"/mail/{qid}/request",
                  f"csrf={c.csrf}&reason=%ff%fe".encode(),
                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400
    assert con.sql("SELECT status FROM quarantine WHERE id=?", qid) == [("held",)]


# ---- the auditor ----

def test_auditor_sees_the_chain_verified_and_a_tampered_record(con):
    aud = con.user_add("kansa", "auditor")
    con.put_mail(CLERK_ADDR, subject="<b>監査対象</b>")
    con.start()
    c = con.client()
    assert c.login(aud).status == 303
    r = c.get("/")
    t = text(r.body)
    # the chain as it was when the page's own audit.verify was appended
    n = con.sql("SELECT max(seq) FROM audit WHERE action='audit.verify'")[0][0] - 1
    assert f"改ざんは検出されませんでした。（検証した記録 {n} 件）" in t
    assert "隔離・無害化したメール" not in t and "<b>監査対象</b>" not in r.body
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>",
                      r.body)
    # Client.login opened the home page once already
    assert [x[2:] for x in rows if x[3] != "quarantine.list"][:3] == [
        ("console:kansa", "audit.verify")] * 2 + [("console:kansa", "console.login")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0][1])
    assert [int(x[0]) for x in rows] == sorted((int(x[0]) for x in rows), reverse=True)
    con.sql("UPDATE audit SET details='{\"verdict\":\"clean\"}' WHERE action='quarantine.put'")
    seq = con.sql("SELECT seq FROM audit WHERE action='quarantine.put'")[0][0]
    t = text(c.get("/").body)
    assert f"記録の内容が書き換えられています。（検証した記録 " in t
    assert f"最初の異常 seq {seq}）" in t
    assert [(a, d["why"]) for a, _, d in details(con.audit("audit.verify"))] == [
        ("console:kansa", "intact"), ("console:kansa", "intact"), ("console:kansa", "changed")]


def test_auditor_release_report_and_csv_for_excel(con):
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    boss = con.user_add("kacho", "approver", dept="総務課")
    aud = con.user_add("kansa", "auditor")
    q1 = con.put_mail(CLERK_ADDR, subject="=HYPERLINK(\"http://x\")")
    q2 = con.put_mail(CLERK_ADDR, subject="見積書")
    con.put_mail(CLERK_ADDR, subject="依頼なし")
    con.sql("UPDATE quarantine SET received=1767225600")
    con.start()
    c = con.client()
    assert c.login(clerk).status == 303
    assert request(c, q1, reason="確認のため\n2行目", kind="original").status == 303
    assert request(c, q2, reason="-1+1", kind="sanitized").status == 303
    b = con.client()
    assert b.login(boss).status == 303
    assert b.post(f"/mail/{q2}/approve", {"comment": ""}).status == 303
    a = con.client()
    assert a.login(aud).status == 303
    t = text(a.get("/").body)
    assert "受け取りの依頼と承認（リリース報告）" in t and "依頼なし" not in t
    assert (f"{q1}2026-01-01 09:00山田 太郎 <taro@example.co.jp>=HYPERLINK(\"http://x\")tanaka"
            "確認のため 2行目原本") in t
    r = a.get("/report.csv")
    assert r.status == 200 and r.header("Content-Type") == ["text/csv; charset=utf-8"]
    assert r.header("Content-Disposition") == ['attachment; filename="mugai-release-report.csv"']
    assert r.body.startswith("\ufeff\"受付番号\",\"受信日時\",\"差出人\",\"件名\",\"依頼者\","
                             "\"依頼の理由\",\"依頼の種類\",\"依頼日時\",\"承認者\",\"承認日時\","
                             "\"配送\"\r\n")
    lines = r.body[1:].split("\r\n")
    assert lines[1].startswith(f"\"{q1}\",\"2026-01-01 09:00\",\"山田 太郎 <taro@example.co.jp>\","
                               "\"'=HYPERLINK(\"\"http://x\"\")\",\"tanaka\",\"確認のため 2行目\","
                               "\"原本\",\"20")
    assert lines[1].endswith("\",\"\",\"\",\"承認待ち\"")
    assert lines[2].startswith(f"\"{q2}\",")
    assert "\"'-1+1\",\"無害化したファイル\"" in lines[2]
    assert lines[2].endswith("\",\"無害化ファイルの配送待ち\"")
    assert lines[3:] == [""]
    assert details(con.audit("report.export")) == [
        ("console:kansa", "releases", {"client": "127.0.0.1", "rows": 2})]
    r = c.get("/report.csv")
    assert r.status == 403 and "リリース報告を見る権限がありません。" in text(r.body)


def test_lookup_by_short_number_is_scoped_to_the_account(con):
    """/q/受付番号 (read over the phone): only the account's own mail is
    searched; a number shared by two of them gives a list; another clerk
    gets the 404 of a missing message, audited."""
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    other = con.user_add("sato", "clerk", "sato@city.example.lg.jp", dept="総務課")
    a = con.put_mail(CLERK_ADDR, subject="一通目")
    b = con.put_mail(CLERK_ADDR, subject="二通目")
    short = f"{a[-8:-4]}-{a[-4:]}"
    c = con.client()
    con.start()
    assert c.login(clerk).status == 303
    r = c.get(f"/q/{short}")
    assert (r.status, r.header("Location")) == (303, [f"/mail/{a}"])
    assert c.get("/q/not-a-number").status == 404
    o = con.client()
    assert o.login(other).status == 303
    r = o.get(f"/q/{short}")
    assert r.status == 404
    assert "このメールは表示できません（存在しないか、表示する権限がありません）。" in text(r.body)
    assert ("console:sato", short, {"client": "127.0.0.1", "why": "no such message"}) in [
        (x, y, json.loads(z)) for x, y, z in con.audit("console.refused")]
    # two messages whose ids end alike (made so by hand; the admin sees every
    # message, without the recipient index): a list to choose from
    admin = con.user_add("kanri", "admin")
    twin = "20200101-000000-" + a[-8:]
    con.sql("UPDATE quarantine SET id=? WHERE id=?", twin, b)
    c = con.client()
    assert c.login(admin).status == 303
    r = c.get(f"/q/{short.upper()}")
    assert r.status == 200
    t = text(r.body)
    assert "この受付番号のメールが複数あります。" in t and "一通目" in t and "二通目" in t
