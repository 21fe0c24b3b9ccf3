"""The admin's search (issue 10): by parts of the sender, a recipient, the
subject and a file name of the report, by JST dates and verdict, a page at a
time; audited as quarantine.list with the filter; every value escaped by the
page writer. A clerk cannot search, and query arguments do not widen the
clerk's own list."""
import json
import os
import re
import sys
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Console  # noqa: E402

CLERK = "tanaka@city.example.lg.jp"
OTHER = "sato@city.example.lg.jp"
EVIL = '<script>alert(1)</script>"onmouseover="x 見積書'
MSG_BAD = "検索条件が正しくありません。"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    con = Console(tmp_path_factory.mktemp("search"), console_search_page="2")
    q = {}
    q["evil"] = con.put_mail(CLERK, subject=EVIL, removed=[("請求書.PDF.exe", "executable")])
    q["meeting"] = con.put_mail(CLERK, subject="会議の案内", sender="hanako@example.jp",
                                removed=[("agenda.docm", "blocked")])
    q["resend"] = con.put_mail(OTHER, subject="見積書の再送")
    q["news"] = con.put_mail(OTHER, subject="お知らせ", sender="news@example.org",
                             verdict="quarantined", limits=["line_length_max"])
    # received: 2026-04-01 10:00 JST, then one day later each
    for i, k in enumerate(["evil", "meeting", "resend", "news"]):
        con.sql("UPDATE quarantine SET received=? WHERE id=?", 1775005200 + 86400 * i, q[k])
    acct = {"admin": con.user_add("kanri", "admin"),
            "clerk": con.user_add("tanaka", "clerk", CLERK, dept="総務課")}
    con.start()
    c = con.client()       # one login: each login takes the next TOTP step
    assert c.login(acct["admin"]).status == 303
    acct["admin_client"] = c
    yield con, q, acct
    con.stop()


def admin(store):
    return store[2]["admin_client"]


def api_ids(c, query):
    r = c.get("/api/search?" + urllib.parse.urlencode(query))
    assert r.status == 200, r.body
    j = json.loads(r.body)
    return [row["id"] for row in j["rows"]], j["next"]


@pytest.mark.parametrize("query,want", [
    ({"subject": "見積書"}, ["resend", "evil"]),
    ({"sender": "TARO@Example"}, ["resend", "evil"]),
    ({"rcpt": "SATO"}, ["news", "resend"]),
    ({"file": ".exe"}, ["evil"]),
    ({"file": "AGENDA"}, ["meeting"]),
    ({"verdict": "quarantined"}, ["news"]),
    ({"from": "2026-04-02", "to": "2026-04-03"}, ["resend", "meeting"]),
    ({"to": "2026-04-01"}, ["evil"]),
    ({"subject": "見積書", "rcpt": "tanaka"}, ["evil"]),
    ({"file": "nothing"}, []),
])
def test_search_finds_exactly(store, query, want):
    con, q, _ = store
    assert api_ids(admin(store), query) == ([q[k] for k in want], False)


def test_search_pages_and_audits_the_filter(store):
    con, q, _ = store
    c = admin(store)
    assert api_ids(c, {}) == ([q["news"], q["resend"]], True)
    assert api_ids(c, {"page": "2"}) == ([q["meeting"], q["evil"]], False)
    assert api_ids(c, {"page": "3"}) == ([], False)
    assert api_ids(c, {"subject": "見積書", "page": "2"}) == ([], False)
    lists = [(a, json.loads(d)) for a, o, d in con.audit("quarantine.list")]
    assert lists[-1] == ("console:kanri", {"subject_part": "見積書", "offset": 2})
    assert lists[-3] == ("console:kanri", {"offset": 2})


def test_search_page_escapes_the_senders_text(store):
    con, q, _ = store
    c = admin(store)
    r = c.get("/search?" + urllib.parse.urlencode({"subject": 'script>"'}))
    assert r.status == 200
    assert "<script>" not in r.body and 'onmouseover="' not in r.body
    assert ('<a href="/mail/%s">&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;x '
            '見積書</a>' % q["evil"]) in r.body
    assert 'name="subject" value="script&gt;&quot;"' in r.body
    cells = re.findall(r"<td>([^<]*)</td>", r.body)
    assert cells == ["2026-04-01 10:00", "山田 太郎 &lt;taro@example.co.jp&gt;", CLERK,
                     "無害化済み", "保管中"]


def test_search_page_links_the_next_page(store):
    con, q, _ = store
    c = admin(store)
    r = c.get("/search?" + urllib.parse.urlencode({"rcpt": "city.example", "from": "2026-04-01"}))
    assert r.status == 200
    assert "1 ページ目（1 ページ 2 件、新しい順、日本時間）" in r.body
    assert ('<a href="/search?rcpt=city.example&amp;from=2026-04-01&amp;page=2">次のページ</a>'
            in r.body)
    r = c.get("/search?" + urllib.parse.urlencode({"subject": "見積", "page": "2"}))
    assert ('<a href="/search?subject=%E8%A6%8B%E7%A9%8D&amp;page=1">前のページ</a>' in r.body)
    assert "該当するメールはありません。" in r.body


@pytest.mark.parametrize("query", [
    "subject=%01x", "subject=" + "a" * 257, "sender=%FF", "verdict=evil", "page=0", "page=x",
    "page=1000000", "from=2026-04-31", "from=2026-04-03&to=2026-04-01"])
def test_bad_search_is_refused(store, query):
    c = admin(store)
    r = c.get("/api/search?" + query)
    assert r.status == 400 and json.loads(r.body) == {"error": MSG_BAD}
    r = c.get("/search?" + query)
    assert r.status == 400 and MSG_BAD in r.body


def test_a_clerk_cannot_search_or_widen_the_list(store):
    con, q, acct = store
    c = con.client()
    assert c.login(acct["clerk"]).status == 303
    for path in ("/search?rcpt=sato", "/api/search?rcpt=sato"):
        r = c.get(path)
        assert r.status == 403 and "メールを検索する権限がありません。" in r.body
    assert [(a, o, json.loads(d)["why"]) for a, o, d in con.audit("console.refused")][-2:] == [
        ("console:tanaka", "/search", "not permitted"),
        ("console:tanaka", "/api/search", "not permitted")]
    home = c.get("/?rcpt=" + OTHER + "&sender=news@example.org&status=held").body
    assert "会議の案内" in home and "見積書の再送" not in home and "お知らせ" not in home
    assert "メールの検索" not in home
    r = c.get("/api/quarantine?rcpt=" + OTHER + "&page=2&offset=0")
    assert sorted(m["id"] for m in json.loads(r.body)["mail"]) == sorted([q["evil"], q["meeting"]])
    assert c.get(f"/mail/{q['resend']}?rcpt={OTHER}").status == 404
