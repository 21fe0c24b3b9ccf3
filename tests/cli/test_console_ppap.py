"""PPAP from the console (issue 10 part 7): the clerk whose mail holds a zip
still waiting for its password types it on the message's page; the console
runs the administrator's path (a sandboxed worker with that one candidate)
and offers the follow-up with the opened, sanitized files for download. The
password is in no file of the state directory, no log and no audit record;
the store records ppap.failed / ppap.paired with the clerk's account."""
import email
import email.policy
import io
import json
import os
import shutil
import sys
import zipfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Console, text  # noqa: E402
from daemonutil import Daemon, parse  # noqa: E402
from ppaputil import CLERK, DOC, PASSWORD, make_zip, zip_mail  # noqa: E402
from test_daemon_ppap import audit, no_password_anywhere, qid_of, send, show, wait_files  # noqa: E402

pytestmark = pytest.mark.skipif(not shutil.which("7z") or not shutil.which("zip"),
                                reason="needs 7z (p7zip-full) and zip: scripts/deps.sh")


def test_clerk_types_the_password_in_the_console(tmp_path):
    d = Daemon(tmp_path, attachments="sanitize").start()
    con = Console(tmp_path)
    try:
        send(d, zip_mail(make_zip(tmp_path, "aes", PASSWORD)))
        first, = wait_files(d, CLERK, 1)
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
        # CSRF, another clerk, a wrong password: each refused exactly
        assert c.post(f"/mail/{held}/ppap", {"password": PASSWORD}, csrf=False).status == 403
        o = con.client()
        assert o.login(other).status == 303
        r = o.post(f"/mail/{held}/ppap", {"password": PASSWORD})
        assert r.status == 404
        assert "このメールは表示できません（存在しないか、表示する権限がありません）。" in text(r.body)
        r = c.post(f"/mail/{held}/ppap", {"password": "not-it-1"})
        assert r.status == 400 and "パスワードが合いませんでした。もう一度確認してください。" in text(r.body)
        assert show(d, held)["verdict"] == "ppap-pending"
        # the right one: the follow-up, as a download
        r = c.post(f"/mail/{held}/ppap", {"password": PASSWORD})
        assert r.status == 200, r.body
        assert r.header("Content-Type") == ["message/rfc822"]
        assert r.header("Content-Disposition") == ['attachment; filename="ppap-followup.eml"']
        fm = email.message_from_bytes(r.body.encode(), policy=email.policy.default)
        assert (f"受付番号 {held} のパスワード付きZIPを無害化しました。"
                in fm.get_body(("plain",)).get_content())
        att, = fm.iter_attachments()
        z = zipfile.ZipFile(io.BytesIO(att.get_content()))
        assert z.namelist() == ["見積書.txt"] and z.read("見積書.txt").decode() == DOC
        assert show(d, held)["verdict"] == "ppap-paired"
        r = c.post(f"/mail/{held}/ppap", {"password": PASSWORD})
        assert r.status == 409 and "パスワードを待っているZIPはありません。" in text(r.body)
        recs = [json.loads(l) for l in audit(d).splitlines()]
        steps = [(x["action"], x["actor"], x["details"]) for x in recs if x["action"].startswith("ppap.")]
        steps = [(a, who, json.loads(det) if isinstance(det, str) else det) for a, who, det in steps]
        assert [(a, who) for a, who, _ in steps] == [("ppap.failed", "console:suzuki"),
                                                     ("ppap.paired", "console:suzuki")]
        assert steps[1][2]["typed_by"] == "console:suzuki" and steps[1][2]["opened"] == 1
        no_password_anywhere(d, (PASSWORD, "not-it-1"))
    finally:
        con.stop()
        assert d.stop() == 0
