"""User management in the console (issue 10: the admin's "user management"):
the account list, adding an account (password and TOTP shown once), disable,
enable, reset (lockout lifted), over the pages and the JSON API; the same
rules as `mugai user` (shared code), audited with the console account and
the client address; CSRF, a clerk refused, an admin who would disable
themselves refused, a hostile department escaped. Also the JSON API's
admin release and 受付番号 lookup."""
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import MSG_BAD_LOGIN, MSG_LOCKED, Account, Console, text  # noqa: E402
from test_console_api import Api  # noqa: E402

CLERK_ADDR = "tanaka@city.example.lg.jp"
NOT_ADMIN = "アカウントを管理する権限がありません。"
BAD_INPUT = "名前（半角の英小文字・数字・「. _ -」）、役割、所属、アドレスのいずれかが正しくありません。"
HOSTILE = '<script>alert(1)</script>"onmouseover="x'
URI_RE = (r"otpauth://totp/mugai:%s\?secret=([A-Z2-7]{32})&issuer=mugai"
          r"&algorithm=SHA1&digits=6&period=30")


@pytest.fixture
def con(tmp_path):
    c = Console(tmp_path, console_login_failures_max=3, console_lockout_time=600)
    yield c
    c.stop()


def details(rows):
    return [(a, o, json.loads(d)) for a, o, d in rows]


def admin_client(con):
    admin = con.user_add("kanri", "admin", dept="情報政策課")
    con.start()
    c = con.client()
    assert c.login(admin).status == 303
    return c


def shown_account(name, body):
    """The account as the answer to the POST shows it, once."""
    pw = re.search(r'<dd id="new-password">([^<]+)</dd>', body).group(1)
    uri = re.search(r'<dd id="otpauth">([^<]+)</dd>', body).group(1).replace("&amp;", "&")
    secret = re.search(r'<dd id="totp-secret">([^<]+)</dd>', body).group(1)
    m = re.fullmatch(URI_RE % name, uri)
    assert m and m.group(1) == secret, uri
    assert re.fullmatch(r"[a-zA-Z2-9]{16}", pw), pw
    return Account(name, pw, uri)


def users_rows(body):
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", body)
    return [[text(c) for c in re.split(r"</td><td>", r)][:5] for r in rows]


def test_admin_adds_a_clerk_who_then_logs_in(con):
    c = admin_client(con)
    page = c.get("/")
    assert '<a href="/users">アカウントの管理</a>' in page.body
    r = c.get("/users")
    assert r.status == 200
    assert users_rows(r.body) == [["kanri", "管理者", "情報政策課", "", "有効"]]
    assert 'id="add-user"' in r.body and '<option value="clerk">担当者</option>' in r.body
    r = c.post("/users", {"name": "tanaka", "role": "clerk", "dept": "総務課",
                          "addrs": "Tanaka@City.Example.LG.JP,\r\n soumu@city.example.lg.jp"})
    assert r.status == 200, r.body
    assert "<h1>アカウントを追加しました</h1>" in r.body
    assert text(r.body).count("アカウント tanaka を追加しました。次のパスワードと確認コードの設定は、"
                              "この画面に一度だけ表示されます。") == 1
    assert r.header("Cache-Control") == ["no-store"]
    assert '<svg id="qr"' in r.body     # the QR code as markup: no image fetch under the CSP
    assert "default-src 'none'" in r.header("Content-Security-Policy")[0]
    clerk = shown_account("tanaka", r.body)
    # the same rules as `mugai user`: addresses lower case, argon2id, audited
    assert con.run("user", "list", check=0).stdout.decode().splitlines()[1] == (
        "tanaka\tclerk\t総務課\ttanaka@city.example.lg.jp,soumu@city.example.lg.jp\tactive")
    (h,), = con.sql("SELECT pwhash FROM account WHERE name='tanaka'")
    assert h.startswith("$argon2id$v=19$")
    (actor, obj, det), = [x for x in details(con.audit("account.add")) if x[1] == "tanaka"]
    assert (actor, det) == ("console:kanri", {
        "role": "clerk", "dept": "総務課", "client": "127.0.0.1",
        "addrs": "tanaka@city.example.lg.jp,soumu@city.example.lg.jp"})
    assert [a for a, _, _ in con.audit("account.list") if a.startswith("console:")] == ["console:kanri"]
    # the list shows the new account in Japanese words
    assert users_rows(c.get("/users").body) == [
        ["kanri", "管理者", "情報政策課", "", "有効"],
        ["tanaka", "担当者", "総務課", "tanaka@city.example.lg.jp, soumu@city.example.lg.jp", "有効"]]
    # the new clerk logs in with what was shown
    t = con.client()
    assert t.login(clerk).status == 303
    assert "<h1>メール一覧</h1>" in t.get("/").body


