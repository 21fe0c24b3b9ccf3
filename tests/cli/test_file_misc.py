"""`mugai file sanitize`: images, text/CSV, blocked types, command-line
behaviour (exit codes, OUT only when sanitized), and a pass over the shared
conformance corpus (no crash or hang; every produced output passes the
independent check)."""
import os
import struct
import subprocess
import tempfile
import zlib

import pytest

from test_file_util import (CORPUS, MUGAI, assert_pdf_clean, parse_all_xml, parts,
                            sanitize)


def png(w, h, text_chunk=True, rows=None):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = rows if rows is not None else b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    if text_chunk:
        out += chunk(b"tEXt", b"Comment\x00secret-metadata")
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xfe\x0bsecret-meta\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def test_png_reencoded_without_metadata():
    rc, rep, out = sanitize(png(4, 3), "a.png")
    assert rep["verdict"] == "sanitized" and rep["out_type"] == "png", rep
    assert out.startswith(b"\x89PNG") and b"secret-metadata" not in out
    assert struct.unpack(">II", out[16:24]) == (4, 3)


def test_png_claiming_100000_square_blocked_before_allocation():
    src = png(100000, 100000, rows=b"\x00" * 10)
    rc, rep, out = sanitize(src, "huge.png")
    assert rep["verdict"] == "blocked" and "image_pixels_max" in rep["reason"] and out is None


def test_gif_and_bmp_become_png():
    rc, rep, out = sanitize(GIF, "a.gif")
    assert (rep["type"], rep["out_type"]) == ("gif", "png") and b"secret-meta" not in out
    bmp = b"BM" + struct.pack("<IHHI", 58, 0, 0, 54) + struct.pack(
        "<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 0, 0, 0, 0) + b"\x00\x00\xff\x00"
    rc, rep, out = sanitize(bmp, "a.bmp")
    assert (rep["type"], rep["out_type"]) == ("bmp", "png") and out.startswith(b"\x89PNG")


def test_truncated_png_blocked():
    src = png(64, 64)[:60]
    rc, rep, out = sanitize(src, "t.png")
    assert rep["verdict"] == "blocked" and out is None


def test_text_sniffed_decoded_and_cleaned():
    src = "東京都\x1b[31m 赤\x7fです".encode("cp932")
    rc, rep, out = sanitize(src, "memo.txt")
    assert rep["verdict"] == "sanitized" and rep["out_type"] == "text", rep
    assert out.decode("utf-8") == "東京都[31m 赤です"
    rc, rep, out = sanitize("abc\u202eevil\u2066x\n".encode("utf-8"), "memo.txt")
    assert out == b"abcevilx\n"
    for enc in ("euc-jp", "iso-2022-jp", "utf-8"):
        rc, rep, out = sanitize("日本語のテキスト\r\n".encode(enc), "m.txt")
        assert out.decode("utf-8") == "日本語のテキスト\r\n", enc


def test_text_cp932_output():
    rc, rep, out = sanitize("①髙﨑\n".encode("utf-8"), "m.txt", config="text_output_charset = cp932\n")
    assert out.decode("cp932") == "①髙﨑\n"  # NEC or IBM code points: both CP932


def test_csv_formula_cells_neutralized():
    src = ('name,value\n=1+2,-3\n"@SUM(A1)",+81-3-1234-5678\n'
           '"=cmd|\' /C calc\'!A0",ok\n-12.5,"a ""q"" b"\n').encode("cp932")
    rc, rep, out = sanitize(src, "list.csv")
    assert rep["out_type"] == "csv"
    assert out.decode() == ('name,value\n\'=1+2,-3\n"\'@SUM(A1)",\'+81-3-1234-5678\n'
                            '"\'=cmd|\' /C calc\'!A0",ok\n-12.5,"a ""q"" b"\n')


@pytest.mark.parametrize("data,name,reason", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "a.doc", "OLE2"),
    (b"MZ\x90\x00\x03" + b"\0" * 60, "a.pdf", "executable"),
    (b"#!/bin/sh\nrm -rf /\n", "a.txt", "script"),
    (b"<html><script>alert(1)</script></html>", "a.txt", "HTML"),
    (b"hello", "a.js", "dangerous-extension: .js"),
    (b"ID;P\nC;Y1;X1;EEXEC(\"calc\")\n", "a.slk", "dangerous-extension: .slk"),
    (b"", "empty.txt", "empty"),
    (b"\x00\x01\x02\x03" * 10, "a.bin", "unsupported-type: unknown type"),
])
def test_everything_else_blocked(data, name, reason):
    rc, rep, out = sanitize(data, name)
    assert rc == 0 and rep["verdict"] == "blocked" and out is None, rep
    assert reason in rep["reason"], rep


