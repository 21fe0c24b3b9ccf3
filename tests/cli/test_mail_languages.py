"""Every language decodes (issue #8, class 8): an honest label is honoured
for every charset iconv knows, inside the sandboxed worker; sniffing only
overrides a label the bytes prove false. Exact text, read back with
Python's email parser."""
import base64

import pytest

from mailutil import msg, sanitize

BASE = {
    "From": "Sender <sender@example.org>",
    "To": "kokusai@city.example.lg.jp",
    "Date": "Tue, 24 Nov 2026 10:00:00 +0900",
    "Message-ID": "<lang@example.org>",
}

# (text, label, python codec)
HONEST = [
    ("Die Frösche quaken. Größe: 5 €, Œuvre", "iso-8859-15", "iso-8859-15"),
    ("Die Frösche quaken. Größe: 5 cm, Intel®", "iso-8859-1", "latin-1"),
    ("Il était une fois… « déjà » — Noël à Orléans", "windows-1252", "cp1252"),
    ("A reunião em São Paulo não começará às três horas.", "iso-8859-1", "latin-1"),
    ("A reunião “começará” às 10h – obrigado!", "windows-1252", "cp1252"),
    ("שלום, הפגישה תתקיים מחר", "iso-8859-8", "iso-8859-8"),
    ("שלום עולם", "iso-8859-8-i", "iso-8859-8"),
    ("Привет! Встреча завтра в 10 часов.", "koi8-r", "koi8_r"),
    ("Привет, мир", "windows-1251", "cp1251"),
    ("会议将于明天上午十点举行。", "gb2312", "gb2312"),
    ("會議將於明天上午十點舉行。", "big5", "big5"),
    ("회의는 내일 오전 10시에 열립니다.", "euc-kr", "euc_kr"),
    ("Καλημέρα κόσμε", "iso-8859-7", "iso-8859-7"),
    ("Zażółć gęślą jaźń", "iso-8859-2", "iso-8859-2"),
]


@pytest.mark.parametrize("text,label,codec", HONEST, ids=[h[1] + "-" + str(i) for i, h in enumerate(HONEST)])
def test_honest_label_body(text, label, codec):
    body = base64.encodebytes((text + "\n").encode(codec))
    r = sanitize(msg({**BASE, "Subject": "x"}, body, ctype=f"text/plain; charset={label}",
                     cte="base64"))
    assert r.body == text + "\n"
    assert r.report["decoding_losses"] == 0


@pytest.mark.parametrize("text,label,codec", HONEST, ids=[h[1] + "-" + str(i) for i, h in enumerate(HONEST)])
def test_honest_label_subject(text, label, codec):
    subject = text[:20].strip()
    word = base64.b64encode(subject.encode(codec)).decode()
    r = sanitize(msg({**BASE, "Subject": f"=?{label}?B?{word}?="}, "body\n"))
    assert r.msg["Subject"] == subject


def test_8bit_latin1_body_unlabelled_is_windows_1252():
    r = sanitize(msg({**BASE, "Subject": "x"}, "Die Frösche, Intel®\n".encode("latin-1"),
                     ctype="text/plain", cte="8bit"))
    assert r.body == "Die Frösche, Intel®\n"


def test_us_ascii_label_with_latin_bytes():
    r = sanitize(msg({**BASE, "Subject": "x"}, "Frédéric’s café\n".encode("cp1252"),
                     ctype="text/plain; charset=us-ascii", cte="8bit"))
    assert r.body == "Frédéric’s café\n"


def test_latin_label_on_shift_jis_is_proven_japanese():
    text = "会議の資料を送付します。"
    r = sanitize(msg({**BASE, "Subject": "x"}, (text + "\n").encode("cp932"),
                     ctype="text/plain; charset=iso-8859-1", cte="8bit"))
    assert r.body == text + "\n"


def test_utf8_mislabelled_latin1():
    r = sanitize(msg({**BASE, "Subject": "x"}, "Größe 5 €\n".encode("utf-8"),
                     ctype="text/plain; charset=iso-8859-1", cte="8bit"))
    assert r.body == "Größe 5 €\n"