def test_refusals_of_the_add_form(con):
    c = admin_client(con)
    for fields, status, msg in [
            ({"name": "Tanaka", "role": "clerk"}, 400, BAD_INPUT),
            ({"name": "../root", "role": "clerk"}, 400, BAD_INPUT),
            ({"name": "x", "role": "boss"}, 400, BAD_INPUT),
            ({"name": "x", "role": "clerk", "addrs": "nobody"}, 400, BAD_INPUT),
            ({"name": "x", "role": "clerk", "addrs": 'a"b@x.jp'}, 400, BAD_INPUT),
            ({"role": "clerk"}, 400, BAD_INPUT),
            ({"name": "kanri", "role": "clerk"}, 409, "同じ名前のアカウントがすでにあります。")]:
        r = c.post("/users", fields)
        assert (r.status, msg in text(r.body)) == (status, True), (fields, r.status, r.body)
        assert "new-password" not in r.body
    assert con.sql("SELECT name FROM account ORDER BY name") == [("kanri",)]
    # without the CSRF token: refused, nothing added
    r = c.post("/users", {"name": "x", "role": "clerk"}, csrf=False)
    assert r.status == 403 and "フォームの確認用の値が一致しないため" in text(r.body)
    r = c.post("/users", {"name": "x", "role": "clerk"}, csrf="A" * 43)
    assert r.status == 403
    assert con.sql("SELECT name FROM account ORDER BY name") == [("kanri",)]
    assert [d["why"] for _, _, d in details(con.audit("console.refused"))] == ["csrf", "csrf"]
    r = c.post("/users/nobody/disable", {})
    assert r.status == 404 and "このアカウントはありません。" in text(r.body)


def test_hostile_department_is_escaped(con):
    c = admin_client(con)
    r = c.post("/users", {"name": "evil", "role": "approver", "dept": HOSTILE})
    assert r.status == 200
    body = c.get("/users").body
    assert "<script>" not in body and '"onmouseover' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;x" in body
    assert users_rows(body)[0] == ["evil", "承認者", HOSTILE, "", "有効"]


def test_clerk_and_auditor_are_refused(con):
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR)
    auditor = con.user_add("kansa", "auditor")
    con.start()
    for acct in (clerk, auditor):
        c = con.client()
        assert c.login(acct).status == 303
        assert 'href="/users"' not in c.get("/").body
        r = c.get("/users")
        assert r.status == 403 and NOT_ADMIN in text(r.body)
        r = c.post("/users", {"name": "x", "role": "admin"})
        assert r.status == 403 and NOT_ADMIN in text(r.body)
        r = c.post("/users/tanaka/reset", {})
        assert r.status == 403 and "new-password" not in r.body
    assert con.sql("SELECT count(*) FROM account") == [(2,)]
    assert [(a, o, d["why"]) for a, o, d in details(con.audit("console.refused"))] == [
        ("console:tanaka", "/users", "not permitted"), ("console:tanaka", "/users", "not permitted"),
        ("console:tanaka", "/users/tanaka/reset", "not permitted"),
        ("console:kansa", "/users", "not permitted"), ("console:kansa", "/users", "not permitted"),
        ("console:kansa", "/users/tanaka/reset", "not permitted")]
    assert con.audit("account.reset") == [] and con.audit("account.list") == []


