"""Issue #8, classes 4, 5, 7, 10: files encoded inside text are cut out and
listed; every MIME leaf is either rendered or listed (exact accounting);
every notice says whose mail it is; fewer false quarantines."""
import binascii
import base64
import struct

from mailutil import msg, sanitize

BASE = {
    "From": "Taro Yamada <taro@example.jp>",
    "To": "hanako@example.lg.jp",
    "Subject": "invoice",
    "Date": "Tue, 24 Nov 2026 10:00:00 +0900",
    "Message-ID": "<acc1@example.jp>",
}

PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 2

HQX = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"


def uuencode(name, data, *, end=True):
    out = f"begin 644 {name}\n"
    for i in range(0, len(data), 45):
        out += binascii.b2a_uu(data[i:i + 45]).decode()
    return out + ("`\nend\n" if end else "")


def binhex(name, data):
    n = name.encode()
    h = bytes([len(n)]) + n + b"\0APPLMUGA\0\0" + struct.pack(">II", len(data), 0)
    raw = (h + struct.pack(">H", binascii.crc_hqx(h, 0)) + data +
           struct.pack(">H", binascii.crc_hqx(data, 0)) + b"\0\0").replace(b"\x90", b"\x90\x00")
    bits = "".join(f"{b:08b}" for b in raw)
    bits += "0" * (-len(bits) % 6)
    body = ":" + "".join(HQX[int(bits[i:i + 6], 2)] for i in range(0, len(bits), 6)) + ":"
    return ("(This file must be converted with BinHex 4.0)\n\n" +
            "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n")


def yenc(name, data):
    enc = bytes(((b + 42) % 256) for b in data)
    enc = enc.replace(b"=", b"==").replace(b"\0", b"=@").replace(b"\n", b"=J").replace(b"\r", b"=M")
    return (f"=ybegin line=128 size={len(data)} name={name}\n".encode() + enc +
            f"\n=yend size={len(data)}\n".encode())


def notice_items(r):
    return [l for l in r.notice.split("\r\n") if l.startswith("  ")]


def test_uuencoded_exe_in_text_is_cut_and_listed():
    body = "請求書を送ります。\n\n" + uuencode("invoice.exe", PE) + "\nよろしくお願いします。\n"
    r = sanitize(msg(BASE, body, cte="8bit"))
    assert r.verdict == "sanitized"
    assert r.body == "請求書を送ります。\n\n\nよろしくお願いします。\n"
    assert r.report["removed"] == [{"filename": "invoice.exe", "content_type": "text/x-uuencode",
                                    "size": len(PE), "reason": "encoded-file"}]
    assert notice_items(r) == ["  1. 「invoice.exe」 (528 バイト) — テキストに埋め込まれたファイル"]
    assert b"begin 644" not in r.raw and "begin 644" not in r.text


def test_uuencode_without_end_in_base64_part_is_still_cut():
    text = "前文\n" + uuencode("a.scr", PE, end=False) + "\n後文\n"
    r = sanitize(msg(BASE, base64.b64encode(text.encode()).decode() + "\n", cte="base64"))
    assert r.verdict == "sanitized"
    assert r.body == "前文\n\n後文\n"
    assert [(i["filename"], i["reason"]) for i in r.report["removed"]] == [("a.scr", "encoded-file")]


def test_binhex_block_is_cut_with_its_decoded_name():
    body = "Mac のファイルです。\n" + binhex("setup.exe", PE) + "以上。\n"
    r = sanitize(msg(BASE, body, cte="8bit"))
    assert r.verdict == "sanitized"
    assert r.body == "Mac のファイルです。\n以上。\n"
    assert r.report["removed"] == [{"filename": "setup.exe", "content_type": "application/mac-binhex40",
                                    "size": len(PE), "reason": "encoded-file"}]


def test_yenc_block_is_cut():
    body = b"news\n" + yenc("run.bat", b"@echo off\r\nformat c:\r\n") + b"bye\n"
    r = sanitize(msg(BASE, body, ctype="text/plain; charset=iso-8859-1", cte="8bit"))
    assert r.verdict == "sanitized"
    assert r.body == "news\nbye\n"
    assert r.report["removed"] == [{"filename": "run.bat", "content_type": "text/x-yenc",
                                    "size": 22, "reason": "encoded-file"}]


