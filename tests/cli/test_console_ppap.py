"""PPAP from the console (issue 10 part 7): the clerk whose mail holds a zip
still waiting for its password types it on the message's page; the console
runs the administrator's path (a sandboxed worker with that one candidate)
and queues the follow-up with the opened, sanitized files in the store's
outbox for the clerk's own mailbox; mugaid's releaser delivers it there
(not to the other recipient). The password is in no file of the state
directory (the outbox included), no log and no audit record; the store
records ppap.failed / ppap.paired with the clerk's account, the releaser
outbox.delivered. The JSON API takes the same path with the same texts."""
import email
import email.policy
import io
import json
import os
import shutil
import sys
import time
import zipfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Console, text  # noqa: E402
from daemonutil import Daemon, parse  # noqa: E402
from ppaputil import CLERK, DOC, PASSWORD, make_zip, zip_mail  # noqa: E402
from test_daemon_ppap import audit, no_password_anywhere, qid_of, send, show, wait_files  # noqa: E402

pytestmark = pytest.mark.skipif(not shutil.which("7z") or not shutil.which("zip"),
                                reason="needs 7z (p7zip-full) and zip: scripts/deps.sh")


OTHER = "kakari@city.example.lg.jp"


def api_login(con, acct):
    c = con.client()
    r = c.request("POST", "/api/login", json.dumps(
        {"user": acct.name, "password": acct.password, "otp": acct.code()}).encode(),
        {"Content-Type": "application/json"})
    assert r.status == 200, r.body
    return c, json.loads(r.body)["csrf"]


def api_ppap(c, csrf, qid, password):
    r = c.request("POST", f"/api/quarantine/{qid}/ppap", json.dumps({"password": password}).encode(),
                  {"Content-Type": "application/json", "X-CSRF-Token": csrf})
    return r.status, json.loads(r.body)


def test_clerk_types_the_password_in_the_console(tmp_path):
    # no releaser at first: the queued follow-up can be looked at in the store
    d = Daemon(tmp_path, attachments="sanitize", release_interval="0").start()
    con = Console(tmp_path)
    try:
        send(d, zip_mail(make_zip(tmp_path, "aes", PASSWORD), to=(CLERK, OTHER)), to=(CLERK, OTHER))
        first, = wait_files(d, CLERK, 1)
        assert len(wait_files(d, OTHER, 1)) == 1
        held = qid_of(parse(first))
        assert show(d, held)["verdict"] == "ppap-pending"
        clerk = con.user_add("suzuki", "clerk", CLERK, dept="総務課")
        other = con.user_add("other", "clerk", "other@city.example.lg.jp", dept="総務課")
        con.start()
        c = con.client()
        assert c.login(clerk).status == 303
        page = c.get(f"/mail/{held}")
        assert "パスワード付きZIPを開く" in text(page.body)
        assert f'action="/mail/{held}/ppap"' in page.body
        # CSRF, another clerk, a wrong password (page and API): each refused exactly
        assert c.post(f"/mail/{held}/ppap", {"password": PASSWORD}, csrf=False).status == 403
        o = con.client()
        assert o.login(other).status == 303
        r = o.post(f"/mail/{held}/ppap", {"password": PASSWORD})
        assert r.status == 404
        assert "このメールは表示できません（存在しないか、表示する権限がありません）。" in text(r.body)
        oa, ocsrf = api_login(con, other)
        assert api_ppap(oa, ocsrf, held, PASSWORD) == (
            404, {"error": "このメールは表示できません（存在しないか、表示する権限がありません）。"})
        r = c.post(f"/mail/{held}/ppap", {"password": "not-it-1"})
        assert r.status == 400 and "パスワードが合いませんでした。もう一度確認してください。" in text(r.body)
        ca, csrf = api_login(con, clerk)
        assert api_ppap(ca, csrf, held, "not-it-2") == (
            400, {"error": "パスワードが合いませんでした。もう一度確認してください。"})
        assert show(d, held)["verdict"] == "ppap-pending"
        # the right one: the follow-up is queued for the clerk's mailbox
        r = c.post(f"/mail/{held}/ppap", {"password": PASSWORD})
        assert r.status == 200, r.body
        assert r.header("Content-Type") != ["message/rfc822"] and not r.header("Content-Disposition")
        assert "パスワード付きZIPを無害化しました。メールボックスに配送します。" in text(r.body)
        assert show(d, held)["verdict"] == "ppap-paired"
        (kind, rcpt, by, queued), = con.sql("SELECT kind, rcpt, queued_by, msg FROM outbox"
                                            " WHERE sent_at=''")
        assert (kind, rcpt, by) == ("ppap-followup", CLERK, "console:suzuki")
        assert f"受付番号 {held} のパスワード付きZIPを無害化しました。".encode() in \
            email.message_from_bytes(queued, policy=email.policy.default).get_body(
                ("plain",)).get_content().encode()
        no_password_anywhere(d, (PASSWORD, "not-it-1", "not-it-2"))  # the outbox included
        assert api_ppap(ca, csrf, held, PASSWORD) == (409, {"error": "パスワードを待っているZIPはありません。"})
        r = c.post(f"/mail/{held}/ppap", {"password": PASSWORD})
        assert r.status == 409 and "パスワードを待っているZIPはありません。" in text(r.body)
        # the releaser delivers it to the clerk only
        assert d.stop() == 0
        d.write_config(release_interval="1")
        d.start()
        files = wait_files(d, CLERK, 2)
        assert len(files) == 2
        time.sleep(2.5)
        assert len(d.delivered(OTHER)) == 1, "the other recipient gets no follow-up"
        assert len(d.delivered(CLERK)) == 2
        fm = email.message_from_bytes(open([f for f in files if f != first][0], "rb").read(),
                                      policy=email.policy.default)
        assert (f"受付番号 {held} のパスワード付きZIPを無害化しました。"
                in fm.get_body(("plain",)).get_content())
        att, = fm.iter_attachments()
        z = zipfile.ZipFile(io.BytesIO(att.get_content()))
        assert z.namelist() == ["見積書.txt"] and z.read("見積書.txt").decode() == DOC
        recs = [json.loads(l) for l in audit(d).splitlines()]
        steps = [(x["action"], x["actor"], x["details"]) for x in recs
                 if x["action"].startswith("ppap.") or x["action"] == "outbox.delivered"]
        steps = [(a, who, json.loads(det) if isinstance(det, str) else det) for a, who, det in steps]
        assert [(a, who) for a, who, _ in steps] == [("ppap.failed", "console:suzuki"),
                                                     ("ppap.failed", "console:suzuki"),
                                                     ("ppap.paired", "console:suzuki"),
                                                     ("outbox.delivered", "mugaid")]
        assert steps[2][2]["typed_by"] == "console:suzuki" and steps[2][2]["opened"] == 1
        assert steps[2][2]["deliver_to"] == [CLERK]
        assert steps[3][2] == {"kind": "ppap-followup", "to": [CLERK]}
        assert con.sql("SELECT length(msg), sent_at != '' FROM outbox") == [(0, 1)]
        no_password_anywhere(d, (PASSWORD, "not-it-1", "not-it-2"))
    finally:
        con.stop()
        assert d.stop() == 0
