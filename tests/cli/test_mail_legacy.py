"""`mugai mail sanitize` with attachments = sanitize: legacy .doc/.xls/.ppt/.rtf
attachments are converted by LibreOffice in its jail (started by the CLI
between two worker passes, mail/conv.h) and flattened in the sandboxed worker.

The rebuilt mail is read with Python's email parser; the PDF with pdfimages,
pdffonts, pdftotext and qpdf; the intermediate PDF (LibreOffice's, before
flatten) through build/tests/test_jail, to show the Japanese text was rendered."""
import base64
import os
import subprocess

import pytest

from mailutil import msg, sanitize
from test_file_legacy import (HAVE, JAIL_WORKS, SOURCES, bare_convert, docs,  # noqa: F401
                              intermediate, needs_jail, odg, pdf_tools)
from test_file_util import assert_pdf_clean, qdf_text

pytestmark = pytest.mark.skipif(not HAVE, reason="bwrap, LibreOffice, poppler or test_jail missing")

H = {"From": "a@example.jp", "To": "b@example.lg.jp", "Subject": "見積"}
SANITIZE = "attachments = sanitize\n"
ACTION = "旧形式の文書を画像のPDFに変換しました（文字の検索・コピーはできません）"
MEM = 16 << 30  # the jail sets its own limits; LibreOffice maps much address space
CTYPES = {"doc": "application/msword", "xls": "application/vnd.ms-excel",
          "ppt": "application/vnd.ms-powerpoint", "rtf": "application/rtf"}


def with_files(*files):
    out = ["--B\nContent-Type: text/plain; charset=utf-8\n\n添付をご確認ください。\n"]
    for name, ctype, data in files:
        q = base64.b64encode(name.encode()).decode()
        out.append(f"--B\nContent-Type: {ctype}\nContent-Transfer-Encoding: base64\n"
                   f"Content-Disposition: attachment; filename=\"=?UTF-8?B?{q}?=\"\n\n"
                   + base64.encodebytes(data).decode())
    return msg(H, "".join(out) + "--B--\n", ctype='multipart/mixed; boundary="B"')


def attachments(r):
    return [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
            for p in r.msg.iter_attachments()]


def run(*files, config=""):
    return sanitize(with_files(*files), config=SANITIZE + config, timeout=300, mem=MEM)


def assert_pictures_only(pdf):
    txt, fonts, images = pdf_tools(pdf)
    assert txt.strip("\f\n ") == ""
    assert fonts.splitlines()[2:] == []
    rows = images.splitlines()[2:]
    assert len(rows) == 1 and rows[0].split()[2] == "image", images
    names = assert_pdf_clean(pdf)
    assert "/Font" not in names and "/EmbeddedFiles" not in names and "/Annots" not in names
    q = qdf_text(pdf)
    assert b" Tj" not in q and b" TJ" not in q and b"BT\n" not in q


@needs_jail
@pytest.mark.parametrize("ext", ["doc", "xls", "ppt", "rtf"])
def test_legacy_attachment_becomes_pdf_of_pictures(docs, ext):  # noqa: F811
    data, text = docs[1][ext]
    r = run(("見積書." + ext, CTYPES[ext], data))
    assert r.verdict == "sanitized", r.report
    assert r.body.endswith("添付をご確認ください。\n")
    (name, ctype, pdf), = attachments(r)
    assert (name, ctype) == ("見積書.pdf", "application/pdf")
    item, = r.report["sanitized"]
    assert (item["filename"], item["out_filename"], item["out_type"], item["size"],
            item["out_size"]) == ("見積書." + ext, "見積書.pdf", "pdf", len(data), len(pdf))
    assert item["actions"] == ("PDFを画像に変換しました（文字の検索・コピーはできません）"
                               "（「1 pages at 150 dpi」）。" + ACTION + "（「見積書.%s」）" % ext)
    assert r.report["removed"] == [] and r.report["limits_hit"] == []
    assert ("1. 「見積書.pdf」 ← 「見積書.%s」 (" % ext) in r.notice
    assert ACTION in r.notice
    # LibreOffice in the jail rendered the Japanese text ...
    mid_text, _ = intermediate(data, ext)
    assert text in mid_text.replace("\n", " "), mid_text
    # ... and what reaches the reader is one picture per page.
    assert_pictures_only(pdf)


def removed(r):
    assert all(i["reason"] == "blocked" for i in r.report["removed"]), r.report["removed"]
    return {i["filename"]: i["detail"] for i in r.report["removed"]}