def test_name_disagreeing_with_content_is_noted():
    rc, rep, out = sanitize(png(1, 1), "photo.jpg")
    assert any("disagrees" in a for a in rep["actions"])


def test_cli_usage_and_io_errors():
    assert subprocess.run([MUGAI, "file"], capture_output=True).returncode == 64
    assert subprocess.run([MUGAI, "file", "sanitize", "x"], capture_output=True).returncode == 64
    assert subprocess.run([MUGAI, "file", "sanitize", "--mode", "zap", "a", "b"],
                          capture_output=True).returncode == 64
    r = subprocess.run([MUGAI, "file", "sanitize", "/nonexistent/in", "/tmp/x"], capture_output=True)
    assert r.returncode == 74
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.txt")
        open(src, "w").write("hi\n")
        r = subprocess.run([MUGAI, "file", "sanitize", src, os.path.join(d, "no/such/dir")],
                           capture_output=True)
        assert r.returncode == 74


def test_file_size_limit():
    rc, rep, out = sanitize(b"a" * 5000, "big.txt", config="file_size_max = 4k\n")
    assert rep["verdict"] == "blocked" and "file_size_max" in rep["reason"] and out is None


def test_report_on_stdout_and_stale_out_removed():
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "in.exe"), os.path.join(d, "out")
        open(src, "wb").write(b"MZ\x90\x00")
        open(out, "w").write("stale")
        r = subprocess.run([MUGAI, "file", "sanitize", src, out], capture_output=True, text=True)
        assert r.returncode == 0 and '"verdict":"blocked"' in r.stdout
        assert not os.path.exists(out)
        assert sorted(os.listdir(d)) == ["in.exe"]  # no temp files left behind


def _corpus_files():
    if not os.path.isdir(CORPUS):
        return []
    out = []
    for sub in ("pdf", "office"):
        for root, _, files in os.walk(os.path.join(CORPUS, sub)):
            out += [os.path.join(root, f) for f in sorted(files) if not f.endswith(".tsv")]
    return out


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="../shared/corpus absent")
@pytest.mark.parametrize("mode", ["flatten", "rebuild"])
def test_corpus_no_crash_and_outputs_check(mode):
    files = _corpus_files()
    assert files
    for path in files:
        data = open(path, "rb").read()
        rc, rep, out = sanitize(data, os.path.basename(path), mode=mode, timeout=120)
        assert rc == 0, path
        assert rep["verdict"] in ("sanitized", "blocked"), path
        assert (out is not None) == (rep["verdict"] == "sanitized"), path
        if out is None:
            assert rep["reason"], path
            continue
        t = rep["out_type"]
        if t == "pdf":
            assert_pdf_clean(out, grep_qdf=(mode == "rebuild"))
        elif t in ("docx", "xlsx", "pptx", "dotx", "xltx", "potx", "ppsx", "odt", "ods", "odp", "zip"):
            p = parts(out)
            parse_all_xml(p) if t != "zip" else None
            for n, d in p.items():
                assert b"vbaProject" not in d or n.endswith(".xml"), (path, n)
                if n.endswith(".rels"):
                    assert b'TargetMode="External"' not in d, (path, n)


def test_reasons_and_actions_in_japanese():
    """Codes stay machine-readable; the *_ja fields carry the clerk's sentence."""
    rc, rep, out = sanitize(b"hello", "a.js")
    assert rep["reason"] == "dangerous-extension: .js"
    assert rep["reason_ja"] == "開くとプログラムが実行されるおそれのある名前のため添付しませんでした（「.js」）"
    rc, rep, out = sanitize(b"=1+2,x\r\n", "a.csv")
    assert rep["verdict"] == "sanitized" and rep["type_ja"] == "CSV（表形式のテキスト）"
    assert rep["actions"] == ["csv-formula-neutralized: 1 CSV formula cells"]
    assert rep["actions_ja"] == [
        "数式として実行されるおそれのあるセルを文字として扱うようにしました（「1 CSV formula cells」）"]


