"""PDF flatten written page by page (src/cdr/pdf_flatten.c writes the PDF
itself as each page is rendered): the output is a valid PDF (qpdf --check,
an exact xref table) with the same pages, sizes and pixels. Peak memory
flat in the page count: tests/unit/test_pdf_flatten.c (in process: the CLI
adds its own copy of the result to its worker's frame)."""
import base64
import json
import os
import re
import subprocess
import tempfile

from test_file_util import assert_pdf_clean, pdf, sanitize, stream

# (MediaBox, content): gray pages, a fractional A4, a colour page.
PAGES = [
    ((612, 792), "0 g 0 0 306 792 re f"),                    # left half black
    ((842, 595), "BT /F1 24 Tf 72 500 Td (Landscape) Tj ET"),
    ((595.28, 841.89), "BT /F1 12 Tf 72 700 Td (A4 in points) Tj ET"),
    ((200, 100), "0 g 0 0 100 100 re f"),                    # left half black
    ((300, 300), "1 0 0 rg 0 0 300 300 re f"),               # all red
]


def multi_page_pdf(pages):
    n = len(pages)
    kids = " ".join("%d 0 R" % (4 + 2 * i) for i in range(n))
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for (w, h), content in pages:
        objs.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Contents %d 0 R "
                    "/Resources << /Font << /F1 3 0 R >> >> >>" % (w, h, len(objs) + 2))
        objs.append(stream("", content))
    return pdf(objs)


