"""`mugai mail sanitize`: structure, headers, notice, report and exit codes."""
import os
import subprocess
import tempfile

import pytest

from mailutil import MUGAI, check_wire_format, msg, sanitize

BASE = {
    "From": "Taro Yamada <taro@example.jp>",
    "To": "hanako@example.lg.jp",
    "Subject": "meeting",
    "Date": "Tue, 24 Nov 2026 10:00:00 +0900",
    "Message-ID": "<m1@example.jp>",
    "Received": "from evil by relay",
    "X-Mailer": "Evil 1.0",
}

REPORT_KEYS = {"verdict", "id", "from", "subject", "parts", "removed", "sanitized", "removed_not_listed",
               "links_defanged", "links_removed", "decoding_losses", "warnings", "limits_hit",
               "parts_total", "parts_rendered", "parts_listed", "envelope_sender", "header_unreadable",
               "output_check", "antivirus", "virus", "antivirus_error", "sender_warnings", "actions",
               "ppap_waiting", "ppap_of", "ppap_opened"}


def mixed(*parts, boundary="BOUND"):
    out = []
    for headers, body in parts:
        out.append(f"--{boundary}\n" + "".join(f"{k}: {v}\n" for k, v in headers) + "\n" + body)
    return "\n".join(out) + f"\n--{boundary}--\n"


def test_plain_mail_is_clean_and_headers_rebuilt():
    r = sanitize(msg(BASE, "Hello,\nsee you at 10.\n"))
    check_wire_format(r.raw)
    assert r.verdict == "clean"
    assert r.body == "Hello,\nsee you at 10.\n"
    m = r.msg
    assert m["From"].addresses[0].addr_spec == "taro@example.jp"
    assert m["From"].addresses[0].display_name == "Taro Yamada"
    assert str(m["To"]) == "hanako@example.lg.jp"
    assert str(m["Subject"]) == "meeting"
    assert str(m["Message-ID"]) == "<m1@example.jp>"
    assert m["Received"] is None and m["X-Mailer"] is None
    assert m.get_content_type() == "text/plain"
    assert m.get_content_charset() == "utf-8"
    assert str(m["X-Mugai-Sanitized"]) == f"verdict=clean; id={r.report['id']}"
    assert set(r.report) == REPORT_KEYS
    assert r.report["parts"] == 1
    assert r.report["from"] == "Taro Yamada <taro@example.jp>"


def test_attachment_removed_and_listed():
    body = mixed(([("Content-Type", "text/plain; charset=us-ascii")], "Please see the file.\n"),
                 ([("Content-Type", "application/pdf; name=\"q.pdf\""),
                   ("Content-Disposition", "attachment; filename=\"q.pdf\""),
                   ("Content-Transfer-Encoding", "base64")], "JVBERi0xLjQKJeLjz9M=\n"))
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="BOUND"'))
    assert r.verdict == "sanitized"
    assert r.body == "Please see the file.\n"
    assert r.report["removed"] == [{"filename": "q.pdf", "content_type": "application/pdf",
                                    "size": 14, "reason": "attachment"}]
    assert "1. 「q.pdf」 (14 バイト) — 添付ファイル" in r.notice
    assert r.report["id"] in r.notice
    assert "JVBERi" not in r.raw.decode()


def test_alternative_prefers_plain_that_carries_content():
    alt = mixed(([("Content-Type", "text/plain; charset=utf-8")], "Plain version.\n"),
                ([("Content-Type", "text/html; charset=utf-8")], "<p>HTML version.</p>\n"),
                boundary="ALT")
    r = sanitize(msg(BASE, alt, ctype='multipart/alternative; boundary="ALT"'))
    assert r.body == "Plain version.\n"
    # the unchosen HTML alternative is listed: nothing vanishes unsaid
    assert r.report["removed"] == [{"filename": None, "content_type": "text/html", "size": 21,
                                    "reason": "alternative"}]
    assert r.verdict == "sanitized"
    assert (r.report["parts_total"], r.report["parts_rendered"], r.report["parts_listed"]) == (2, 1, 1)


