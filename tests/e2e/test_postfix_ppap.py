"""PPAP through a real Postfix (issue #11): smtpd → content_filter → mugaid
(attachments = sanitize) → re-injection → virtual Maildir. A PPAP pair in
both encryption kinds (WinZip AES from 7z with a UTF-8 name, ZipCrypto from
zip -P with a CP932 name) gives the sanitized text at once and then the
follow-up with the opened, sanitized file; a wrong password, a password
mail from another sender and one that never comes each give their notice;
the state directory, mugaid's log and the audit trail hold no password;
nothing bounces and the Postfix queue ends empty."""
import email
import email.policy
import glob
import io
import os
import shutil
import smtplib
import sys
import time
import zipfile

import pytest

from e2eutil import DOMAIN, Mugaid, e2e_base
from pfinstance import Postfix

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from ppaputil import DOC, PASSWORD, make_zip, password_mail, zip_mail  # noqa: E402

SENDER = "sato@supplier.example.co.jp"

pytestmark = pytest.mark.skipif(not shutil.which("7z") or not shutil.which("zip"),
                                reason="needs 7z (p7zip-full) and zip: scripts/deps.sh")


class PpapMugaid(Mugaid):
    def __init__(self, base, pf):
        super().__init__(base, f"listen = 127.0.0.1:{pf.filter_port}\n"
                               f"next_hop = smtp:127.0.0.1:{pf.reinj_port}\nmax_sessions = 4\n"
                               "attachments = sanitize\nrelease_interval = 1\n"
                               "wall_time_max = 30\ncdr_time_max = 20\nnext_hop_timeout = 10\n")

    def verdict(self, qid):
        with self.db() as c:
            return c.execute("SELECT verdict FROM quarantine WHERE id=?", (qid,)).fetchone()[0]

    def audit(self, action):
        with self.db() as c:
            return c.execute("SELECT object, actor, details FROM audit WHERE action=? ORDER BY seq",
                             (action,)).fetchall()


@pytest.fixture(scope="module")
def env():
    with e2e_base("mugai-e2e-ppap-", Postfix, PpapMugaid, tmpfs=False) as (base, pf, m):
        yield pf, m, base


def submit(pf, raw, rcpt, sender=SENDER):
    with smtplib.SMTP("127.0.0.1", pf.smtp_port, timeout=60) as s:
        s.sendmail(sender, [rcpt], raw)


