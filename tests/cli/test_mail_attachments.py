"""`attachments = sanitize`: each attachment goes through file CDR; rebuilt
files are attached under their decoded names (extension changed with the
type), blocked ones are listed with their reason. Outputs are checked by
independent tools: Python's email parser, qpdf, zipfile + an XML parse."""
import base64
import re

from mailutil import msg, sanitize
from test_file_office import DOCM_MAIN, RUN, docx
from test_file_util import assert_pdf_clean, make_zip, parse_all_xml, parts, simple_pdf

H = {"From": "a@example.jp", "To": "b@example.lg.jp", "Subject": "files"}
SANITIZE = "attachments = sanitize\n"


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


def test_docm_becomes_docx_without_macros():
    src = docx(RUN, [("rId9", "vbaProject", "vbaProject.bin", False)], DOCM_MAIN,
               [("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 fake vba")])
    r = sanitize(with_files(("報告書.docm", "application/vnd.ms-word.document.macroEnabled.12", src)),
                 config=SANITIZE)
    assert r.verdict == "sanitized"
    assert r.msg.get_content_type() == "multipart/mixed"
    body = next(r.msg.iter_parts()).get_payload(decode=True).decode()
    assert body.endswith("添付をご確認ください。\r\n")
    (name, ctype, data), = attachments(r)
    assert name == "報告書.docx"
    assert ctype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    p = parts(data)
    parse_all_xml(p)
    assert not any(re.search(r"vbaProject", n) for n in p)
    assert "本文 keep me".encode() in p["word/document.xml"]
    item, = r.report["sanitized"]
    assert (item["filename"], item["out_filename"], item["out_type"]) == \
        ("報告書.docm", "報告書.docx", "docx")
    assert "1. 「報告書.docx」 ← 「報告書.docm」 (" in r.notice
    assert r.report["removed"] == []


def test_pdf_with_javascript_is_flattened():
    src = simple_pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    r = sanitize(with_files(("見積書.pdf", "application/pdf", src)), config=SANITIZE)
    (name, ctype, data), = attachments(r)
    assert (name, ctype) == ("見積書.pdf", "application/pdf")
    assert_pdf_clean(data)
    assert r.report["sanitized"][0]["out_type"] == "pdf"


def test_trailing_dot_does_not_hide_an_executable_name():
    """Windows drops trailing dots and spaces: 'run.exe.' opens as run.exe."""
    r = sanitize(with_files(("run.exe.", "text/plain", b"hello\n"),
                            ("memo.txt", "text/plain", "議事録\n".encode())), config=SANITIZE)
    reasons = {i["filename"]: i["reason"] for i in r.report["removed"]}
    assert reasons == {"run.exe.": "executable"}
    assert [a[0] for a in attachments(r)] == ["memo.txt"]


