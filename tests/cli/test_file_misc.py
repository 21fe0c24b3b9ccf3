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
    (b"hello", "a.js", "dangerous file name extension"),
    (b"ID;P\nC;Y1;X1;EEXEC(\"calc\")\n", "a.slk", "dangerous"),
    (b"", "empty.txt", "empty"),
    (b"\x00\x01\x02\x03" * 10, "a.bin", "unknown type"),
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
