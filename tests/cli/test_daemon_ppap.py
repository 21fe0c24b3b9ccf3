"""PPAP pairing in mugaid (issue #11): a mail with an encrypted zip (WinZip
AES from 7z, ZipCrypto from zip -P; entry names in UTF-8 and CP932) is
delivered sanitized at once with the waiting line and held as ppap-pending;
the password mail from the same sender to a shared recipient is delivered
sanitized as usual and a follow-up with the opened, sanitized files goes to
the original's recipients. A wrong password, a password mail from another
sender and a window that passes each give their notice; no password is in
the state directory (but for the password mail's own original), the log or
the audit export."""
import email.policy
import json
import os
import shutil
import smtplib
import sqlite3
import subprocess
import time
import zipfile
import io
from email.message import EmailMessage

import pytest

from daemonutil import MUGAI, Daemon, parse
from storeutil import OS_ACTOR
from ppaputil import (CLERK, DOC, PASSWORD, SENDER, WAITING, make_zip, password_mail,
                      zip_mail)

pytestmark = pytest.mark.skipif(not shutil.which("7z") or not shutil.which("zip"),
                                reason="needs 7z (p7zip-full) and zip: scripts/deps.sh")

def send(d, raw, sender=SENDER, to=(CLERK,)):
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        s.sendmail(sender, list(to), raw)


