"""Japanese decoding through the whole mail path (issue #2 §3): every case
asserts the exact text a reader gets, read back with Python's email parser."""
import base64
import os
import urllib.parse

import pytest

from mailutil import CORPUS, msg, sanitize

NEC = "①②③ ㈱ № ⅰ ㍉ 髙 﨑"


def sjis_to_jis(b1, b2):
    """Shift_JIS byte pair -> JIS X 0208 row/cell bytes (CP50220 practice)."""
    j1 = ((b1 - 0x70) if b1 < 0xA0 else (b1 - 0xB0)) * 2
    if b2 < 0x9F:
        j1 -= 1
        j2 = b2 - 0x1F if b2 < 0x80 else b2 - 0x20
    else:
        j2 = b2 - 0x7E
    return bytes([j1, j2])


def jis(text):
    """Encode as ISO-2022-JP the way Outlook's CP50221 does: JIS X 0208
    incl. NEC row 13 and NEC-selected IBM rows 89-92, ESC ( I kana."""
    out, mode = bytearray(), "A"
    for ch in text:
        sj = ch.encode("cp932")
        want = "A" if sj[0] < 0x80 else ("K" if len(sj) == 1 else "J")
        if want != mode:
            out += {"A": b"\x1b(B", "K": b"\x1b(I", "J": b"\x1b$B"}[want]
            mode = want
        out += sj if want == "A" else (bytes([sj[0] - 0x80]) if want == "K" else sjis_to_jis(*sj))
    if mode != "A":
        out += b"\x1b(B"
    return bytes(out)


def ew(charset, data):
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


H = {"From": "sender@example.jp", "To": "soumu@example-town.lg.jp", "Subject": "test"}


def test_iso2022jp_nec_and_ibm_extensions_in_body_and_subject():
    h = dict(H, Subject=ew("ISO-2022-JP", jis("件名" + NEC)))
    r = sanitize(msg(h, jis("本文 " + NEC + "\n"), ctype="text/plain; charset=ISO-2022-JP"))
    assert str(r.msg["Subject"]) == "件名" + NEC
    assert r.body == "本文 " + NEC + "\n"
    assert r.report["decoding_losses"] == 0
    assert r.report["subject"] == "件名" + NEC


def test_halfwidth_katakana_esc_paren_i():
    r = sanitize(msg(H, jis("ｼｽﾃﾑ更新のお知らせ ｱｲｳ\n"), ctype="text/plain; charset=iso-2022-jp"))
    assert r.body == "ｼｽﾃﾑ更新のお知らせ ｱｲｳ\n"


def test_iso2022jp_without_charset_parameter():
    r = sanitize(msg(H, jis("文字コード指定なし①\n"), ctype="text/plain"))
    assert r.body == "文字コード指定なし①\n"


def test_message_with_no_content_type_at_all():
    data = b"From: a@example.jp\nSubject: none\n\n" + jis("ヘッダなし本文\n")
    r = sanitize(data)
    assert r.body == "ヘッダなし本文\n"


@pytest.mark.parametrize("label,data,text", [
    ("ISO-2022-JP", "請求書を送付します①".encode("cp932"), "請求書を送付します①"),        # CP932 mislabelled
    ("ISO-2022-JP", "ユーティーエフ８です①".encode("utf-8"), "ユーティーエフ８です①"),   # UTF-8 mislabelled
    ("Shift_JIS", "ユーティーエフ８です".encode("utf-8"), "ユーティーエフ８です"),
    ("EUC-JP", "日本語と補助漢字丂".encode("euc_jp"), "日本語と補助漢字丂"),           # JIS X 0212 via SS3
    ("ISO-2022-JP", "イーユーシーです".encode("euc_jp"), "イーユーシーです"),          # EUC-JP mislabelled
])
def test_lying_and_legacy_labels(label, data, text):
    r = sanitize(msg(H, data + b"\n", ctype=f"text/plain; charset={label}", cte="8bit"))
    assert r.body == text + "\n"
    assert r.report["decoding_losses"] == 0


@pytest.mark.parametrize("label", ["x-sjis", "shift-jis", "ms932", "windows-31j", "cp932"])
def test_shift_jis_labels(label):
    r = sanitize(msg(H, "①ラベル確認".encode("cp932") + b"\n", ctype=f"text/plain; charset={label}",
                     cte="8bit"))
    assert r.body == "①ラベル確認\n"


@pytest.mark.parametrize("label,data", [
    ("iso-2022-jp-ms", jis("①ラベル確認")),
    ("x-euc-jp", "①ラベル確認".encode("cp932").decode("cp932").encode("euc_jis_2004")),
    ("utf8", "①ラベル確認".encode("utf-8")),
])
def test_other_labels(label, data):
    r = sanitize(msg(H, data + b"\n", ctype=f"text/plain; charset={label}", cte="8bit"))
    assert r.body == "①ラベル確認\n"


def test_encoded_words_split_mid_character_across_words_and_lines():
    raw = "日本語の件名".encode("utf-8")
    # split inside the UTF-8 sequence of 本 and of 件, across folded lines
    words = [raw[:4], raw[4:11], raw[11:]]
    subject = "\n ".join(ew("UTF-8", w) for w in words)
    j = jis("漢字の件名")
    jwords = [j[:5], j[5:9], j[9:]]   # ESC $ B in one word, kanji bytes in the next
    h = dict(H, Subject=subject, **{"X-Other": "x"})
    r = sanitize(msg(h, "x\n"))
    assert str(r.msg["Subject"]) == "日本語の件名"
    h = dict(H, Subject="\n\t".join(ew("ISO-2022-JP", w) for w in jwords))
    r = sanitize(msg(h, "x\n"))
    assert str(r.msg["Subject"]) == "漢字の件名"