def test_blocked_files_are_listed_with_their_reason():
    exe = b"MZ\x90\x00" + b"\x00" * 60
    enc = make_zip([("a.txt", "x")])
    enc = enc[:6] + bytes([enc[6] | 1]) + enc[7:]      # set the encrypted flag
    r = sanitize(with_files(("tool.exe", "application/octet-stream", exe),
                            ("macro.doc", "application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)),
                 config=SANITIZE + "legacy_policy = block\n")  # conversion: test_mail_legacy.py
    assert attachments(r) == []
    reasons = {i["filename"]: i["reason"] for i in r.report["removed"]}
    assert reasons == {"tool.exe": "executable", "macro.doc": "blocked"}
    blocked = [i for i in r.report["removed"] if i["reason"] == "blocked"][0]
    assert blocked["detail"]
    assert f"「macro.doc」 (512 バイト) — 無害化できないファイル: 「{blocked['detail']}」" in r.notice
    assert blocked["detail"] == ("設定により、この種類のファイルは添付しないことになっています"
                                 "（「legacy Office (OLE2)」）")


def test_notice_shows_cdr_actions_in_japanese():
    src = simple_pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    r = sanitize(with_files(("見積書.pdf", "application/pdf", src)), config=SANITIZE)
    assert r.report["sanitized"][0]["actions"].startswith(
        "PDFを画像に変換しました（文字の検索・コピーはできません）（「1 pages at ")
    assert "1. 「見積書.pdf」 (" in r.notice and "PDFを画像に変換しました" in r.notice
    r = sanitize(with_files(("見積書.pdf", "application/pdf", src)),
                 config=SANITIZE + "notice_lang = en\n")
    assert r.report["sanitized"][0]["actions"].startswith("pdf-flattened: 1 pages at ")


def test_remove_policy_is_still_the_default():
    src = simple_pdf()
    r = sanitize(with_files(("a.pdf", "application/pdf", src)))
    assert attachments(r) == []
    assert [i["reason"] for i in r.report["removed"]] == ["attachment"]


def test_per_type_policy_remove():
    r = sanitize(with_files(("a.pdf", "application/pdf", simple_pdf())),
                 config=SANITIZE + "pdf_policy = remove\n")
    assert attachments(r) == []
    assert r.report["removed"][0]["detail"] == "設定により、この種類のファイルは添付しないことになっています"


def test_quarantined_message_attaches_nothing():
    data = with_files(("a.pdf", "application/pdf", simple_pdf())).replace(
        b"Content-Type: multipart/mixed", b"Content-Type: text/plain\nContent-Type: multipart/mixed", 1)
    r = sanitize(data, config=SANITIZE)
    assert r.verdict == "quarantined"
    assert r.msg.get_content_type() == "text/plain"


def test_notice_template_lists_attached_files(tmp_path):
    tpl = tmp_path / "notice.txt"
    tpl.write_text("無害化 {verdict}\n{attached}")
    src = docx(RUN, [("rId9", "vbaProject", "vbaProject.bin", False)], DOCM_MAIN,
               [("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 fake vba")])
    r = sanitize(with_files(("報告書.docm", "application/vnd.ms-word.document.macroEnabled.12", src)),
                 config=SANITIZE + f"notice_template = {tpl}\n")
    lines = r.notice.split("\r\n")
    assert lines[0] == "無害化 sanitized"
    assert lines[1] == "無害化して添付したファイル (1 件):"
    assert lines[2].startswith("  1. 「報告書.docx」 ← 「報告書.docm」 (")
    assert "vbaProject.bin" in lines[2]


def test_device_names_are_renamed_and_reported():
    """An attachment named after a Windows device (con.txt, LPT1.csv) would
    open the device when saved: it is attached as _con.txt, the report keeps
    both names and says why in the clerk's words; the contents survive."""
    r = sanitize(with_files(("con.txt", "text/plain", "議事録\n".encode()),
                            ("LPT1.csv", "text/csv", b"a,b\n1,2\n")), config=SANITIZE)
    got = {a[0]: a[2] for a in attachments(r)}
    assert got == {"_con.txt": "議事録\n".encode(), "_LPT1.csv": b"a,b\n1,2\n"}
    items = {i["filename"]: i for i in r.report["sanitized"]}
    assert items["con.txt"]["out_filename"] == "_con.txt"
    assert items["LPT1.csv"]["out_filename"] == "_LPT1.csv"
    assert ("Windows で正しく扱えないファイル名（装置名や末尾の点など）を安全な名前に変更しました"
            "（「con.txt to _con.txt」）") in items["con.txt"]["actions"]
    assert "「_con.txt」 ← 「con.txt」" in r.notice


def test_tiff_page_lost_is_in_the_notice():
    from test_file_misc import tiff_gray
    src = tiff_gray([(20, 10, bytes(range(200))), (20000, 20000, bytes([1]) * 64)])
    r = sanitize(with_files(("fax.tif", "image/tiff", src)), config=SANITIZE)
    (name, ctype, data), = attachments(r)
    assert (name, ctype) == ("fax.pdf", "application/pdf") and data.startswith(b"%PDF")
    lost = ("TIFF画像の一部のページを、読み取れないか大きすぎるため削除しました"
            "（「page 2 of 2 is too large (20000x20000 pixels, image_pixels_max)」）")
    assert lost in r.report["sanitized"][0]["actions"]
    assert lost in r.notice


def test_archive_entry_reasons_in_the_notice_are_sentences():
    """The notice says why an entry left an archive in Japanese (no code such
    as dangerous-extension inside the sentence) and never reports decoding
    UTF-8 to UTF-8; the kept entry survives."""
    from test_file_zip import RAW_CODE
    src = make_zip([("run.js", "WScript.Echo(1)\n"), ("memo.txt", "議事録\n")])
    r = sanitize(with_files(("書類.zip", "application/zip", src),
                            ("本文.txt", "text/plain", "こんにちは\n".encode())), config=SANITIZE)
    got = {a[0]: a[2] for a in attachments(r)}
    assert got["本文.txt"] == "こんにちは\n".encode()
    assert parts(got["書類.zip"]) == {"memo.txt": "議事録\n".encode()}
    line = ("圧縮ファイルの中の無害化できないファイルを削除しました（「run.js」：開くとプログラムが"
            "実行されるおそれのある名前のため添付しませんでした（「.js」））")
    assert r.report["sanitized"][0]["actions"] == line
    assert line in r.notice
    assert "UTF-8 to UTF-8" not in r.notice and "UTF-8 to UTF-8" not in str(r.report)
    assert "dangerous-extension" not in r.notice
    for item in r.report["sanitized"]:
        assert not RAW_CODE.search(item["actions"]), item
