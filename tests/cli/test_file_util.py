"""Helpers for the `mugai file sanitize` tests: run the command, build small
hostile PDFs and packages in memory, and check outputs with independent
tools (qpdf for PDF; zipfile + ElementTree for OOXML/ODF/zip).

No test functions here; the test_file_*.py modules import it."""
import io
import json
import os
import re
import subprocess
import tempfile
import zipfile
import xml.etree.ElementTree as ET

MUGAI = os.environ.get("MUGAI", "build/mugai")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "files")

PDF_BAD_NAMES = ["/JavaScript", "/JS", "/OpenAction", "/AA", "/Launch", "/EmbeddedFile",
                 "/EmbeddedFiles", "/EF", "/RichMedia", "/RichMediaContent", "/XFA",
                 "/URI", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"]


def sanitize(data, name="in.bin", mode=None, config=None, timeout=120):
    """Run the command on data; return (exit, report dict, output bytes or None)."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, name)
        out = os.path.join(d, "out.bin")
        rep = os.path.join(d, "report.json")
        with open(src, "wb") as f:
            f.write(data)
        args = [MUGAI, "file", "sanitize", "-r", rep]
        if mode:
            args += ["--mode", mode]
        if config:
            cf = os.path.join(d, "mugai.cf")
            with open(cf, "w") as f:
                f.write(config)
            args += ["-c", cf]
        r = subprocess.run(args + [src, out], capture_output=True, timeout=timeout)
        report = json.load(open(rep)) if os.path.exists(rep) else None
        output = open(out, "rb").read() if os.path.exists(out) else None
        return r.returncode, report, output


# ---- PDF ------------------------------------------------------------------

def pdf(objects, trailer_extra="", header=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"):
    """A PDF from object bodies (1-based numbering, object 1 = catalog), with
    a correct xref table."""
    out = bytearray(header)
    offs = []
    for i, body in enumerate(objects, 1):
        offs.append(len(out))
        if isinstance(body, str):
            body = body.encode("latin-1")
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, trailer_extra.encode(), xref)
    return bytes(out)


def pdf_update(base, objects, size):
    """Append an incremental update redefining objects {num: body}."""
    prev = int(re.findall(rb"startxref\s+(\d+)", base)[-1])
    out = bytearray(base)
    offs = {}
    for num, body in sorted(objects.items()):
        offs[num] = len(out)
        out += b"%d 0 obj\n" % num + body.encode("latin-1") + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for num, off in sorted(offs.items()):
        out += b"%d 1\n%010d 00000 n \n" % (num, off)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, prev, xref)
    return bytes(out)


def stream(dict_body, data):
    if isinstance(data, str):
        data = data.encode("latin-1")
    return ("<< %s /Length %d >>\nstream\n" % (dict_body, len(data))).encode() + data + \
        b"\nendstream"


PAGE_CONTENT = stream("", "BT /F1 24 Tf 72 700 Td (Hello mugai) Tj ET")


def simple_pdf(catalog_extra="", page_extra="", extra_objects=()):
    """Catalog 1, pages 2, page 3, content 4, font 5, then extra objects 6..."""
    objs = [
        "<< /Type /Catalog /Pages 2 0 R %s >>" % catalog_extra,
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> %s >>" % page_extra,
        PAGE_CONTENT,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf(objs + list(extra_objects))


def qpdf(*args, data):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.pdf")
        dst = os.path.join(d, "out.pdf")
        open(src, "wb").write(data)
        r = subprocess.run(["qpdf", *args, src, dst], capture_output=True)
        assert r.returncode in (0, 3), r.stderr
        return open(dst, "rb").read()


def pdf_names(data):
    """Every name used as a dictionary key or value, per qpdf's JSON (streams'
    data are not included, so binary image data cannot cause a false hit)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["qpdf", "--json", "--json-key=qpdf", f.name], capture_output=True)
        assert r.returncode in (0, 3), r.stderr
        return set(re.findall(r'"(/[A-Za-z0-9]+)"', r.stdout.decode("utf-8", "replace")))


def qdf_text(data):
    """The decompressed QDF form, for a grep that also sees content streams."""
    return qpdf("--qdf", "--object-streams=disable", data=data)


def assert_pdf_clean(data, allow=(), grep_qdf=True):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["qpdf", "--check", f.name], capture_output=True)
        assert r.returncode == 0, r.stdout + r.stderr
    names = pdf_names(data)
    bad = [n for n in PDF_BAD_NAMES if n in names and n not in allow]
    assert not bad, bad
    q = qdf_text(data) if grep_qdf else b""
    for n in PDF_BAD_NAMES:
        if n not in allow:
            assert not re.search(re.escape(n.encode()) + rb"[\s/<>\[\]()]", q), n
    return names


# ---- zip packages ----------------------------------------------------------

def make_zip(entries, compression=zipfile.ZIP_DEFLATED):
    """entries: list of (name, bytes|str); names may be ZipInfo."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression) as z:
        for name, data in entries:
            z.writestr(name, data)
    return b.getvalue()


def parts(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None
    return {n: z.read(n) for n in z.namelist()}


def parse_all_xml(p):
    """Parse every XML part with ElementTree (no external entities); return
    {name: root}."""
    roots = {}
    for n, data in p.items():
        if n.endswith((".xml", ".rels", ".vml")):
            assert b"<!DOCTYPE" not in data and b"<!ENTITY" not in data, n
            roots[n] = ET.fromstring(data)
    return roots
