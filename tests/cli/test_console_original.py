"""An admin downloads a stored original from the console (issue 10): a
warning page first, then a POST that confirms it (CSRF token and the
"understood" box); the bytes are the original's, as an attachment that no
browser renders; both steps audited. Anyone else gets the 404 of a missing
message, audited."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import MSG_BAD_LOGIN, Console, text  # noqa: E402,F401

CLERK = "tanaka@city.example.lg.jp"
ORIGINAL = b"From: x\r\n\r\nbody\r\n"   # what Console.put_mail stores
MSG_NO_MAIL = "このメールは表示できません（存在しないか、表示する権限がありません）。"


def test_admin_downloads_the_original_after_the_warning(tmp_path):
    con = Console(tmp_path)
    admin = con.user_add("kanri", "admin")
    clerk = con.user_add("tanaka", "clerk", CLERK)
    qid = con.put_mail(CLERK, subject='<b>"ウイルス"</b>', verdict="quarantined",
                       limits=["line_length_max"])
    con.start()
    try:
        a = con.client()
        assert a.login(admin).status == 303
        assert f'<a id="original" href="/mail/{qid}/original">' in a.get(f"/mail/{qid}").body
        r = a.get(f"/mail/{qid}/original")
        assert r.status == 200
        t = text(r.body)
        assert t.startswith("原本のダウンロード — mugaimugai 無害化装置 コンソールkanri原本のダウンロード注意: 原本は、届いたときの"
                            "ままのメールです。ウイルスや、開くと動作する内容がそのまま含まれている")
        assert f"受付番号{qid}件名<b>\"ウイルス\"</b>判定隔離大きさ{len(ORIGINAL)} バイト" in t
        assert "&lt;b&gt;&quot;ウイルス&quot;&lt;/b&gt;" in r.body
        # the box must be ticked; the form's token is required (a link cannot download)
        r = a.post(f"/mail/{qid}/original", {})
        assert r.status == 400 and "注意を理解したことを確認してから" in r.body
        r = a.post(f"/mail/{qid}/original", {"understood": "yes"}, csrf="x")
        assert r.status == 403
        r = a.request("POST", f"/mail/{qid}/original",
                      f"csrf={a.csrf}&understood=yes".encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 200
        assert r.header("Content-Type") == ["application/octet-stream"]
        assert r.header("Content-Disposition") == [f'attachment; filename="{qid}.eml"']
        assert r.header("X-Content-Type-Options") == ["nosniff"]
        assert r.body.encode() == ORIGINAL
        # a clerk, even the recipient, cannot: same answer as a missing message
        c = con.client()
        assert c.login(clerk).status == 303
        assert 'id="original"' not in c.get(f"/mail/{qid}").body
        for r in (c.get(f"/mail/{qid}/original"),
                  c.post(f"/mail/{qid}/original", {"understood": "yes"})):
            assert r.status == 404 and MSG_NO_MAIL in r.body
    finally:
        con.stop()
    gets = con.audit("quarantine.get")
    assert [(x, o, json.loads(d)) for x, o, d in gets] == [
        ("console:kanri", qid, {"result": "ok"})]
    assert [(x, o, json.loads(d)) for x, o, d in con.audit("console.original.download")] == [
        ("console:kanri", qid, {"client": "127.0.0.1"})]
    refused = [(x, o, json.loads(d)["why"]) for x, o, d in con.audit("console.refused")]
    assert refused[-2:] == [("console:tanaka", qid, "not permitted")] * 2
    assert con.verify()[0] == 0