def test_disable_enable_and_reset_lift_the_lockout(con):
    c = admin_client(con)
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR)
    # an admin cannot disable their own account
    r = c.post("/users/kanri/disable", {})
    assert r.status == 403 and "ご自身のアカウントは無効にできません。" in text(r.body)
    assert 'action="/users/kanri/disable"' not in c.get("/users").body
    r = c.post("/users/tanaka/disable", {})
    assert (r.status, r.header("Location")) == (303, ["/users"])
    assert users_rows(c.get("/users").body)[1][4] == "無効"
    r = con.client().login(clerk)
    assert r.status == 401 and MSG_BAD_LOGIN in text(r.body)
    assert c.post("/users/tanaka/enable", {}).status == 303
    # three failures lock it; the list says so; a reset lifts it
    t = con.client()
    for i in range(3):
        t.login(clerk, password=f"guess{i}")
    assert MSG_LOCKED in text(t.login(clerk).body)
    assert users_rows(c.get("/users").body)[1][4] == "ロック中"
    r = c.post("/users/tanaka/reset", {})
    assert r.status == 200 and "<h1>パスワードと確認コードを再発行しました</h1>" in r.body
    assert "アカウント tanaka のパスワードと確認コードを再発行しました（ロックも解除しました）。" in text(r.body)
    new = shown_account("tanaka", r.body)
    assert new.password != clerk.password and new.secret != clerk.secret
    assert users_rows(c.get("/users").body)[1][4] == "有効"
    assert con.client().login(clerk).status == 401   # the old password is gone
    assert con.client().login(new).status == 303
    recs = [(a, x, o, json.loads(d)) for a, x, o, d in con.sql(
        "SELECT actor, action, object, details FROM audit WHERE action LIKE 'account.%'"
        " AND action != 'account.list' AND actor LIKE 'console:%' ORDER BY seq")]
    cl = {"client": "127.0.0.1"}
    assert recs == [("console:kanri", "account.disable", "tanaka", cl),
                    ("console:kanri", "account.enable", "tanaka", cl),
                    ("console:kanri", "account.reset", "tanaka", cl)]
    (a, o, d), = details(con.sql("SELECT actor, object, details FROM audit WHERE "
                                 "action='console.refused'"))
    assert (a, o, d) == ("console:kanri", "kanri", {"client": "127.0.0.1", "why": "own account"})
    assert con.verify()[0] == 0


def test_users_json_api(con):
    admin = con.user_add("kanri", "admin")
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    con.start()
    a = Api(con)
    assert a.login(admin)[0] == 200
    st, j = a.call("GET", "/users")
    assert st == 200 and j == {"users": [
        {"name": "kanri", "role": "admin", "role_ja": "管理者", "dept": "", "addrs": [],
         "status": "active", "status_ja": "有効"},
        {"name": "tanaka", "role": "clerk", "role_ja": "担当者", "dept": "総務課",
         "addrs": [CLERK_ADDR], "status": "active", "status_ja": "有効"}]}
    st, j = a.call("POST", "/users", {"name": "sato", "role": "approver", "dept": "総務課",
                                      "addrs": "Sato@City.Example.LG.JP, kacho@city.example.lg.jp"})
    assert st == 200 and set(j) == {"name", "password", "otpauth", "secret"}
    assert j["name"] == "sato" and re.fullmatch(URI_RE % "sato", j["otpauth"])
    sato = Account("sato", j["password"], j["otpauth"])
    assert con.sql("SELECT addrs FROM account WHERE name='sato'") == [
        ("sato@city.example.lg.jp,kacho@city.example.lg.jp",)]
    assert a.call("POST", "/users", {"name": "sato", "role": "clerk"}) == (
        409, {"error": "同じ名前のアカウントがすでにあります。"})
    assert a.call("POST", "/users", {"name": "S", "role": "clerk"}) == (400, {"error": BAD_INPUT})
    assert a.call("POST", "/users", {"name": "x", "role": "clerk", "addrs": ["a@b.jp"]}) == (
        400, {"error": BAD_INPUT})   # a value that is not a string counts as malformed
    # without the X-CSRF-Token header: refused
    assert a.call("POST", "/users", {"name": "y", "role": "clerk"}, csrf=False)[0] == 403
    assert a.call("POST", "/users/tanaka/disable", {}) == (200, {"ok": True})
    assert a.call("GET", "/users")[1]["users"][2]["status_ja"] == "無効"
    assert a.call("POST", "/users/tanaka/enable", {}) == (200, {"ok": True})
    assert a.call("POST", "/users/kanri/disable", {}) == (
        403, {"error": "ご自身のアカウントは無効にできません。"})
    st, j = a.call("POST", "/users/tanaka/reset", {})
    assert st == 200 and j["name"] == "tanaka" and j["password"] != clerk.password
    b = Api(con)
    assert b.login(sato)[0] == 200
    assert b.call("GET", "/users") == (403, {"error": NOT_ADMIN})
    assert b.call("POST", "/users/tanaka/reset", {}) == (403, {"error": NOT_ADMIN})
    assert b.login(Account("tanaka", j["password"], j["otpauth"]))[0] == 200
    assert [o for _, o, _ in con.audit("account.add")] == ["kanri", "tanaka", "sato"]