def test_encoded_word_with_wrong_charset_label():
    h = dict(H, Subject=ew("ISO-2022-JP", "シフトジスの件名".encode("cp932")))
    r = sanitize(msg(h, "x\n"))
    assert str(r.msg["Subject"]) == "シフトジスの件名"


@pytest.mark.parametrize("enc", ["cp932", "utf-8"])
def test_raw_8bit_headers(enc):
    data = (b"From: " + "山田 太郎".encode(enc) + b" <taro@example.jp>\nTo: b@example.lg.jp\nSubject: "
            + "生の8ビット件名①".encode(enc) + b"\n\nbody\n")
    r = sanitize(data)
    assert str(r.msg["Subject"]) == "生の8ビット件名①"
    assert r.msg["From"].addresses[0].display_name == "山田 太郎"
    assert r.msg["From"].addresses[0].addr_spec == "taro@example.jp"


def attachment_with(disposition):
    return msg(H, "--B\nContent-Type: text/plain\n\nsee file\n--B\nContent-Type: application/pdf\n"
               f"Content-Disposition: {disposition}\n\nJVBERi0=\n--B--\n",
               ctype='multipart/mixed; boundary="B"')


def test_rfc2231_continuation_filename_iso2022jp():
    j = jis("見積書①.pdf")
    pct = urllib.parse.quote_from_bytes(j, safe="")
    half = len(pct) // 2
    while pct[half - 1] == "%" or pct[half - 2] == "%":
        half += 1
    disp = f"attachment;\n filename*0*=ISO-2022-JP''{pct[:half]};\n filename*1*={pct[half:]}"
    r = sanitize(attachment_with(disp))
    assert r.report["removed"][0]["filename"] == "見積書①.pdf"
    assert "1. 「見積書①.pdf」 (" in r.notice


def test_raw_cp932_filename():
    data = (b"From: a@example.jp\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
            b"--B\nContent-Type: text/plain\n\nx\n--B\nContent-Type: application/vnd.ms-excel\n"
            b"Content-Disposition: attachment; filename=\"" + "集計表②.xls".encode("cp932") + b"\"\n\nxx\n--B--\n")
    r = sanitize(data)
    assert r.report["removed"][0]["filename"] == "集計表②.xls"


def test_encoded_words_inside_addresses_cannot_inject_recipients():
    h = dict(H, To="=?utf-8?q?evil=40attacker.example=2C_x=40y=2Eexample?= <real@example.lg.jp>",
             Cc=f"\"{ew('ISO-2022-JP', jis('総務課'))}\" <soumu@example.lg.jp>")
    r = sanitize(msg(h, "x\n"))
    to = r.msg["To"].addresses
    assert [a.addr_spec for a in to] == ["real@example.lg.jp"]
    # a display name holding addresses: disarmed, and named in the notice
    assert to[0].display_name == "evil[@]attacker[.]example, x[@]y[.]example"
    assert "注意: 表示名にメールアドレスが含まれています（宛先）。本当の差出人を確認してください。" in r.notice
    cc = r.msg["Cc"].addresses
    assert [(a.display_name, a.addr_spec) for a in cc] == [("総務課", "soumu@example.lg.jp")]


def test_undecodable_bytes_are_counted_not_dropped():
    r = sanitize(msg(H, b"ok \xff\xfe end\n", ctype="text/plain; charset=utf-8", cte="8bit"))
    assert r.report["decoding_losses"] == 2
    assert r.body == "ok \ufffd\ufffd end\n"


def test_gmime_japanese_oracle_through_mail():
    d = os.path.join(CORPUS, "text", "jp")
    if not os.path.isdir(d):
        pytest.skip("../shared/corpus absent")
    want = open(os.path.join(d, "gmime_japanese.utf-8.txt"), "rb").read().decode("utf-8")
    for name, label in (("gmime_japanese.iso-2022-jp.txt", "iso-2022-jp"),
                        ("gmime_japanese.shift-jis.txt", "shift_jis")):
        data = open(os.path.join(d, name), "rb").read()
        r = sanitize(msg(H, data, ctype=f"text/plain; charset={label}", cte="8bit"))
        assert r.body == want.replace("\r\n", "\n"), name
        assert r.report["decoding_losses"] == 0


def test_idn_domain_becomes_ace_and_8bit_local_part_is_dropped():
    data = ("From: 山田 <taro@例え.jp>\nTo: 花子 <はなこ@example.jp>, ok@example.lg.jp\n"
            "Subject: idn\n\nx\n").encode("utf-8")
    r = sanitize(data)
    assert [(a.display_name, a.addr_spec) for a in r.msg["From"].addresses] == \
        [("山田", "taro@xn--r8jz45g.jp")]
    assert [a.addr_spec for a in r.msg["To"].addresses] == ["ok@example.lg.jp"]
    assert "address that cannot be written in ASCII dropped" in r.report["warnings"]
    assert all(b < 0x80 for b in r.raw)
