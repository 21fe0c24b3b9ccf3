"""The admin release of a dangerous original (issue 10): a release request
for a message withheld for a limit or with a virus is never approved by an
approver; two different admins, neither the requester, confirm it after a
warning; the same admin twice is refused; a refusal clears the first
confirmation. Every step audited; the store enforces the two admins."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Console, text  # noqa: E402

CLERK = "tanaka@city.example.lg.jp"
TWO = ("ウイルスが検出されたか上限を超えたメールの原本は、依頼者以外の管理者 2 名の確認が必要です。")
WARN = ("注意: このメールは、ウイルスが検出されたか、安全に確認できる上限を超えたため隔離されています。"
        "原本には危険な内容がそのまま含まれている可能性があります。受け渡しには、依頼者以外の管理者 2 名の"
        "確認が必要です。")


def put_virus(con):
    rp = os.path.join(con.dir, "virus.json")
    with open(rp, "w") as f:
        json.dump({"verdict": "quarantined", "removed": [], "limits_hit": [],
                   "antivirus": "virus", "virus": "Eicar-Test-Signature"}, f,
                  separators=(",", ":"))   # as the engine writes it
    return con.put(b"From: x\r\n\r\nX5O\r\n", "quarantined", "--rcpt", CLERK, "--report", rp,
                   "--subject", "請求書")


def test_two_admins_release_a_dangerous_original(tmp_path):
    con = Console(tmp_path)
    acct = {n: con.user_add(n, role, *addr, dept="総務課") for n, role, addr in [
        ("tanaka", "clerk", [CLERK]), ("kacho", "approver", []), ("admin1", "admin", []),
        ("admin2", "admin", [])]}
    qid = con.put_mail(CLERK, subject="長い行", verdict="quarantined", limits=["line_length_max"])
    vid = put_virus(con)
    con.start()
    try:
        c = {n: con.client() for n in acct}
        for n in acct:
            assert c[n].login(acct[n]).status == 303
        for i in (qid, vid):
            assert c["tanaka"].post(f"/mail/{i}/request", {"reason": "取引先の確認",
                                                           "kind": "original"}).status == 303
        # the approver cannot approve it, and is told why
        page = c["kacho"].get(f"/mail/{qid}").body
        assert WARN in text(page) and "管理者の確認を待っています。" in page
        assert 'action="/mail/%s/approve"' % qid not in page and "却下する" in page
        for i in (qid, vid):
            r = c["kacho"].post(f"/mail/{i}/approve", {"comment": "確認済み"})
            assert r.status == 403 and TWO in r.body
        # the first admin, after the warning
        page = c["admin1"].get(f"/mail/{qid}").body
        assert WARN in text(page) and "1 人目として確認する" in page
        r = c["admin1"].post(f"/mail/{qid}/admin-release", {})
        assert r.status == 400 and "注意を理解したことを確認してから" in r.body
        assert c["admin1"].post(f"/mail/{qid}/admin-release",
                                {"understood": "yes"}).status == 303
        assert con.sql("SELECT status, admin_confirmed_by FROM quarantine WHERE id=?", qid) == [
            ("release-requested", "console:admin1")]
        r = c["admin1"].post(f"/mail/{qid}/admin-release", {"understood": "yes"})
        assert r.status == 403 and "依頼者本人や、1 人目と同じ管理者は確認できません。" in r.body
        assert "ほかの管理者の確認を待っています。" in c["admin1"].get(f"/mail/{qid}").body
        # a clerk cannot confirm
        r = c["tanaka"].post(f"/mail/{qid}/admin-release", {"understood": "yes"})
        assert r.status == 403 and TWO in r.body
        # the second admin releases it
        page = c["admin2"].get(f"/mail/{qid}").body
        assert "1 人目の確認: admin1" in page and "2 人目として確認し、原本を受け渡す" in page
        assert c["admin2"].post(f"/mail/{qid}/admin-release",
                                {"understood": "yes"}).status == 303
        assert con.sql("SELECT status, approved_by, release_to FROM quarantine WHERE id=?",
                       qid) == [("released", "console:admin2", "queue")]
        # a refusal clears the first confirmation of the virus message
        assert c["admin1"].post(f"/mail/{vid}/admin-release",
                                {"understood": "yes"}).status == 303
        assert c["kacho"].post(f"/mail/{vid}/refuse", {"comment": "不要"}).status == 303
        assert con.sql("SELECT status, admin_confirmed_by FROM quarantine WHERE id=?", vid) == [
            ("held", "")]
    finally:
        con.stop()
    recs = [(a, x, json.loads(d)) for a, x, d in con.sql(
        "SELECT actor, action, details FROM audit WHERE object=? AND action NOT IN"
        " ('quarantine.show', 'quarantine.put') ORDER BY seq", qid)]
    assert [(a, x) for a, x, _ in recs] == [
        ("console:tanaka", "quarantine.request"), ("console:kacho", "console.refused"),
        ("console:admin1", "quarantine.admin.confirm"),
        ("console:admin1", "quarantine.approve.refused"),
        ("console:tanaka", "console.refused"),
        ("console:admin2", "quarantine.approve"), ("console:admin2", "quarantine.release")]
    assert recs[1][2] == {"client": "127.0.0.1", "why": "admin release"}
    assert recs[3][2] == {"refused": "admin release: a second, different admin must confirm"}
    assert recs[4][2] == {"client": "127.0.0.1", "why": "not permitted"}
    assert recs[5][2] == {"requested_by": "console:tanaka", "admin": True,
                          "confirmed_by": "console:admin1"}
    assert con.verify()[0] == 0