def page_images(data):
    """Per page: MediaBox, the image's dictionary and its data (Flate
    decoded, DCT left as is), via qpdf --json (an independent reader)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["qpdf", "--json=2", "--json-stream-data=inline",
                            "--decode-level=specialized", f.name], capture_output=True)
        assert r.returncode == 0, r.stderr
    js = json.loads(r.stdout)
    objs = js["qpdf"][1]

    def get(v):
        return objs["obj:" + v].get("value", objs["obj:" + v]) if isinstance(v, str) else v
    out = []
    for p in js["pages"]:
        page = get(p["object"])
        xo = get(get(page["/Resources"])["/XObject"])
        assert len(xo) == 1
        im = objs["obj:" + next(iter(xo.values()))]["stream"]
        out.append(([float(v) for v in page["/MediaBox"]], im["dict"], base64.b64decode(im["data"])))
    return out


def test_flatten_output_is_valid_with_the_same_pages_and_pixels():
    rc, rep, out = sanitize(multi_page_pdf(PAGES), "p.pdf", mode="flatten")
    assert rc == 0 and rep["verdict"] == "sanitized", rep
    assert rep["pages"] == 5 and rep["actions"] == ["pdf-flattened: 5 pages at 150 dpi"]
    assert out.startswith(b"%PDF-1.7\n") and out.endswith(b"%%EOF\n")
    assert_pdf_clean(out)
    got = page_images(out)
    assert [box for box, _, _ in got] == [[0, 0, w, h] for (w, h), _ in PAGES]
    for (box, d, data), ((w, h), _) in zip(got, PAGES):
        assert abs(d["/Width"] - w * 150 / 72) <= 1 and abs(d["/Height"] - h * 150 / 72) <= 1, d
    kinds = [(d["/ColorSpace"], d.get("/Filter")) for _, d, _ in got]
    # Flate + RunLength is decoded by qpdf (no /Filter left); DCT is not
    assert kinds == [("/DeviceGray", None)] * 4 + [("/DeviceRGB", "/DCTDecode")]
    # the black left half and the white right half, pixel for pixel, on both gray test pages
    for i in (0, 3):
        _, d, data = got[i]
        w, h = d["/Width"], d["/Height"]
        assert len(data) == w * h
        for y in (2, h // 2, h - 3):
            row = data[y * w:(y + 1) * w]
            assert row[2] == 0 and row[w // 2 - 3] == 0, (i, y)
            assert row[w // 2 + 3] == 255 and row[w - 3] == 255, (i, y)
    assert got[4][2].startswith(b"\xff\xd8")  # a JPEG


def test_flatten_object_table_is_exact():
    """The xref table qpdf checks: every offset points at its object (qpdf
    --check would repair silently otherwise; --show-xref lists them)."""
    rc, rep, out = sanitize(multi_page_pdf(PAGES[:2]), "p.pdf", mode="flatten")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(out)
        f.flush()
        r = subprocess.run(["qpdf", "--show-xref", f.name], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    entries = re.findall(r"^(\d+)/0: uncompressed; offset = (\d+)$", r.stdout, re.M)
    assert len(entries) == len(r.stdout.splitlines()) == 2 + 3 * 2, r.stdout
    for num, off in entries:
        assert out[int(off):].startswith(b"%s 0 obj\n" % num.encode()), num


def test_one_coloured_dot_on_a_white_page_is_colour():
    """The gray check goes 8 white pixels at a time: a 1 pt red dot at the
    end of a row (width not a multiple of 8) still makes the page colour,
    and a page of white and gray only stays lossless gray."""
    pages = [((201, 99), "1 0 0 rg 199 50 1 1 re f"), ((201, 99), "0.5 g 199 50 1 1 re f")]
    rc, rep, out = sanitize(multi_page_pdf(pages), "p.pdf", mode="flatten")
    assert rep["verdict"] == "sanitized", rep
    got = page_images(out)
    assert [(d["/ColorSpace"], d.get("/Filter")) for _, d, _ in got] == \
        [("/DeviceRGB", "/DCTDecode"), ("/DeviceGray", None)]
    _, d, data = got[1]
    assert d["/Width"] % 8 != 0 and set(data) - {255} and min(data) >= 100


def image_page_pdf(rgb_bytes, w=2, h=2):
    """One page showing a w x h DeviceRGB image (uncompressed samples)."""
    hexdata = rgb_bytes.hex()
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            "<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
            "/BitsPerComponent 8 /Filter /ASCIIHexDecode /Length %d >>\nstream\n%s>\nendstream"
            % (w, h, len(hexdata) + 1, hexdata),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 5 0 R "
            "/Resources << /XObject << /Im1 3 0 R >> >> >>",
            stream("", "q 80 0 0 80 10 10 cm /Im1 Do Q")]
    return pdf(objs)


def test_colour_only_inside_an_image_or_a_shading_is_colour():
    """A page whose only colour is one pixel of an RGB image, or a shading,
    is rendered and kept in colour; an RGB image whose pixels are all gray
    gives a lossless gray page (the pages are tested pixel by pixel before
    the gray render is chosen)."""
    red = bytes([200, 200, 200] * 3 + [255, 0, 0])
    gray = bytes([200, 200, 200] * 3 + [40, 40, 40])
    kinds = []
    for data in (red, gray):
        rc, rep, out = sanitize(image_page_pdf(data), "i.pdf", mode="flatten")
        assert rep["verdict"] == "sanitized", rep
        got = page_images(out)
        kinds.append((got[0][1]["/ColorSpace"], got[0][1].get("/Filter")))
        if data is gray:
            samples = got[0][2]
            assert min(samples) <= 60 and max(samples) >= 190, (min(samples), max(samples))
    assert kinds == [("/DeviceRGB", "/DCTDecode"), ("/DeviceGray", None)]
    shading = [((100, 100), "q /Sh1 sh Q")]
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            "<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [0 0 100 0] /Function "
            "<< /FunctionType 2 /Domain [0 1] /C0 [1 0 0] /C1 [0 0 1] /N 1 >> >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 5 0 R "
            "/Resources << /Shading << /Sh1 3 0 R >> >> >>",
            stream("", shading[0][1])]
    rc, rep, out = sanitize(pdf(objs), "s.pdf", mode="flatten")
    assert rep["verdict"] == "sanitized", rep
    d = page_images(out)[0][1]
    assert (d["/ColorSpace"], d.get("/Filter")) == ("/DeviceRGB", "/DCTDecode")


def test_gray_pages_read_back_by_another_renderer():
    """Gray pages are Flate over RunLength (both lossless, any PDF reader):
    poppler's pdftoppm renders the flattened page back to the same halves."""
    rc, rep, out = sanitize(multi_page_pdf(PAGES[3:4]), "p.pdf", mode="flatten")
    assert out.count(b"/Filter[/FlateDecode/RunLengthDecode]") == 1
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "f.pdf")
        with open(src, "wb") as f:
            f.write(out)
        subprocess.run(["pdftoppm", "-gray", "-r", "72", src, os.path.join(d, "p")], check=True)
        pgm = open(os.path.join(d, "p-1.pgm"), "rb").read()
    head, w, h, _, data = pgm.split(maxsplit=4)
    w, h = int(w), int(h)
    assert head == b"P5" and (w, h) == (200, 100)
    for y in (5, 50, 94):
        row = data[y * w:(y + 1) * w]
        assert max(row[:95]) < 40 and min(row[105:]) > 215, y