def wait_files(d, rcpt, n, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if len(d.delivered(rcpt)) >= n:
            break
        time.sleep(0.2)
    return d.delivered(rcpt)


def show(d, qid):
    r = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "show", qid, "--json"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def audit(d):
    r = subprocess.run([MUGAI, "audit", "-c", d.cf, "export", "--format", "jsonl"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode()


def text_of(path):
    m = parse(path)
    body = m.get_body(preferencelist=("plain",))
    return m, body.get_content()


def qid_of(msg):
    return str(msg["X-Mugai-Sanitized"]).split("id=")[1]


def decoded_text(data):
    """Every decoded part of data read as a mail (base64 and quoted-printable
    undone), or b"" when it is not one."""
    try:
        m = email.message_from_bytes(data, policy=email.policy.default)
    except Exception:  # noqa: BLE001 - not a mail: nothing decoded
        return b"", None
    out = [part.get_payload(decode=True) or b"" for part in m.walk() if not part.is_multipart()]
    return b"\n".join(out), m


def no_password_anywhere(d, passwords=(PASSWORD,)):
    """The password is in no file of the state directory (database, WAL,
    blobs), nor in the log or the audit export. The one exception is the
    password mail's own original, kept like every original (its subject is
    the test's パスワードのお知らせ): every other file is searched raw and,
    when it reads as a mail, decoded too, so a base64 body cannot hide it."""
    for pw in passwords:
        hits = []
        for root, _, files in os.walk(d.state):
            for f in files:
                p = os.path.join(root, f)
                with open(p, "rb") as fh:
                    data = fh.read()
                text, m = decoded_text(data)
                if m is not None and m["Subject"] in ("パスワードのお知らせ", "パスワード"):
                    continue  # the password mail's original
                if pw.encode() in data or pw.encode() in text:
                    hits.append(p)
        assert hits == []
        assert pw not in d.logtext()
        assert pw not in audit(d)


@pytest.mark.parametrize("kind,cp932", [("aes", False), ("zipcrypto", True), ("aes", True),
                                         ("zipcrypto", False)])
def test_ppap_pair_delivers_the_sanitized_files(tmp_path, kind, cp932):
    d = Daemon(tmp_path, attachments="sanitize").start()
    try:
        send(d, zip_mail(make_zip(tmp_path, kind, PASSWORD, cp932)))
        first, = wait_files(d, CLERK, 1)
        m1, t1 = text_of(first)
        held = qid_of(m1)
        assert WAITING in t1
        assert "見積書をお送りします。" in t1
        assert show(d, held)["verdict"] == "ppap-pending"

        send(d, password_mail(PASSWORD))
        files = wait_files(d, CLERK, 3)
        assert len(files) == 3
        later = [text_of(f) for f in files if f != first]
        pw_msg = [(m, t) for m, t in later if qid_of(m) != held]
        follow = [(m, t) for m, t in later if qid_of(m) == held]
        assert len(pw_msg) == 1 and len(follow) == 1
        # the password mail itself: delivered sanitized as usual
        assert f"パスワード：{PASSWORD}" in pw_msg[0][1]
        # the follow-up: the notice line, the file attached, sanitized
        fm, ft = follow[0]
        assert f"受付番号 {held} のパスワード付きZIPを無害化しました。" in ft
        assert WAITING not in ft
        assert str(fm["X-Mugai-Sanitized"]) == f"verdict=sanitized; actions=CDR PPAP; id={held}"
        atts = list(fm.iter_attachments())
        assert [a.get_filename() for a in atts] == ["見積書.zip"]
        z = zipfile.ZipFile(io.BytesIO(atts[0].get_content()))
        assert [i.flag_bits & 1 for i in z.infolist()] == [0]     # no longer encrypted
        assert z.namelist() == ["見積書.txt"]
        assert z.read("見積書.txt").decode("utf-8") == DOC
        # the store and the audit trail
        assert show(d, held)["verdict"] == "ppap-paired"
        recs = [json.loads(l) for l in audit(d).splitlines()]
        paired = [r for r in recs if r["action"] == "ppap.paired"]
        assert [(r["object"], r["actor"]) for r in paired] == [(held, "mugaid")]
        det = paired[0]["details"]
        det = json.loads(det) if isinstance(det, str) else det
        assert det["password_message"] == qid_of(pw_msg[0][0]) and det["opened"] == 1
        no_password_anywhere(d)
    finally:
        assert d.stop() == 0


def test_ppap_wrong_password(tmp_path):
    d = Daemon(tmp_path, attachments="sanitize").start()
    try:
        send(d, zip_mail(make_zip(tmp_path, "aes", PASSWORD)))
        first, = wait_files(d, CLERK, 1)
        held = qid_of(parse(first))
        send(d, password_mail("Wrong-Pass-1"))
        files = wait_files(d, CLERK, 3)
        assert len(files) == 3
        follow = [text_of(f) for f in files if f != first and qid_of(parse(f)) == held]
        assert len(follow) == 1
        fm, ft = follow[0]
        assert f"受付番号 {held} のパスワード付きZIPは、届いたメールのパスワードでは開けませんでした。" in ft
        assert "パスワード付きZIPを、届いたパスワードで開けませんでした" in ft
        assert list(fm.iter_attachments()) == []
        assert show(d, held)["verdict"] == "ppap-pending"    # a right one may still come
        listed = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "list", "--verdict",
                                 "ppap-pending"], capture_output=True, timeout=30)
        assert listed.returncode == 0 and held in listed.stdout.decode()
        assert [json.loads(l)["object"] for l in audit(d).splitlines()
                if json.loads(l)["action"] == "ppap.failed"] == [held]
        # then the right one
        send(d, password_mail(PASSWORD))
        files = wait_files(d, CLERK, 5)
        assert len(files) == 5
        assert show(d, held)["verdict"] == "ppap-paired"
        no_password_anywhere(d, (PASSWORD, "Wrong-Pass-1"))
    finally:
        assert d.stop() == 0


def test_ppap_password_from_another_sender_is_not_paired(tmp_path):
    d = Daemon(tmp_path, attachments="sanitize").start()
    try:
        send(d, zip_mail(make_zip(tmp_path, "aes", PASSWORD)))
        first, = wait_files(d, CLERK, 1)
        held = qid_of(parse(first))
        send(d, password_mail(PASSWORD, sender="mallory@attacker.example"),
             sender="mallory@attacker.example")
        wait_files(d, CLERK, 2)
        time.sleep(1)
        assert len(d.delivered(CLERK)) == 2        # the password mail only, no follow-up
        assert show(d, held)["verdict"] == "ppap-pending"
        assert "ppap." not in audit(d)
        # nor to another recipient
        send(d, password_mail(PASSWORD, to=("other@city.example.lg.jp",)),
             to=("other@city.example.lg.jp",))
        wait_files(d, "other@city.example.lg.jp", 1)
        time.sleep(1)
        assert len(d.delivered(CLERK)) == 2
        assert show(d, held)["verdict"] == "ppap-pending"
    finally:
        assert d.stop() == 0


def test_ppap_window_passes(tmp_path):
    url = "https://mugai.city.example.lg.jp"
    d = Daemon(tmp_path, attachments="sanitize", release_interval="1", console_url=url).start()
    try:
        send(d, zip_mail(make_zip(tmp_path, "zipcrypto", PASSWORD)))
        first, = wait_files(d, CLERK, 1)
        held = qid_of(parse(first))
        time.sleep(2)
        assert len(d.delivered(CLERK)) == 1            # inside the window: nothing yet
        db = sqlite3.connect(os.path.join(d.state, "mugai.db"), timeout=30)
        db.execute("UPDATE quarantine SET received = received - 3601 WHERE id = ?", (held,))
        db.commit()
        db.close()
        files = wait_files(d, CLERK, 2)
        assert len(files) == 2
        nm, nt = text_of([f for f in files if f != first][0])
        assert str(nm["Subject"]).strip() == "パスワード付きZIPを無害化できませんでした"
        assert (f"【無害化できませんでした】受付番号 {held} のパスワード付きZIPは、60 分以内にパスワードの"
                "メールが届かなかったため、無害化できませんでした。") in nt
        assert f"受付番号 {held} を添えて管理者にお伝えください" in nt
        # console_url: the clerk may type the password on the console page
        assert nt.splitlines()[3:6] == [
            "コンソールのこのメールのページで、パスワードを入力してご自身で無害化することもできます。",
            f"取り出しの依頼: {url}/q/{held}（受付番号 {held[-8:-4]}-{held[-4:]}）", "━" * 40]
        assert "verdict=ppap-expired" in str(nm["X-Mugai-Sanitized"]), nm["X-Mugai-Sanitized"]
        assert show(d, held)["verdict"] == "ppap-expired"
        assert [json.loads(l)["object"] for l in audit(d).splitlines()
                if json.loads(l)["action"] == "ppap.expired"] == [held]
        # a password mail after the window: no pairing
        send(d, password_mail(PASSWORD))
        wait_files(d, CLERK, 3)
        time.sleep(1)
        assert len(d.delivered(CLERK)) == 3
        assert show(d, held)["verdict"] == "ppap-expired"
    finally:
        assert d.stop() == 0


def ppap_cli(d, qid, password, out, by="admin"):
    return subprocess.run([MUGAI, "quarantine", "-c", d.cf, "ppap", qid, "--by", by, "-o", out],
                          input=password.encode() + b"\n", capture_output=True, timeout=60)


def test_ppap_administrator_types_the_password(tmp_path):
    """After the window: `mugai quarantine ppap ID` with the password on
    stdin, the same path (the worker tries it), the follow-up in a file."""
    d = Daemon(tmp_path, attachments="sanitize", release_interval="1").start()
    try:
        send(d, zip_mail(make_zip(tmp_path, "aes", PASSWORD, cp932=True)))
        first, = wait_files(d, CLERK, 1)
        held = qid_of(parse(first))
        db = sqlite3.connect(os.path.join(d.state, "mugai.db"), timeout=30)
        db.execute("UPDATE quarantine SET received = received - 7200 WHERE id = ?", (held,))
        db.commit()
        db.close()
        wait_files(d, CLERK, 2)
        end = time.monotonic() + 20
        while show(d, held)["verdict"] != "ppap-expired" and time.monotonic() < end:
            time.sleep(0.2)
        assert show(d, held)["verdict"] == "ppap-expired"
        out = os.path.join(str(tmp_path), "followup.eml")
        r = ppap_cli(d, held, "not-it-1", out)
        assert r.returncode == 65, r.stderr
        assert "the password did not open the zip" in r.stderr.decode()
        assert not os.path.exists(out)
        assert show(d, held)["verdict"] == "ppap-expired"
        r = ppap_cli(d, held, PASSWORD, out)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode() == f"{held}: PPAP zip opened (1), follow-up written to {out}\n"
        fm = parse(out)
        assert f"受付番号 {held} のパスワード付きZIPを無害化しました。" in fm.get_body(("plain",)).get_content()
        att, = fm.iter_attachments()
        z = zipfile.ZipFile(io.BytesIO(att.get_content()))
        assert z.namelist() == ["見積書.txt"] and z.read("見積書.txt").decode() == DOC
        assert show(d, held)["verdict"] == "ppap-paired"
        recs = [json.loads(l) for l in audit(d).splitlines()]
        steps = [(r["action"], r["actor"]) for r in recs if r["action"].startswith("ppap.")]
        assert steps == [("ppap.expired", "mugaid"), ("ppap.failed", OS_ACTOR),
                         ("ppap.paired", OS_ACTOR)]
        typed = [r["details"] for r in recs if r["action"] == "ppap.paired"]
        typed = json.loads(typed[0]) if isinstance(typed[0], str) else typed[0]
        assert (typed["by"], typed["typed_by"]) == ("admin", OS_ACTOR)
        # a message that is not a held PPAP zip is refused
        r = ppap_cli(d, held, PASSWORD, out + "2")
        assert r.returncode == 65 and b"not a held PPAP zip" in r.stderr
        no_password_anywhere(d, (PASSWORD, "not-it-1"))
    finally:
        assert d.stop() == 0


def test_no_ppap_with_attachments_removed(tmp_path):
    """attachments = remove (the default): the zip is removed unread, nothing is
    held, and the password mail is only a mail."""
    d = Daemon(tmp_path).start()
    try:
        send(d, zip_mail(make_zip(tmp_path, "aes", PASSWORD)))
        first, = wait_files(d, CLERK, 1)
        m1, t1 = text_of(first)
        assert "パスワードのメールを待っています" not in t1
        assert "「見積書.zip」" in t1
        assert show(d, qid_of(m1))["verdict"] == "sanitized"
        send(d, password_mail(PASSWORD))
        wait_files(d, CLERK, 2)
        time.sleep(1)
        assert len(d.delivered(CLERK)) == 2
        assert "ppap." not in audit(d)
    finally:
        assert d.stop() == 0


def test_ppap_html_password_mail(tmp_path):
    """An HTML-only password mail (Outlook's usual form): the candidates come
    from its text after the HTML conversion."""
    d = Daemon(tmp_path, attachments="sanitize").start()
    try:
        send(d, zip_mail(make_zip(tmp_path, "aes", PASSWORD)))
        first, = wait_files(d, CLERK, 1)
        held = qid_of(parse(first))
        m = EmailMessage()
        m["From"] = f"佐藤 <{SENDER}>"
        m["To"] = CLERK
        m["Subject"] = "パスワード"
        m.set_content(f"<html><body><p>解凍パスワードは</p><p><b>{PASSWORD}</b></p>"
                      "<p>です。</p></body></html>", subtype="html", cte="base64")
        send(d, m.as_bytes(policy=email.policy.SMTP))
        files = wait_files(d, CLERK, 3)
        assert len(files) == 3
        assert show(d, held)["verdict"] == "ppap-paired"
        no_password_anywhere(d)
    finally:
        assert d.stop() == 0
