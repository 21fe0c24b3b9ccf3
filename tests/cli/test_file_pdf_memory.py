"""Bounded flatten: under a 256 MB worker address space (worker_memory_max,
RLIMIT_AS), a giant page, many pages, a huge image and many incompressible
pages end in a verdict with a true reason, never a crash or a false
"broken"; checked with qpdf (page count, page size)."""
import os
import re
import subprocess
import tempfile
import zlib

from test_file_util import pdf, qdf_text, sanitize, stream

MEM = "worker_memory_max = 268435456\n"


def qpdf_pages(data):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["qpdf", "--show-npages", f.name], capture_output=True)
        assert r.returncode == 0, r.stderr
        return int(r.stdout)


def one_page(box, content, resources="", extra=()):
    return pdf(["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
                "/Resources << /Font << /F1 5 0 R >> %s >> >>" % (box[0], box[1], resources),
                stream("", content), "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                *extra])


def image(w, h, data):
    return stream("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                  "/BitsPerComponent 8 /Filter /FlateDecode" % (w, h),
                  zlib.compress(data, 1).decode("latin-1"))


def many_pages(n, content, resources="", extra=()):
    kids = " ".join("%d 0 R" % (3 + len(extra) + 2 * i) for i in range(n))
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
            *extra]
    for i in range(n):
        objs.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                    "/Resources << %s >> >>" % (len(objs) + 2, resources))
        objs.append(stream("", content % (i + 1) if "%d" in content else content))
    return pdf(objs)


def test_giant_page_rendered_at_fitting_resolution():
    src = one_page((14400, 14400), "BT /F1 400 Tf 100 7000 Td (Giant) Tj ET 0 0 1 rg 100 100 5000 5000 re f")
    rc, rep, out = sanitize(src, "g.pdf", mode="flatten", config=MEM)
    assert rep["verdict"] == "sanitized", rep
    assert "pdf-resolution-lowered: 1 pages below 150 dpi (pdf_page_pixels_max)" in rep["actions"]
    assert rep["actions_ja"][1].startswith("大きなページは解像度を下げて画像にしました")
    assert qpdf_pages(out) == 1
    assert re.search(rb"/MediaBox \[\s*0\s+0\s+14400\s+14400\s*\]", qdf_text(out))


def test_many_pages_all_kept():
    src = many_pages(400, "BT /F1 24 Tf 72 700 Td (Page %d) Tj ET", "/Font << /F1 3 0 R >>",
                     ["<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"])
    rc, rep, out = sanitize(src, "m.pdf", mode="flatten", config=MEM)
    assert rep["verdict"] == "sanitized", rep["reason"]
    assert qpdf_pages(out) == 400


def test_huge_image_page():
    w = h = 12000   # 432 MB of pixels once decoded
    src = one_page((612, 792), "q 612 0 0 792 0 0 cm /Im1 Do Q", "/XObject << /Im1 6 0 R >>",
                   [image(w, h, b"\x80\x40\x20" * w * h)])
    rc, rep, out = sanitize(src, "h.pdf", mode="flatten", config=MEM)
    assert rep["verdict"] == "sanitized", rep
    assert qpdf_pages(out) == 1


def test_incompressible_pages_stop_at_a_named_limit():
    noise = image(600, 800, os.urandom(600 * 800 * 3))
    src = many_pages(200, "q 612 0 0 792 0 0 cm /Im1 Do Q", "/XObject << /Im1 3 0 R >>", [noise])
    rc, rep, out = sanitize(src, "n.pdf", mode="flatten", config=MEM)
    assert rep["verdict"] == "blocked" and out is None
    assert rep["reason"].startswith("limit:pdf_flatten_bytes_max: page ")
    assert rep["reason_ja"].startswith("PDFを画像にすると大きくなりすぎるため添付しませんでした")