def test_undefined_byte_in_honest_label_is_counted():
    # 0xFF is undefined in ISO-8859-8: one replacement, counted
    raw = "שלום".encode("iso-8859-8") + b"\xff\n"
    r = sanitize(msg({**BASE, "Subject": "x"}, raw, ctype="text/plain; charset=iso-8859-8",
                     cte="8bit"))
    assert r.body == "שלום\ufffd\n"
    assert r.report["decoding_losses"] == 1


def test_raw_8bit_latin_subject():
    raw = msg({**BASE, "Subject": "PLACEHOLDER"}, "body\n").replace(
        b"PLACEHOLDER", "Intel® Frösche".encode("latin-1"))
    r = sanitize(raw)
    assert r.msg["Subject"] == "Intel® Frösche"


def test_rfc2231_filename_in_koi8r():
    body = ("--B\nContent-Type: text/plain; charset=utf-8\n\nsee attached\n"
            "--B\nContent-Type: application/octet-stream\n"
            "Content-Disposition: attachment; filename*=koi8-r''%F3%DE%C5%D4.pdf\n"
            "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--B--\n")
    r = sanitize(msg({**BASE, "Subject": "x"}, body, ctype='multipart/mixed; boundary="B"'))
    assert "Счет.pdf" in r.notice


# Every other table charset Python can encode, inside the sandboxed worker
# (a converter missing from the preload would crash the worker: quarantine).
MORE = [
    ("iso-8859-3", "iso-8859-3", "Ħal"), ("iso-8859-4", "iso-8859-4", "Ķīļ"),
    ("iso-8859-5", "iso-8859-5", "Привет"), ("iso-8859-6", "iso-8859-6", "مرحبا"),
    ("iso-8859-9", "iso-8859-9", "Türkçe ğış"), ("iso-8859-10", "iso-8859-10", "Ŋŧ"),
    ("iso-8859-13", "iso-8859-13", "Ąčę"), ("iso-8859-14", "iso-8859-14", "Ḃḟ"),
    ("iso-8859-16", "iso-8859-16", "Șț"), ("windows-1250", "cp1250", "Zażółć"),
    ("windows-1253", "cp1253", "Καλημέρα"), ("windows-1254", "cp1254", "Türkçe"),
    ("windows-1255", "cp1255", "שלום"), ("windows-1256", "cp1256", "مرحبا"),
    ("windows-1257", "cp1257", "Ąčę"), ("windows-1258", "cp1258", "Xin chào"),
    ("windows-874", "cp874", "สวัสดี"), ("koi8-u", "koi8_u", "Привіт"),
    ("ibm866", "cp866", "Привет"), ("macintosh", "mac_roman", "Café"),
    ("ibm437", "cp437", "Café"), ("ibm850", "cp850", "Café"),
    ("ibm852", "cp852", "Zażółć"), ("ibm855", "cp855", "Привет"),
    ("ibm857", "cp857", "Türkçe"), ("ibm862", "cp862", "שלום"),
    ("x-mac-cyrillic", "mac_cyrillic", "Привет"), ("pt154", "ptcp154", "Сәлем"),
    ("gbk", "gbk", "会议"), ("gb18030", "gb18030", "会议𠀀"),
    ("big5-hkscs", "big5hkscs", "會議"), ("cp949", "cp949", "똠방각하"),
    ("johab", "johab", "한국어"), ("utf-16", "utf-16", "多言語"),
    ("iso-2022-kr", "iso2022_kr", "한국어"),
]


@pytest.mark.parametrize("label,codec,text", MORE, ids=[m[0] for m in MORE])
def test_every_table_charset_in_the_worker(label, codec, text):
    body = base64.encodebytes((text + "\n").encode(codec))
    r = sanitize(msg({**BASE, "Subject": "x"}, body, ctype=f"text/plain; charset={label}",
                     cte="base64"))
    assert r.verdict != "quarantined"
    assert r.body == text + "\n"
    assert r.report["decoding_losses"] == 0