def test_policy_block_keeps_todays_reason(docs):  # noqa: F811
    data, _ = docs[1]["doc"]
    r = run(("見積書.doc", CTYPES["doc"], data), config="legacy_policy = block\n")
    assert attachments(r) == []
    assert removed(r) == {"見積書.doc": "設定により、この種類のファイルは添付しないことになっています"
                          "（「legacy Word (.doc)」）"}


def test_no_bwrap_refused_never_unjailed(docs):  # noqa: F811
    """bwrap missing: the attachment is blocked with the jail's reason."""
    data, _ = docs[1]["xls"]
    r = run(("集計.xls", CTYPES["xls"], data), config="legacy_bwrap = /nonexistent/bwrap\n")
    assert attachments(r) == []
    assert removed(r) == {"集計.xls": "変換用の隔離環境を用意できないため、旧形式の文書を変換し"
                          "ませんでした（「legacy Excel (.xls): bubblewrap (/nonexistent/bwrap) "
                          "is not installed」）"}
    assert r.body.endswith("添付をご確認ください。\n")


@pytest.mark.skipif(JAIL_WORKS, reason="bwrap can build namespaces here")
def test_bwrap_without_namespaces_refused(docs):  # noqa: F811
    """In a chroot (no user namespaces) the real bwrap fails: blocked, not run bare."""
    data, _ = docs[1]["doc"]
    r = run(("見積書.doc", CTYPES["doc"], data))
    assert attachments(r) == []
    reason = removed(r)["見積書.doc"]
    assert reason.startswith("変換用の隔離環境を用意できないため、旧形式の文書を変換しませんで"
                             "した（「legacy Word (.doc): bwrap: "), reason


@needs_jail
def test_time_limit_blocks_only_that_attachment(docs):  # noqa: F811
    data, _ = docs[1]["ppt"]
    r = run(("説明会.ppt", CTYPES["ppt"], data), ("memo.txt", "text/plain", "議事録\n".encode()),
            config="legacy_time_max = 1\n")
    assert removed(r) == {"説明会.ppt": "旧形式の文書の変換に時間がかかりすぎるため添付しませんでした"
                          "（「legacy PowerPoint (.ppt)」）"}
    assert [(a[0], a[2]) for a in attachments(r)] == [("memo.txt", "議事録\n".encode())]
    assert r.verdict == "sanitized" and r.report["limits_hit"] == ["legacy_time_max"]


@needs_jail
def test_time_limit_reason_names_the_limit_in_english(docs):  # noqa: F811
    data, _ = docs[1]["ppt"]
    r = run(("説明会.ppt", CTYPES["ppt"], data), config="legacy_time_max = 1\nnotice_lang = en\n")
    assert removed(r) == {"説明会.ppt": "limit:legacy_time_max: legacy PowerPoint (.ppt)"}


@needs_jail
def test_message_max_converts_the_first_only(docs):  # noqa: F811
    data, _ = docs[1]["doc"]
    r = run(("一.doc", CTYPES["doc"], data), ("二.doc", CTYPES["doc"], data),
            config="legacy_message_max = 1\n")
    assert [a[0] for a in attachments(r)] == ["一.pdf"]
    assert removed(r) == {"二.doc": "一通のメールで変換できる旧形式の文書の数を超えたため"
                          "添付しませんでした（「legacy Word (.doc)」）"}
    assert r.report["limits_hit"] == ["legacy_message_max"]


def test_broken_ole2_not_converted_and_listed():
    """Garbage OLE2: LibreOffice gives no PDF (or no jail here): blocked with a reason."""
    r = run(("x.doc", CTYPES["doc"], b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504))
    assert attachments(r) == []
    reason = removed(r)["x.doc"]
    assert reason.startswith("旧形式の文書を変換できませんでした" if JAIL_WORKS
                             else "変換用の隔離環境を用意できないため"), reason


@needs_jail
def test_odf_drawing_attachment_is_converted(odg):  # noqa: F811
    """An ODF drawing CDR cannot rebuild, attached to a mail: converted too."""
    r = run(("案内図.odg", "application/vnd.oasis.opendocument.graphics", odg))
    (name, ctype, pdf), = attachments(r)
    assert (name, ctype) == ("案内図.pdf", "application/pdf")
    item, = r.report["sanitized"]
    assert (item["filename"], item["out_type"]) == ("案内図.odg", "pdf")
    assert item["actions"].endswith(ACTION + "（「案内図.odg」）")
    assert_pictures_only(pdf)
