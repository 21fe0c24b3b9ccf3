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
    assert notice_items(r) == ["  1. invoice.exe (text/x-uuencode, 528 バイト) — テキストに埋め込まれたファイル"]
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