def test_uuencode_inside_html_pre_is_cut():
    html = ("<html><body><p>添付をご確認ください。</p><pre>\n" + uuencode("doc.exe", PE[:90]) +
            "</pre><p>以上</p></body></html>")
    r = sanitize(msg(BASE, html, ctype="text/html; charset=utf-8", cte="8bit"))
    assert r.verdict == "sanitized"
    assert "添付をご確認ください。" in r.body and "以上" in r.body
    assert "begin 644" not in r.body and "end\n" not in r.body.replace("\n\n", "\n")
    assert [(i["filename"], i["size"], i["reason"]) for i in r.report["removed"]] == \
        [("doc.exe", 90, "encoded-file")]


def test_begin_in_prose_is_kept():
    body = "We begin 644 tasks today.\nbegin at 10.\n"
    r = sanitize(msg(BASE, body))
    assert r.verdict == "clean"
    assert r.body == body


def mime(boundary, *parts, epilogue=""):
    out = ""
    for headers, body in parts:
        out += f"--{boundary}\n" + "".join(f"{k}: {v}\n" for k, v in headers) + "\n" + body + "\n"
    return out + f"--{boundary}--\n" + epilogue


def accounting(r):
    return (r.report["parts_total"], r.report["parts_rendered"], r.report["parts_listed"])


def test_every_unchosen_alternative_leaf_is_listed():
    inner = mime("MIX",
                 ([("Content-Type", "text/plain; charset=utf-8")], "hidden text"),
                 ([("Content-Type", "application/octet-stream; name=\"update.exe\""),
                   ("Content-Disposition", "attachment; filename=\"update.exe\""),
                   ("Content-Transfer-Encoding", "base64")], "TVqQAAMAAAAEAAAA"))
    alt = mime("ALT",
               ([("Content-Type", "text/plain; charset=utf-8")], "会議のご案内です。"),
               ([("Content-Type", "text/calendar; method=REQUEST; charset=utf-8")],
                "BEGIN:VCALENDAR\nEND:VCALENDAR"),
               ([("Content-Type", "text/x-amp-html; charset=utf-8")], "<html amp4email></html>"),
               ([("Content-Type", 'multipart/mixed; boundary="MIX"')], inner))
    r = sanitize(msg(BASE, alt, ctype='multipart/alternative; boundary="ALT"'))
    assert r.verdict == "sanitized"
    assert r.body == "会議のご案内です。\n"
    assert [(i["filename"], i["content_type"], i["reason"]) for i in r.report["removed"]] == [
        (None, "text/calendar", "alternative"),
        (None, "text/x-amp-html", "alternative"),
        (None, "text/plain", "alternative"),
        ("update.exe", "application/octet-stream", "alternative")]
    assert accounting(r) == (5, 1, 4)
    assert notice_items(r)[-1] == "  4. 「update.exe」 (12 バイト) — 代替表示"


def test_html_alternative_chosen_lists_the_plain_one():
    alt = mime("ALT", ([("Content-Type", "text/plain; charset=utf-8")], ""),
               ([("Content-Type", "text/html; charset=utf-8")], "<p>本文</p>"))
    r = sanitize(msg(BASE, alt, ctype='multipart/alternative; boundary="ALT"'))
    assert r.body == "本文\n"
    assert [(i["content_type"], i["reason"]) for i in r.report["removed"]] == [("text/plain", "alternative")]
    assert accounting(r) == (2, 1, 1)


def test_parts_after_the_close_delimiter_quarantine():
    body = mime("B", ([("Content-Type", "text/plain; charset=utf-8")], "表の本文"),
                epilogue="--B\nContent-Type: text/html\n\n<a href=\"https://evil.example/\">click</a>\n--B--\n")
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "quarantined"
    assert "parts after the closing boundary" in r.report["warnings"]
    assert "  - 終わりの区切りの後にも部分があります" in r.notice.split("\r\n")
    assert "evil" not in r.text


def test_header_block_in_epilogue_quarantines_too():
    body = mime("B", ([("Content-Type", "text/plain")], "x"),
                epilogue="\ncontent-type: application/x-msdownload\n\nMZ\n")
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "quarantined"