def mailbox(pf, user, n, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        files = sorted(glob.glob(f"{pf.mail}/{user}/new/*"), key=os.path.getmtime)
        if len(files) >= n:
            break
        time.sleep(0.3)
    out = []
    for p in sorted(glob.glob(f"{pf.mail}/{user}/new/*"), key=os.path.getmtime):
        with open(p, "rb") as f:
            out.append(email.message_from_binary_file(f, policy=email.policy.default))
    return out


def qid(m):
    return str(m["X-Mugai-Sanitized"]).split("id=")[1]


def text(m):
    return m.get_body(preferencelist=("plain",)).get_content()


def pair(pf, m, base, user, kind, cp932):
    rcpt = f"{user}@{DOMAIN}"
    submit(pf, zip_mail(make_zip(base, kind, PASSWORD, cp932), to=(rcpt,)), rcpt)
    first, = mailbox(pf, user, 1)
    held = qid(first)
    assert "パスワード付きZIP（「見積書.zip」）: パスワードのメールを待っています（最長 60 分）" in text(first)
    assert m.verdict(held) == "ppap-pending"
    submit(pf, password_mail(PASSWORD, to=(rcpt,)), rcpt)
    msgs = mailbox(pf, user, 3)
    assert len(msgs) == 3
    follow = [x for x in msgs[1:] if qid(x) == held]
    pw = [x for x in msgs[1:] if qid(x) != held]
    assert len(follow) == 1 and len(pw) == 1
    assert f"パスワード：{PASSWORD}" in text(pw[0])
    assert f"受付番号 {held} のパスワード付きZIPを無害化しました。" in text(follow[0])
    att, = follow[0].iter_attachments()
    z = zipfile.ZipFile(io.BytesIO(att.get_content()))
    assert z.namelist() == ["見積書.txt"] and z.read("見積書.txt").decode() == DOC
    assert m.verdict(held) == "ppap-paired"
    return held, qid(pw[0])


def test_ppap_pairs_through_postfix(env):
    pf, m, base = env
    held, pwmsg = pair(pf, m, base, "taro", "aes", False)
    assert [(o, a) for o, a, _ in m.audit("ppap.paired")] == [(held, "mugaid")]
    assert pwmsg in m.audit("ppap.paired")[0][2]
    held2, _ = pair(pf, m, base, "hanako", "zipcrypto", True)
    assert [o for o, _, _ in m.audit("ppap.paired")] == [held, held2]


def test_ppap_wrong_password_through_postfix(env):
    pf, m, base = env
    rcpt = f"jiro@{DOMAIN}"
    submit(pf, zip_mail(make_zip(base, "aes", PASSWORD), to=(rcpt,)), rcpt)
    held = qid(mailbox(pf, "jiro", 1)[0])
    submit(pf, password_mail("Wrong-Pass-1", to=(rcpt,)), rcpt)
    msgs = mailbox(pf, "jiro", 3)
    follow = [x for x in msgs[1:] if qid(x) == held]
    assert len(follow) == 1
    assert f"受付番号 {held} のパスワード付きZIPは、届いたメールのパスワードでは開けませんでした。" in text(follow[0])
    assert list(follow[0].iter_attachments()) == []
    assert m.verdict(held) == "ppap-pending"


def test_ppap_other_sender_and_no_password_through_postfix(env):
    pf, m, base = env
    rcpt = f"saburo@{DOMAIN}"
    submit(pf, zip_mail(make_zip(base, "zipcrypto", PASSWORD), to=(rcpt,)), rcpt)
    held = qid(mailbox(pf, "saburo", 1)[0])
    submit(pf, password_mail(PASSWORD, sender="mallory@attacker.example", to=(rcpt,)), rcpt,
           sender="mallory@attacker.example")
    mailbox(pf, "saburo", 2)
    time.sleep(2)
    assert len(mailbox(pf, "saburo", 2)) == 2              # no follow-up
    assert m.verdict(held) == "ppap-pending"
    # the window passes (the row is backdated): the releaser's notice
    with m.db(write=True) as c:
        c.execute("UPDATE quarantine SET received = received - 3601 WHERE id = ?", (held,))
    msgs = mailbox(pf, "saburo", 3)
    assert len(msgs) == 3
    assert (f"受付番号 {held} のパスワード付きZIPは、60 分以内にパスワードのメールが届かなかったため、"
            "無害化できませんでした。") in text(msgs[2])
    assert m.verdict(held) == "ppap-expired"


def decoded_text(data):
    """Every decoded part of data read as a mail (base64 undone), or b"" when
    it is not one: a base64 body cannot hide the password from the search."""
    try:
        m = email.message_from_bytes(data, policy=email.policy.default)
    except Exception:  # noqa: BLE001 - not a mail: nothing decoded
        return b"", None
    return b"\n".join(p.get_payload(decode=True) or b"" for p in m.walk()
                      if not p.is_multipart()), m


def test_no_password_in_state_log_audit_and_queue_empty(env):
    pf, m, base = env
    for pw in (PASSWORD, "Wrong-Pass-1"):
        hits = []
        for root, _, files in os.walk(m.state):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    data = fh.read()
                text, mail = decoded_text(data)
                if mail is not None and mail["Subject"] in ("パスワードのお知らせ", "パスワード"):
                    continue  # the password mail's own original, kept like every original
                if pw.encode() in data or pw.encode() in text:
                    hits.append(f)
        assert hits == []
        assert pw not in m.log()
        with m.db() as c:
            assert not any(pw in (d or "") for (d,) in c.execute("SELECT details FROM audit"))
    pf.flush()
    end = time.monotonic() + 60
    while not pf.queue_empty() and time.monotonic() < end:
        time.sleep(0.5)
    assert pf.queue_empty()
    assert "status=bounced" not in pf.log()