def test_alternative_uses_html_when_plain_is_a_stub():
    html = "<html><body>" + "<p>Important notice about the budget.</p>" * 50 + "</body></html>"
    alt = mixed(([("Content-Type", "text/plain; charset=utf-8")], "Please view in HTML.\n"),
                ([("Content-Type", "text/html; charset=utf-8")], html + "\n"), boundary="ALT")
    r = sanitize(msg(BASE, alt, ctype='multipart/alternative; boundary="ALT"'))
    assert "Important notice about the budget." in r.body
    assert "Please view in HTML." not in r.body
    assert r.verdict == "sanitized"


def test_related_inline_image_removed():
    rel = mixed(([("Content-Type", "text/html; charset=utf-8")], "<p>Logo below</p>\n"),
                ([("Content-Type", "image/png"), ("Content-ID", "<logo@x>"),
                  ("Content-Transfer-Encoding", "base64")], "iVBORw0KGgo=\n"), boundary="REL")
    r = sanitize(msg(BASE, rel, ctype='multipart/related; boundary="REL"'))
    assert "Logo below" in r.body
    assert [(i["content_type"], i["reason"], i["size"]) for i in r.report["removed"]] == \
        [("image/png", "image", 8)]


def test_forwarded_message_is_quoted_and_its_attachment_listed():
    inner = ("From: Jiro <jiro@example.com>\nSubject: original\nDate: Mon, 23 Nov 2026 09:00:00 +0900\n"
             "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=IN\n\n"
             "--IN\nContent-Type: text/plain\n\nInner body line.\n"
             "--IN\nContent-Type: application/zip; name=x.zip\nContent-Disposition: attachment; filename=x.zip\n\nPK\n--IN--\n")
    outer = mixed(([("Content-Type", "text/plain")], "FYI\n"),
                  ([("Content-Type", "message/rfc822")], inner))
    r = sanitize(msg(BASE, outer, ctype='multipart/mixed; boundary="BOUND"'))
    assert r.body == ("FYI\n\n---------- 転送されたメッセージ ----------\n"
                      "> 差出人: Jiro <jiro[@]example[.]com>\n"
                      "> 日時: 2026-11-23 09:00:00 +0900\n"
                      "> 件名: original\n"
                      ">\n"
                      "> Inner body line.\n")
    assert [(i["filename"], i["reason"]) for i in r.report["removed"]] == [("x.zip", "attachment")]


def test_signed_and_encrypted_parts():
    signed = mixed(([("Content-Type", "text/plain")], "Signed text.\n"),
                   ([("Content-Type", "application/pkcs7-signature; name=smime.p7s")], "MIAGCSqG\n"),
                   boundary="SIG")
    r = sanitize(msg(BASE, signed,
                     ctype='multipart/signed; protocol="application/pkcs7-signature"; boundary="SIG"'))
    assert r.body == "Signed text.\n"
    assert [i["reason"] for i in r.report["removed"]] == ["signature"]
    enc = mixed(([("Content-Type", "application/pgp-encrypted")], "Version: 1\n"),
                ([("Content-Type", "application/octet-stream")], "-----BEGIN PGP MESSAGE-----\n"),
                boundary="ENC")
    r = sanitize(msg(BASE, enc, ctype='multipart/encrypted; protocol="application/pgp-encrypted"; boundary="ENC"'))
    assert [(i["content_type"], i["reason"]) for i in r.report["removed"]] == \
        [("application/pgp-encrypted", "encrypted"), ("application/octet-stream", "encrypted")]