def csv_rows(out, sep=","):
    """Rows as Python's csv module reads them (an independent reader)."""
    import csv
    import io
    return list(csv.reader(io.StringIO(out.decode(), newline=""), delimiter=sep))


def test_csv_sep_line_is_honoured_and_kept():
    """Excel splits on ';' after a first line sep=; (kept, so Excel splits
    the output the same way); every ';' cell with a formula is neutralized."""
    src = "sep=;\r\n名前;式;数\r\n山田;=HYPERLINK(\"http://x\");-12\r\n".encode()
    rc, rep, out = sanitize(src, "a.csv")
    assert rep["verdict"] == "sanitized"
    assert out.startswith(b"sep=;\r\n")
    rows = csv_rows(out[len(b"sep=;\r\n"):], ";")
    assert rows == [["名前", "式", "数"], ["山田", "'=HYPERLINK(\"http://x\")", "-12"]]
    assert "csv-sep-line: separator from the first line sep=" in rep["actions"]


def test_csv_bare_cr_rows_and_quoted_breaks():
    src = b"a,b\r=1+1,x\r\"q\r\n=2\",+SUM(A1)\n-3,\"  =3\"\r\nok,@x"
    rc, rep, out = sanitize(src, "a.csv")
    rows = csv_rows(out)
    assert rows == [["a", "b"], ["'=1+1", "x"], ["q\r\n=2", "'+SUM(A1)"], ["-3", "'  =3"],
                    ["ok", "'@x"]]
    assert "csv-formula-neutralized: 4 CSV formula cells" in rep["actions"]


def test_csv_full_width_and_blank_led_signs():
    cells = ["＝1+1", "＋A1", "－A1", "＠SUM(A1)", " =1", "\u3000=cmd|'/C calc'!A0", "\t+1",
             "−1", "\u00a0@SUM(A1)"]
    src = ",".join(cells).encode() + "\n普通,１２３,-1.5,+81\n".encode()
    rc, rep, out = sanitize(src, "a.csv")
    rows = csv_rows(out)
    assert rows == [["'" + c for c in cells], ["普通", "１２３", "-1.5", "+81"]]


def tiff_gray(pages):
    """A little-endian multi-page TIFF of 8-bit gray, uncompressed, 100 dpi;
    pages: list of (w, h, pixel bytes)."""
    out = bytearray(b"II*\0\0\0\0\0")
    prev_link = 4
    for w, h, px in pages:
        data_off = len(out)
        out += px
        if len(out) % 2:
            out += b"\0"
        res_off = len(out)
        out += struct.pack("<IIII", 100, 1, 100, 1)
        tags = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
                (273, 4, 1, data_off), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, len(px)),
                (282, 5, 1, res_off), (283, 5, 1, res_off + 8), (296, 3, 1, 2)]
        ifd = len(out)
        struct.pack_into("<I", out, prev_link, ifd)
        out += struct.pack("<H", len(tags))
        for tag, typ, cnt, val in tags:
            out += struct.pack("<HHI", tag, typ, cnt) + (struct.pack("<HH", val, 0) if typ == 3
                                                         else struct.pack("<I", val))
        prev_link = len(out)
        out += b"\0\0\0\0"
    return bytes(out)


def pdf_page_images(data):
    """(Width, Height, MediaBox, decoded samples) of each page's image, via
    qpdf --json with decoded stream data (an independent reader)."""
    import base64
    import json
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["qpdf", "--json=2", "--json-stream-data=inline",
                            "--decode-level=specialized", f.name], capture_output=True)
        assert r.returncode in (0, 3), r.stderr
    objs = json.loads(r.stdout)["qpdf"][1]

    def get(v):
        return objs["obj:" + v].get("value", objs["obj:" + v]) if isinstance(v, str) else v
    out = []
    for p in json.loads(r.stdout)["pages"]:
        page = get(p["object"])
        xo = get(get(page["/Resources"])["/XObject"])
        im = objs["obj:" + next(iter(xo.values()))]["stream"]
        out.append((im["dict"]["/Width"], im["dict"]["/Height"], page["/MediaBox"],
                    base64.b64decode(im["data"])))
    return out


