"""The console's JSON API (issue 10 item 6): the same sessions, checks,
refusals and audit records as the pages, with JSON in and out."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import MSG_BAD_LOGIN, Console  # noqa: E402

CLERK_ADDR = "tanaka@city.example.lg.jp"


@pytest.fixture
def con(tmp_path):
    c = Console(tmp_path)
    yield c
    c.stop()


class Api:
    def __init__(self, con):
        self.c = con.client()
        self.csrf = None

    def call(self, method, path, obj=None, csrf=True, ctype="application/json"):
        h = {}
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        body = None
        if obj is not None:
            body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            h["Content-Type"] = ctype
        r = self.c.request(method, "/api" + path, body, h)
        assert r.header("Content-Type") == ["application/json; charset=utf-8"], r.body
        return r.status, json.loads(r.body)

    def login(self, acct, **kw):
        f = {"user": acct.name, "password": acct.password, **kw}
        if "otp" not in f:
            f["otp"] = acct.code()
        st, j = self.call("POST", "/login", f)
        if st == 200:
            self.csrf = j["csrf"]
        return st, j


def test_api_login_list_detail_request_approve(con):
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    boss = con.user_add("kacho", "approver", dept="総務課")
    evil = '</script><script>alert(1)</script>"'
    qid = con.put_mail(CLERK_ADDR, subject=evil, removed=[("a.exe", "executable")])
    con.sql("UPDATE quarantine SET received=1767225600 WHERE id=?", qid)
    con.start()
    a = Api(con)
    st, j = a.login(clerk)
    assert st == 200 and len(j["csrf"]) == 43 and "mugai_session" in a.c.cookies
    st, j = a.call("GET", "/quarantine")
    assert st == 200 and j["requests"] == []
    assert j["mail"] == [{"id": qid, "received": 1767225600,
                          "from": "山田 太郎 <taro@example.co.jp>", "subject": evil,
                          "verdict": "sanitized", "verdict_ja": "無害化済み", "status": "held",
                          "status_ja": "保管中", "requested_by": "", "kind": "", "reason": ""}]
    st, j = a.call("GET", f"/quarantine/{qid}")
    assert st == 200 and j["subject"] == evil and j["envelope_from"] == "taro@example.co.jp"
    assert j["removed"] == [{"filename": "a.exe", "reason": "executable",
                             "reason_ja": "実行可能ファイル"}]
    assert j["limits_hit"] == [] and j["report_readable"] is True
    st, j = a.call("POST", f"/quarantine/{qid}/request", {"reason": "必要", "kind": "original"},
                   csrf=False)
    assert st == 403 and j == {"error": "フォームの確認用の値が一致しないため、この操作を受け付けませんでした。"
                                        "画面を開き直してからもう一度操作してください。"}
    st, j = a.call("POST", f"/quarantine/{qid}/request", b"reason=x",
                   ctype="application/x-www-form-urlencoded")
    assert st == 415 and j == {"error": "フォームの形式が正しくありません。"}
    st, j = a.call("POST", f"/quarantine/{qid}/request", b'{"reason":"a","reason":"b"}')
    assert st == 400 and j == {"error": "理由を入力してください。"}
    st, j = a.call("POST", f"/quarantine/{qid}/request", b'{"reason":"x","kind":["original"]}')
    assert st == 400 and j == {"error": "入力が正しくありません。"}
    st, j = a.call("POST", f"/quarantine/{qid}/request", {"reason": "必要", "kind": "original"})
    assert (st, j) == (200, {"ok": True})
    st, j = a.call("POST", f"/quarantine/{qid}/approve", {"comment": "自分で"})
    assert st == 403 and j == {"error": "ご自身の依頼は承認も却下もできません。"}
    b = Api(con)
    assert b.login(boss)[0] == 200
    st, j = b.call("GET", "/quarantine")
    assert [(x["id"], x["requested_by"], x["kind"], x["reason"]) for x in j["requests"]] == [
        (qid, "tanaka", "original", "必要")]
    assert b.call("POST", f"/quarantine/{qid}/approve", {"comment": "確認済み"}) == (
        200, {"ok": True})
    assert con.sql("SELECT status, approved_by, release_to FROM quarantine WHERE id=?", qid) == [
        ("released", "console:kacho", "queue")]
    assert b.call("POST", "/logout", {}) == (200, {"ok": True})
    st, j = b.call("GET", "/quarantine")
    assert st == 401 and j == {"error": "ログインしていないか、セッションが終了しています。"}


def test_api_login_failures_and_clerk_limits(con):
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR)
    other = con.put_mail("suzuki@city.example.lg.jp")
    con.start()
    a = Api(con)
    assert a.login(clerk, password="nope") == (401, {"error": MSG_BAD_LOGIN})
    assert a.login(clerk, otp="") == (401, {"error": MSG_BAD_LOGIN})
    st, j = a.call("POST", "/login", b'{"user":"tanaka"')
    assert (st, j) == (401, {"error": MSG_BAD_LOGIN})
    assert a.login(clerk)[0] == 200
    st, j = a.call("GET", f"/quarantine/{other}")
    assert st == 404 and j == {
        "error": "このメールは表示できません（存在しないか、表示する権限がありません）。"}
    st, j = a.call("GET", "/audit/verify")
    assert st == 403 and j == {"error": "監査記録を見る権限がありません。"}
    assert a.call("GET", "/nothing")[0] == 404


def test_api_audit_verify_for_the_auditor(con):
    aud = con.user_add("kansa", "auditor")
    con.start()
    a = Api(con)
    assert a.login(aud)[0] == 200
    st, j = a.call("GET", "/audit/verify")
    n = con.sql("SELECT count(*) FROM audit")[0][0] - 1
    assert st == 200 and j["result"] == "intact" and j["records"] == n
    assert j["first_broken_seq"] == 0 and len(j["head_hash"]) == 64