@pytest.mark.parametrize("ctype,name,reason", [
    ("application/ms-tnef", "winmail.dat", "tnef"),
    ("text/calendar; method=REQUEST", "invite.ics", "calendar"),
    ("application/octet-stream", "setup.exe", "executable"),
    ("application/x-msdownload", "a.bin", "executable"),
    ("image/jpeg", "photo.jpg", "image"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx", "attachment"),
])
def test_removal_reasons(ctype, name, reason):
    body = mixed(([("Content-Type", "text/plain")], "x\n"),
                 ([("Content-Type", ctype), ("Content-Disposition", f"attachment; filename={name}")], "data\n"))
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="BOUND"'))
    assert [(i["filename"], i["reason"]) for i in r.report["removed"]] == [(name, reason)]


def test_text_attachment_is_removed_not_inlined():
    body = mixed(([("Content-Type", "text/plain")], "body\n"),
                 ([("Content-Type", "text/plain"), ("Content-Disposition", "attachment; filename=notes.txt")],
                  "secret notes\n"))
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="BOUND"'))
    assert r.body == "body\n"
    assert r.report["removed"][0]["filename"] == "notes.txt"


def test_header_keep_list_is_config():
    h = dict(BASE, **{"X-Priority": "1"})
    r = sanitize(msg(h, "x\n"))
    assert r.msg["X-Priority"] is None
    r = sanitize(msg(h, "x\n"), config="header_keep = From,To,Subject,X-Priority\n")
    assert str(r.msg["X-Priority"]) == "1"
    assert r.msg["Date"] is None and r.msg["Message-ID"] is None


def test_content_headers_never_kept_even_if_listed():
    r = sanitize(msg(BASE, "x\n"), config="header_keep = From,Content-Type,MIME-Version\n")
    assert r.msg.get_content_type() == "text/plain"
    assert len(r.msg.get_all("Content-Type")) == 1


def test_english_notice():
    body = mixed(([("Content-Type", "text/plain")], "x\n"),
                 ([("Content-Type", "image/gif"), ("Content-Disposition", "attachment; filename=a.gif")], "GIF89a\n"))
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="BOUND"'), config="notice_lang = en\n")
    assert r.notice.splitlines()[1] == \
        "[SANITIZED] This message was converted to plain text by the mugai gateway."
    assert "  1. 「a.gif」 (7 bytes) — image" in r.notice
    assert f"quote this id: {r.report['id']}" in r.notice


def test_custom_notice_template(tmp_path):
    tpl = tmp_path / "notice.txt"
    tpl.write_text("無害化 {verdict} / ID {id} / 削除 {count} 件\n{items}")
    body = mixed(([("Content-Type", "text/plain")], "x\n"),
                 ([("Content-Type", "image/gif"), ("Content-Disposition", "attachment; filename=a.gif")], "GIF89a\n"))
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="BOUND"'),
                 config=f"notice_template = {tpl}\n")
    assert r.notice == (f"無害化 sanitized / ID {r.report['id']} / 削除 1 件\r\n"
                        "  1. 「a.gif」 (7 バイト) — 画像")


def test_stdin_to_stdout():
    data = msg(BASE, "via pipes\n")
    p = subprocess.run([MUGAI, "mail", "sanitize"], input=data, capture_output=True, timeout=60)
    assert p.returncode == 0
    assert b"X-Mugai-Sanitized: verdict=clean" in p.stdout


def test_exit_codes(tmp_path):
    assert subprocess.run([MUGAI, "mail", "sanitize", "-x"], capture_output=True).returncode == 64
    assert subprocess.run([MUGAI, "mail", "sanitize", "a", "b", "c"], capture_output=True).returncode == 64
    r = subprocess.run([MUGAI, "mail", "sanitize", str(tmp_path / "missing.eml")], capture_output=True)
    assert r.returncode == 74 and b"missing.eml" in r.stderr
    src = tmp_path / "in.eml"
    src.write_bytes(msg(BASE, "x\n"))
    r = subprocess.run([MUGAI, "mail", "sanitize", str(src), str(tmp_path / "no" / "dir" / "out")],
                       capture_output=True)
    assert r.returncode == 74
    cf = tmp_path / "bad.cf"
    cf.write_text("link_style = sparkle\n")
    r = subprocess.run([MUGAI, "mail", "sanitize", "-c", str(cf), str(src)], capture_output=True)
    assert r.returncode == 78 and b"bad.cf:1: link_style" in r.stderr


def test_custom_notice_template_keeps_the_display_name_warning(tmp_path):
    tpl = tmp_path / "notice.txt"
    tpl.write_text("無害化 {verdict} / ID {id}\n")
    h = dict(BASE, From='"総務課 <soumu@city.example.lg.jp>" <evil@attacker.example>')
    r = sanitize(msg(h, "x\n"), config=f"notice_template = {tpl}\n")
    assert r.notice == (f"無害化 sanitized / ID {r.report['id']}\r\n"
                        "注意: 表示名にメールアドレスが含まれています（差出人）。本当の差出人を確認してください。")
    tpl.write_text("{name_warning}無害化 {verdict}\n")
    r = sanitize(msg(h, "x\n"), config=f"notice_template = {tpl}\n")
    assert r.notice == ("注意: 表示名にメールアドレスが含まれています（差出人）。本当の差出人を確認してください。\r\n"
                        "無害化 sanitized")
    r = sanitize(msg(BASE, "x\n"), config=f"notice_template = {tpl}\n")
    assert r.notice == "無害化 clean"