def test_api_admin_release_and_lookup(con):
    from test_console_adminrel import put_virus
    acct = {n: con.user_add(n, role, *addr) for n, role, addr in [
        ("tanaka", "clerk", [CLERK_ADDR]), ("suzuki", "clerk", ["suzuki@city.example.lg.jp"]),
        ("admin1", "admin", []), ("admin2", "admin", [])]}
    vid = put_virus(con)
    con.start()
    api = {n: Api(con) for n in acct}
    for n in acct:
        assert api[n].login(acct[n])[0] == 200
    short = f"{vid[-8:-4]}-{vid[-4:]}"
    # 受付番号 lookup: the ids the account may see with that number
    for key in (short, short.upper().replace("-", ""), vid):
        assert api["tanaka"].call("GET", f"/q/{key}") == (200, {"ids": [vid]}), key
    nomail = {"error": "このメールは表示できません（存在しないか、表示する権限がありません）。"}
    assert api["suzuki"].call("GET", f"/q/{short}") == (404, nomail)
    assert api["suzuki"].call("GET", f"/q/{vid}") == (404, nomail)
    assert api["tanaka"].call("GET", "/q/0000-0000") == (404, nomail)
    assert api["tanaka"].call("GET", "/q/zz") == (404, nomail)
    assert api["admin1"].call("GET", f"/q/{short}") == (200, {"ids": [vid]})
    # the admin release through the API: the box, two admins, never the clerk
    assert api["tanaka"].call("POST", f"/quarantine/{vid}/request",
                              {"reason": "確認", "kind": "original"}) == (200, {"ok": True})
    assert api["tanaka"].call("POST", f"/quarantine/{vid}/admin-release", {"understood": "yes"}) == (
        403, {"error": "ウイルスが検出されたか上限を超えたメールの原本は、依頼者以外の管理者 2 名の確認が必要です。"})
    assert api["admin1"].call("POST", f"/quarantine/{vid}/admin-release", {}) == (
        400, {"error": "注意を理解したことを確認してから、もう一度操作してください。"})
    assert api["admin1"].call("POST", f"/quarantine/{vid}/admin-release", {"understood": "yes"},
                              csrf=False)[0] == 403
    assert api["admin1"].call("POST", f"/quarantine/{vid}/admin-release", {"understood": "yes"}) == (
        200, {"ok": True, "released": False})
    assert api["admin1"].call("POST", f"/quarantine/{vid}/admin-release", {"understood": "yes"}) == (
        403, {"error": "依頼者本人や、1 人目と同じ管理者は確認できません。"})
    assert api["admin2"].call("POST", f"/quarantine/{vid}/admin-release", {"understood": "yes"}) == (
        200, {"ok": True, "released": True})
    assert con.sql("SELECT status, approved_by, admin_confirmed_by FROM quarantine WHERE id=?",
                   vid) == [("released", "console:admin2", "console:admin1")]
    assert [(a, x) for a, x in con.sql(
        "SELECT actor, action FROM audit WHERE object=? AND action IN ('quarantine.admin.confirm',"
        " 'quarantine.approve', 'quarantine.release') ORDER BY seq", vid)] == [
        ("console:admin1", "quarantine.admin.confirm"), ("console:admin2", "quarantine.approve"),
        ("console:admin2", "quarantine.release")]