def test_multipage_tiff_becomes_pdf_with_every_page():
    pages = [(40, 30, bytes((x * 6 + y) % 256 for y in range(30) for x in range(40))),
             (50, 20, bytes([200]) * 1000),
             (30, 30, bytes((x ^ y) * 8 % 256 for y in range(30) for x in range(30)))]
    rc, rep, out = sanitize(tiff_gray(pages), "fax.tif")
    assert rep["verdict"] == "sanitized" and rep["type"] == "tiff" and rep["out_type"] == "pdf", rep
    assert rep["pages"] == 3
    assert "tiff-pages-to-pdf: 3 of 3 pages" in rep["actions"]
    assert rep["actions_ja"] == ["複数ページのTIFF画像を、全ページを含むPDFに変換しました（「3 of 3 pages」）"]
    got = pdf_page_images(out)
    assert [(w, h) for w, h, _, _ in got] == [(40, 30), (50, 20), (30, 30)]
    assert [[round(float(v), 2) for v in box] for _, _, box, _ in got] == \
        [[0, 0, 28.8, 21.6], [0, 0, 36, 14.4], [0, 0, 21.6, 21.6]]   # 100 dpi kept
    assert [d for _, _, _, d in got] == [px for _, _, px in pages]   # lossless, every pixel
    # A single page TIFF is still a PNG.
    rc, rep, out = sanitize(tiff_gray(pages[:1]), "one.tif")
    assert rep["out_type"] == "png" and out.startswith(b"\x89PNG")


def test_multipage_tiff_with_a_broken_page_says_so():
    pages = [(20, 20, bytes([10]) * 400), (20, 20, bytes([90]) * 400)]
    src = bytearray(tiff_gray(pages))
    # Page 2 claims a compression no decoder knows: that page cannot be decoded.
    second_ifd = len(src) - 4 - 12 * 12 - 2
    assert struct.unpack_from("<HH", src, second_ifd + 2 + 3 * 12) == (259, 3)
    struct.pack_into("<H", src, second_ifd + 2 + 3 * 12 + 8, 60000)
    rc, rep, out = sanitize(bytes(src), "fax.tif")
    assert rep["verdict"] == "sanitized" and rep["pages"] == 1, rep
    assert "tiff-pages-lost: page 2 of 2 could not be decoded" in rep["actions"]
    assert [d for _, _, _, d in pdf_page_images(out)] == [bytes([10]) * 400]


def test_multipage_tiff_with_an_oversized_page_loses_that_page_only():
    """Page 2 declares 20000×20000 (400 M pixels > image_pixels_max): that
    page is left out and listed as lost, pages 1 and 3 survive pixel for
    pixel; a TIFF whose every page is too large is blocked with the limit."""
    p1 = (20, 10, bytes(range(200)))
    p3 = (10, 10, bytes([77]) * 100)
    src = tiff_gray([p1, (20000, 20000, bytes([1]) * 64), p3])
    rc, rep, out = sanitize(src, "fax.tif")
    assert rep["verdict"] == "sanitized" and rep["out_type"] == "pdf" and rep["pages"] == 2, rep
    assert rep["actions"] == [
        "tiff-pages-lost: page 2 of 3 is too large (20000x20000 pixels, image_pixels_max)",
        "tiff-pages-to-pdf: 2 of 3 pages"]
    assert rep["actions_ja"][0] == ("TIFF画像の一部のページを、読み取れないか大きすぎるため削除しました"
                                    "（「page 2 of 3 is too large (20000x20000 pixels, image_pixels_max)」）")
    got = pdf_page_images(out)
    assert [(w, h, d) for w, h, _, d in got] == [p1, p3]
    rc, rep, out = sanitize(tiff_gray([(20000, 20000, b"\1" * 64), (30000, 20000, b"\1" * 64)]), "big.tif")
    assert (rep["verdict"], rep["reason"], out) == \
        ("blocked", "limit:image_pixels_max: every TIFF page is too large", None)