def test_ordinary_epilogue_is_fine():
    body = mime("B", ([("Content-Type", "text/plain")], "x"), epilogue="This is the end.\n")
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "clean"
    assert r.body == "x\n"


def test_zip_labelled_text_html_is_listed_not_rendered():
    zipbytes = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 8
    body = mime("B", ([("Content-Type", "text/plain; charset=utf-8")], "見積書を送ります。"),
                ([("Content-Type", "text/html; charset=utf-8"), ("Content-Transfer-Encoding", "base64")],
                 base64.encodebytes(zipbytes).decode()))
    r = sanitize(msg(BASE, body, ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "sanitized"
    assert r.body == "見積書を送ります。\n"
    assert "\ufffd" not in r.text
    assert r.report["decoding_losses"] == 0
    assert [(i["content_type"], i["size"], i["reason"]) for i in r.report["removed"]] == \
        [("text/html", len(zipbytes), "not-text")]
    assert notice_items(r) == [
        "  1. (名前なし) (2,058 バイト) — テキストと表示されているがテキストではない内容"]
    assert accounting(r) == (2, 1, 1)


def test_binary_without_nul_labelled_text_is_listed():
    junk = bytes([0xfd, 0xfe, 0xff, 0x80]) * 100  # no character in any Japanese charset
    r = sanitize(msg(BASE, base64.encodebytes(junk).decode(), ctype="text/plain; charset=utf-8",
                     cte="base64"))
    assert [i["reason"] for i in r.report["removed"]] == ["not-text"]
    assert r.report["decoding_losses"] == 0
    assert r.body == ""


def test_a_few_bad_bytes_stay_text_and_are_counted():
    r = sanitize(msg(BASE, b"\xe3\x81\x82 ok \xff\xfe done\n", cte="8bit"))
    assert r.verdict == "sanitized"
    assert r.body.startswith("あ ok ")
    assert r.report["decoding_losses"] == r.body.count("\ufffd") > 0


BOUNCE = {"From": "MAILER-DAEMON@example.jp", "To": "taro@example.jp",
          "Subject": "Undelivered Mail", "Date": "Tue, 24 Nov 2026 10:00:00 +0900"}


def bounce(inner):
    return mime("B", ([("Content-Type", "text/plain; charset=utf-8")], "配送できませんでした。"),
                ([("Content-Type", "message/rfc822")], inner))


def test_defect_inside_attached_message_withholds_only_that_message():
    inner = ("From: x@example.com\nSubject: =?UTF-8?B?6KuL5rGC5pu4?=\n[from here, a copy of the original]\n\n"
             "<a href=\"https://evil.example/\">x</a>\n")
    r = sanitize(msg(BOUNCE, bounce(inner), ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "sanitized"
    assert r.body == "配送できませんでした。\n"
    assert [(i["content_type"], i["reason"]) for i in r.report["removed"]] == [("message/rfc822", "malformed")]
    # listed under its decoded Subject
    assert notice_items(r) == ["  1. 「請求書」 (123 バイト) — 構造を確定できない転送メール"]
    assert "evil" not in r.text
    assert accounting(r) == (2, 1, 1)


def test_conflicting_content_type_inside_attached_message_withholds_it():
    inner = ("From: x@example.com\nContent-Type: text/plain\nContent-Type: text/html\n\n<b>x</b>\n")
    r = sanitize(msg(BOUNCE, bounce(inner), ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "sanitized"
    assert [i["reason"] for i in r.report["removed"]] == ["malformed"]


def test_defect_in_the_outer_message_still_quarantines():
    body = ("--B\nContent-Type: text/plain\nContent-Type: text/html\n\n<b>x</b>\n"
            "--B\nContent-Type: message/rfc822\n\nFrom: x@example.com\n\nfine\n--B--\n")
    r = sanitize(msg(BOUNCE, body, ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "quarantined"


def test_intact_attached_message_is_rendered():
    inner = "From: x@example.com\nSubject: orig\n\n元のメール\n"
    r = sanitize(msg(BOUNCE, bounce(inner), ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "clean"
    assert "> 元のメール" in r.body


# --- class 7: every notice says whose mail it is ---------------------------

WHOSE = {"From": "=?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>", "To": "hanako@example.lg.jp",
         "Cc": "soumu@example.lg.jp", "Subject": "=?UTF-8?B?6KuL5rGC5pu4?=",
         "Date": "Tue, 24 Nov 2026 10:00:00 +0900"}
WHOSE_LINES = ["差出人: 「山田太郎 <taro[@]example[.]jp>」", "宛先: 「hanako[@]example[.]lg[.]jp」",
               "Cc: 「soumu[@]example[.]lg[.]jp」", "件名: 「請求書」", "日時: 2026-11-24 10:00:00 +0900"]


def notice_lines(r):
    return r.notice.split("\r\n")


def test_line_over_line_length_max_notice_names_the_mail():
    r = sanitize(msg(WHOSE, "x" * (2 << 20) + "\n"))
    assert r.verdict == "quarantined"
    assert r.report["limits_hit"] == ["line_length_max"]
    assert notice_lines(r)[2:7] == WHOSE_LINES
    assert notice_lines(r)[7:9] == ["隔離の理由:", "  - 長すぎる行があります"]
    assert r.msg["From"].addresses[0].addr_spec == "taro@example.jp"
    assert r.report["header_unreadable"] is False


def test_header_over_header_bytes_max_notice_names_the_mail():
    junk = "".join(f"X-Junk-{i}: {'a' * 70}\n" for i in range(4000))  # ~330 KB
    r = sanitize(msg(WHOSE, "body\n").replace(b"MIME-Version", (junk + "MIME-Version").encode(), 1))
    assert r.verdict == "quarantined"
    assert r.report["limits_hit"] == ["header_bytes_max"]
    assert notice_lines(r)[2:7] == WHOSE_LINES


def test_message_over_message_size_max_notice_names_the_mail():
    r = sanitize(msg(WHOSE, "y" * 3000 + "\n"), config="message_size_max = 1024\n")
    assert r.verdict == "quarantined"
    assert r.report["limits_hit"] == ["message_size_max"]
    assert notice_lines(r)[2:7] == WHOSE_LINES


def test_unreadable_header_shows_the_envelope_sender():
    data = ("X-Junk: " + "a" * (300 * 1024) + "\nFrom: late@example.jp\n\nbody\n").encode()
    r = sanitize(data, extra=["--sender", "bounce@example.com"])
    assert r.verdict == "quarantined"
    assert r.report["header_unreadable"] is True
    assert r.report["envelope_sender"] == "bounce@example.com"
    assert notice_lines(r)[2:4] == ["ヘッダーを読み取れませんでした。",
                                    "送信元 (エンベロープ): 「bounce[@]example[.]com」"]


def test_folded_header_values_stay_on_one_line_in_the_notice():
    h = dict(WHOSE, Subject="=?UTF-8?B?6KuL5rGC5pu4?=\n =?UTF-8?B?44Gu44GU5qGI5YaF?=")
    r = sanitize(msg(h, "x" * (2 << 20) + "\n"))
    assert "件名: 「請求書のご案内」" in notice_lines(r)


# --- class 10: carrier decomail is delivered -------------------------------
# Built after the shapes docomo, au and SoftBank send (multipart/related with
# inline images, Shift_JIS / ISO-2022-JP with a carrier emoji) and Apple Mail
# on an iPhone forwarding one (alternative of plain and related HTML).

GIF = base64.b64encode(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;").decode()
def docomo():
    sj = lambda s: s.encode("cp932")
    plain = sj("今日は晴れです。\r\nまたね") + b"\xf8\x9f\r\n"
    html = sj('<html><body><div style="color:#ff0000">今日は<img src="cid:deco01@docomo.ne.jp">晴れです。</div><br>またね') + b"\xf8\x9f" + sj("</body></html>\r\n")
    return (b"From: =?Shift_JIS?B?jtKQ5g==?= <taro.deco@docomo.ne.jp>\r\nTo: soumu@city.example.lg.jp\r\n"
            b"Subject: =?Shift_JIS?B?k/qWe4zq?=\r\nDate: Tue, 24 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/related; boundary="--_DECO_1"; type="multipart/alternative"\r\n\r\n'
            b'----_DECO_1\r\nContent-Type: multipart/alternative; boundary="--_DECO_2"\r\n\r\n'
            b'----_DECO_2\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' + plain +
            b'----_DECO_2\r\nContent-Type: text/html; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' + html +
            b'----_DECO_2--\r\n\r\n----_DECO_1\r\nContent-Type: image/gif; name="deco01.gif"\r\nContent-Transfer-Encoding: base64\r\n'
            b'Content-ID: <deco01@docomo.ne.jp>\r\n\r\n' + GIF.encode() + b'\r\n----_DECO_1--\r\n')
def au():
    jis = lambda s: s.encode("iso-2022-jp")
    return (b"From: hanako@ezweb.ne.jp\r\nTo: soumu@city.example.lg.jp\r\nSubject: =?ISO-2022-JP?B?GyRCJEskYyQzGyhC?=\r\n"
            b"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="AU_B1"\r\n\r\n'
            b'--AU_B1\r\nContent-Type: multipart/related; boundary="AU_B2"\r\n\r\n'
            b'--AU_B2\r\nContent-Type: multipart/alternative; boundary="AU_B3"\r\n\r\n'
            b'--AU_B3\r\nContent-Type: text/plain; charset="iso-2022-jp"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n' + jis("猫の写真です。") + b'\r\n'
            b'--AU_B3\r\nContent-Type: text/html; charset="Shift_JIS"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
            b'<html><body>=94=4C=82=CC=8E=CA=90=5E=82=C5=82=B7=81=42<img src=3D"cid:au01"></body></html>\r\n'
            b'--AU_B3--\r\n--AU_B2\r\nContent-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <au01>\r\n\r\n' + GIF.encode() +
            b'\r\n--AU_B2--\r\n--AU_B1--\r\n')
def softbank():
    return (b"From: jiro@i.softbank.jp\r\nTo: soumu@city.example.lg.jp\r\nSubject: =?UTF-8?B?44GK55+l44KJ44Gb?=\r\n"
            b"Date: Tue, 24 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/related; type="text/html"; boundary="SB1"\r\n\r\n'
            b'--SB1\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
            base64.encodebytes('<html><body><p>明日の会議は10時からです。</p><img src="cid:sb01@softbank"></body></html>'.encode()).replace(b"\n", b"\r\n") +
            b'--SB1\r\nContent-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <sb01@softbank>\r\nContent-Disposition: inline\r\n\r\n' + GIF.encode() +
            b'\r\n--SB1--\r\n')
def iphone_fwd():
    inner = docomo().split(b"\r\n\r\n", 1)[1]
    return (b"From: =?UTF-8?B?5bGx55Sw?= <taro@icloud.com>\r\nTo: soumu@city.example.lg.jp\r\nSubject: =?UTF-8?B?RnduOiDmnKzml6U=?=\r\n"
            b"Date: Tue, 24 Nov 2026 10:05:00 +0900\r\nMIME-Version: 1.0 (1.0)\r\nX-Mailer: iPhone Mail (21A)\r\n"
            b'Content-Type: multipart/alternative; boundary=Apple-Mail-A1\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
            b'--Apple-Mail-A1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
            b'=E8=BB=A2=E9=80=81=E3=81=97=E3=81=BE=E3=81=99=E3=80=82\r\n\r\n'
            b'--Apple-Mail-A1\r\nContent-Type: multipart/related; type="text/html"; boundary=Apple-Mail-A2\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
            b'--Apple-Mail-A2\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
            b'<html><body><div>=E8=BB=A2=E9=80=81=E3=81=97=E3=81=BE=E3=81=99=E3=80=82</div><blockquote type=3D"cite"><img src=3D"cid:x1"></blockquote></body></html>\r\n'
            b'--Apple-Mail-A2\r\nContent-Type: image/gif; name=deco01.gif\r\nContent-Disposition: inline; filename=deco01.gif\r\nContent-Transfer-Encoding: base64\r\nContent-Id: <x1>\r\n\r\n' + GIF.encode() +
            b'\r\n--Apple-Mail-A2--\r\n\r\n--Apple-Mail-A1--\r\n')


def deco_summary(r):
    return [(i["content_type"], i["reason"]) for i in r.report["removed"]]


def test_docomo_decomail_is_delivered():
    r = sanitize(docomo())
    assert r.verdict == "sanitized"
    assert r.body == "今日は晴れです。\nまたね\ue63e\n"
    assert deco_summary(r) == [("text/html", "alternative"), ("image/gif", "image")]
    assert notice_items(r)[1] == "  2. 「deco01.gif」 (43 バイト) — 画像"
    assert accounting(r) == (3, 1, 2)


def test_au_decomail_is_delivered():
    r = sanitize(au())
    assert r.verdict == "sanitized"
    assert r.body == "猫の写真です。\n"
    assert deco_summary(r) == [("text/html", "alternative"), ("image/gif", "image")]


def test_softbank_decomail_is_delivered():
    r = sanitize(softbank())
    assert r.verdict == "sanitized"
    assert r.body == "明日の会議は10時からです。\n"
    assert deco_summary(r) == [("image/gif", "image")]
    assert r.report["warnings"] == [] and r.report["limits_hit"] == []


def test_decomail_forwarded_from_iphone_is_delivered():
    r = sanitize(iphone_fwd())
    assert r.verdict == "sanitized"
    assert r.body == "転送します。\n"
    # the plain part carries the same words as the HTML (stub rule): the whole
    # multipart/related alternative is listed leaf by leaf
    assert deco_summary(r) == [("text/html", "alternative"), ("image/gif", "alternative")]
    assert r.report["warnings"] == []


def test_control_and_bidi_characters_cannot_hide_a_uuencode_header():
    for hide in ("\x01", "\u202e", "\x7f", "\u0085"):
        body = f"前\n{hide}beg{hide}in 644 a.exe\n" + uuencode("", PE[:45]).split("\n", 1)[1] + "後\n"
        r = sanitize(msg(BASE, body.encode(), cte="8bit"))
        assert r.verdict == "sanitized", hide
        assert r.body == "前\n後\n", (hide, r.body)
        assert [(i["filename"], i["reason"]) for i in r.report["removed"]] == [("a.exe", "encoded-file")]


def test_defects_next_to_an_attached_message_are_not_attributed_to_it():
    """Red team: a defect in the part headers of the message/rfc822 part, or in
    the sibling after it, is the outer structure's: quarantine."""
    fine = "From: x@example.com\n\nfine"
    for body in (
            mime("B", ([("Content-Type", "message/rfc822")], fine),
                 ([("Content-Type", "text/plain"), ("Content-Type", "text/html")], "<a href='https://evil.example/'>x</a>")),
            mime("B", ([("Content-Type", "message/rfc822")], fine),
                 ([("Content-Type", "text/plain"), ("Bad Header", "x")], "after")),
            mime("B", ([("Content-Type", "message/rfc822"), ("Content-Type", "text/plain")], fine)),
            mime("B", ([("Content-Type", "message/rfc822")],
                       "From: x@example.com\nContent-Type: multipart/mixed; boundary=I\n\n--I\n"
                       "Content-Type: text/plain\n\na\n--I--\n"),
                 ([("Content-Type", "text/plain"), ("Content-Transfer-Encoding", "base64"),
                   ("Content-Transfer-Encoding", "7bit")], "after"))):
        r = sanitize(msg(BOUNCE, body, ctype='multipart/mixed; boundary="B"'))
        assert r.verdict == "quarantined", body


def test_attached_message_without_any_header_is_withheld_not_the_mail():
    body = mime("B", ([("Content-Type", "text/plain; charset=utf-8")], "配送できませんでした。"),
                ([("Content-Type", "message/rfc822")], "[original message goes here]\n"))
    r = sanitize(msg(BOUNCE, body, ctype='multipart/mixed; boundary="B"'))
    assert r.verdict == "sanitized"
    assert r.body == "配送できませんでした。\n"
    assert [(i["content_type"], i["reason"]) for i in r.report["removed"]] == [("message/rfc822", "malformed")]


def test_english_notice_names_the_mail_too():
    r = sanitize(msg(WHOSE, "x" * (2 << 20) + "\n"), config="notice_lang = en\n")
    assert notice_lines(r)[1:8] == [
        "[QUARANTINED] This message could not be made safe; its content was withheld.",
        "From: 「山田太郎 <taro[@]example[.]jp>」", "To: 「hanako[@]example[.]lg[.]jp」",
        "Cc: 「soumu[@]example[.]lg[.]jp」", "Subject: 「請求書」", "Date: 2026-11-24 10:00:00 +0900", "Reason:"]
