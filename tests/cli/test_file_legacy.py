"""Legacy .doc/.xls/.ppt/.rtf: converted by LibreOffice in its bubblewrap jail,
then flattened to page images (`mugai file sanitize`, legacy_policy).

Test documents are written here as flat ODF holding Japanese text and turned
into the legacy formats by LibreOffice itself (outside the jail: these are
our own inputs). The intermediate PDF comes from the jail through the
test-only tool build/tests/test_jail and is read with pdftotext; the output
is checked with pdfimages, pdffonts, pdftotext and qpdf."""
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import zipfile

import pytest

from test_file_util import MUGAI, assert_pdf_clean, qdf_text

JAIL_TOOL = os.path.join(os.path.dirname(MUGAI), "tests", "test_jail")
SOFFICE = "/usr/lib/libreoffice/program/soffice"
HAVE = (os.access("/usr/bin/bwrap", os.X_OK) and os.access(SOFFICE, os.X_OK)
        and shutil.which("pdftotext") and os.access(JAIL_TOOL, os.X_OK))
pytestmark = pytest.mark.skipif(not HAVE, reason="bwrap, LibreOffice, poppler or test_jail missing")
# bwrap able to build its namespaces here (not inside a chroot, say): the
# tests that convert in a real jail skip otherwise; the refusals run anyway.
JAIL_WORKS = HAVE and subprocess.run(
    ["/usr/bin/bwrap", "--unshare-user", "--unshare-net", "--ro-bind", "/", "/", "/bin/true"],
    capture_output=True).returncode == 0
needs_jail = pytest.mark.skipif(not JAIL_WORKS, reason="bwrap cannot build namespaces on this host")

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
      'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.2"')


def flat(kind, body):
    mime = "application/vnd.oasis.opendocument." + kind
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document %s office:mimetype="%s">'
            '<office:body>%s</office:body></office:document>' % (NS, mime, body))


SOURCES = {
    "doc": ("fodt", 'doc:MS Word 97', "見積書 第一号 東京都千代田区",
            flat("text", "<office:text><text:p>見積書 第一号 東京都千代田区</text:p></office:text>")),
    "rtf": ("fodt", 'rtf:Rich Text Format', "回覧 町内会 清掃のお知らせ",
            flat("text", "<office:text><text:p>回覧 町内会 清掃のお知らせ</text:p></office:text>")),
    "xls": ("fods", 'xls:MS Excel 97', "品名 鉛筆",
            flat("spreadsheet", '<office:spreadsheet><table:table table:name="見積"><table:table-row>'
                 '<table:table-cell office:value-type="string"><text:p>品名 鉛筆</text:p>'
                 '</table:table-cell></table:table-row></table:table></office:spreadsheet>')),
    "ppt": ("fodp", 'ppt:MS PowerPoint 97', "説明会資料 令和六年度",
            flat("presentation", '<office:presentation><draw:page draw:name="p1"><draw:frame '
                 'svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box>'
                 '<text:p>説明会資料 令和六年度</text:p></draw:text-box></draw:frame></draw:page>'
                 '</office:presentation>')),
}


def bare_convert(d, src, filt, outdir, profile=None):
    """LibreOffice outside the jail, on our own trusted test inputs only."""
    prof = profile or os.path.join(d, "profile")
    subprocess.run(["nice", SOFFICE, "--headless", "--norestore",
                    "-env:UserInstallation=file://" + prof, "--convert-to", filt,
                    "--outdir", outdir, src], capture_output=True, timeout=180, check=True)


@pytest.fixture(scope="module")
def docs():
    d = tempfile.mkdtemp(prefix="mugai-legacy-")
    out = {}
    for ext, (fext, filt, text, body) in SOURCES.items():
        src = os.path.join(d, "src_%s.%s" % (ext, fext))
        open(src, "w").write(body)
        bare_convert(d, src, filt, d)
        out[ext] = (open(os.path.join(d, "src_%s.%s" % (ext, ext)), "rb").read(), text)
    yield d, out
    shutil.rmtree(d, ignore_errors=True)


def run(data, name, config=None):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, name)
        open(src, "wb").write(data)
        args = [MUGAI, "file", "sanitize", "-r", os.path.join(d, "r.json")]
        if config:
            open(os.path.join(d, "c.cf"), "w").write(config)
            args += ["-c", os.path.join(d, "c.cf")]
        r = subprocess.run(args + [src, os.path.join(d, "out.pdf")], capture_output=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr
        rep = json.load(open(os.path.join(d, "r.json")))
        o = os.path.join(d, "out.pdf")
        return rep, open(o, "rb").read() if os.path.exists(o) else None


def intermediate(data, ext):
    """The PDF LibreOffice writes in the jail, before flatten."""
    with tempfile.TemporaryDirectory() as d:
        src, mid = os.path.join(d, "in." + ext), os.path.join(d, "mid.pdf")
        open(src, "wb").write(data)
        r = subprocess.run([JAIL_TOOL, "convert", src, mid], capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return (subprocess.run(["pdftotext", mid, "-"], capture_output=True).stdout.decode(),
                subprocess.run(["pdfimages", "-list", mid], capture_output=True).stdout.decode())


def pdf_tools(data):
    """(pdftotext, pdffonts, pdfimages -list) of a PDF."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        return [subprocess.run(c, capture_output=True, timeout=60).stdout.decode()
                for c in (["pdftotext", f.name, "-"], ["pdffonts", f.name],
                          ["pdfimages", "-list", f.name])]


@needs_jail
@pytest.mark.parametrize("ext", ["doc", "xls", "ppt", "rtf"])
def test_legacy_japanese_becomes_pdf_of_pixels(docs, ext):
    _, out = docs
    data, text = out[ext]
    name = "見積書." + ext
    rep, pdf = run(data, name)
    assert rep["verdict"] == "sanitized" and rep["type"] == ext, rep
    assert rep["out_type"] == "pdf" and rep["mode"] == "flatten" and rep["pages"] == 1
    assert rep["actions"] == ["pdf-flattened: 1 pages at 150 dpi",
                              "legacy-converted: " + name]
    assert rep["in_bytes"] == len(data) and rep["out_bytes"] == len(pdf)
    # The jail rendered the Japanese text (fonts present inside it) ...
    mid_text, _ = intermediate(data, ext)
    assert text in mid_text.replace("\n", " "), mid_text
    # ... and the output is pictures only: no text, no fonts, no actions.
    txt, fonts, images = pdf_tools(pdf)
    assert txt.strip("\f\n ") == ""
    assert fonts.splitlines()[2:] == []
    rows = images.splitlines()[2:]
    assert len(rows) == 1 and rows[0].split()[2] == "image", images
    names = assert_pdf_clean(pdf)
    assert "/Font" not in names and "/EmbeddedFiles" not in names and "/Annots" not in names
    q = qdf_text(pdf)
    assert b" Tj" not in q and b" TJ" not in q and b"BT\n" not in q


def test_policy_block(docs):
    data, _ = docs[1]["doc"]
    rep, pdf = run(data, "a.doc", config="legacy_policy = block\n")
    assert pdf is None and rep["verdict"] == "blocked" and rep["type"] == "doc"
    assert rep["reason"] == "policy:legacy_policy: legacy Word (.doc)"


def test_no_jail_no_conversion(docs):
    """bwrap missing: refused with a clear reason; LibreOffice never runs unjailed."""
    data, _ = docs[1]["xls"]
    rep, pdf = run(data, "a.xls", config="legacy_bwrap = /nonexistent/bwrap\n")
    assert pdf is None and rep["verdict"] == "blocked" and rep["type"] == "xls"
    assert rep["reason"] == ("legacy-jail-unavailable: legacy Excel (.xls): "
                             "bubblewrap (/nonexistent/bwrap) is not installed")


@needs_jail
def test_wall_clock_limit(docs):
    data, _ = docs[1]["ppt"]
    rep, pdf = run(data, "a.ppt", config="legacy_time_max = 1\n")
    assert pdf is None and rep["verdict"] == "blocked"
    assert rep["reason"] == "limit:legacy_time_max: legacy PowerPoint (.ppt)"


@needs_jail
def test_garbage_ole2_and_encrypted_blocked():
    rep, pdf = run(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "x.doc")
    assert pdf is None and rep["reason"] == "legacy-conversion-failed: legacy Office (OLE2)"
    enc = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
           + "EncryptedPackage".encode("utf-16-le") + b"\0" * 64)
    rep, pdf = run(enc, "x.docx")
    assert pdf is None and rep["reason"] == "encrypted: Office"


def test_legacy_inside_zip_not_converted(docs):
    import io
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("a.doc", docs[1]["doc"][0])
        z.writestr("b.txt", "本文\n")
    rep, out = run(b.getvalue(), "x.zip")
    assert rep["verdict"] == "sanitized", rep
    assert any("legacy-in-archive: legacy Word (.doc)" in a
               for a in rep["actions"]), rep
    assert zipfile.ZipFile(io.BytesIO(out)).read("b.txt").decode("utf-8").startswith("本文")


class _Handler(http.server.SimpleHTTPRequestHandler):
    hits = []

    def log_message(self, *a):
        _Handler.hits.append(self.requestline)


@needs_jail
def test_jail_denies_network_and_host_files(docs):
    """A .doc linking a picture on 127.0.0.1 and one outside the tmpfs.
    LibreOffice outside the jail fetches both (the attempt is real); in the
    jail neither arrives, and a probe in the jail can neither connect nor read."""
    d = docs[0]
    secret = os.path.join(d, "secret.png")
    import struct
    import zlib

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0")) + chunk(b"IEND", b""))
    open(secret, "wb").write(png)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Handler(*a, directory=d))
    port = srv.server_address[1]
    shutil.copy(secret, os.path.join(d, "net.png"))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        body = flat("text", '<office:text><text:p>リンク <draw:frame draw:name="a" svg:width="2cm" '
                    'svg:height="2cm" text:anchor-type="as-char"><draw:image xlink:href='
                    '"http://127.0.0.1:%d/net.png" xlink:type="simple" xlink:show="embed" '
                    'xlink:actuate="onLoad"/></draw:frame><draw:frame draw:name="b" svg:width="2cm"'
                    ' svg:height="2cm" text:anchor-type="as-char"><draw:image xlink:href="file://%s"'
                    ' xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame>'
                    '</text:p></office:text>' % (port, secret))
        open(os.path.join(d, "net.fodt"), "w").write(body)
        bare_convert(d, os.path.join(d, "net.fodt"), "doc:MS Word 97", d)
        doc = open(os.path.join(d, "net.doc"), "rb").read()
        assert ("http://127.0.0.1:%d/net.png" % port).encode() in doc  # a link, not a copy
        # Witness: the same .doc outside the jail reaches both.
        _Handler.hits.clear()
        os.makedirs(os.path.join(d, "bare"), exist_ok=True)
        bare_convert(d, os.path.join(d, "net.doc"), "pdf", os.path.join(d, "bare"))
        assert any("GET /net.png" in h for h in _Handler.hits), _Handler.hits
        bare = subprocess.run(["pdfimages", "-list", os.path.join(d, "bare", "net.pdf")],
                              capture_output=True).stdout.decode().splitlines()[2:]
        assert len(bare) == 2, bare
        # In the jail: no request arrives, no picture is read.
        _Handler.hits.clear()
        rep, pdf = run(doc, "link.doc")
        assert rep["verdict"] == "sanitized", rep
        text, images = intermediate(doc, "doc")
        assert "リンク" in text
        assert images.splitlines()[2:] == []
        assert _Handler.hits == []
        # A probe inside the jail: the host's listening port and file are out of reach.
        with socket.create_connection(("127.0.0.1", port), 3):
            pass  # reachable from the host
        _Handler.hits.clear()
        r = subprocess.run([JAIL_TOOL, "probe", str(port), secret], capture_output=True,
                           timeout=60)
        assert r.stdout.decode() == "connect: Connection refused\nread: failed\n", r
        assert _Handler.hits == []
    finally:
        srv.shutdown()


MACRO_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.2">
<office:scripts><office:event-listeners><script:event-listener script:language="ooo:script"
 script:event-name="dom:load" xlink:type="simple"
 xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document"/>
</office:event-listeners></office:scripts>
<office:body><office:text><text:p>本文 original</text:p></office:text></office:body>
</office:document-content>"""
MACRO_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1"
 script:language="StarBasic">Sub Main
  Open &quot;%s&quot; For Output As #1
  Print #1, &quot;macro ran&quot;
  Close #1
  ThisComponent.Text.getEnd().setString(&quot; MACRORAN&quot;)
End Sub
</script:module>"""


MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path'
            '="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
            + "".join('<manifest:file-entry manifest:full-path="%s" '
                      'manifest:media-type="text/xml"/>' % p
                      for p in ("content.xml", "Basic/script-lc.xml",
                                "Basic/Standard/script-lb.xml", "Basic/Standard/Module1.xml"))
            + '</manifest:manifest>')
SCRIPT_LC = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<library:libraries xmlns:library="http://openoffice.org/2000/library" '
             'xmlns:xlink="http://www.w3.org/1999/xlink"><library:library library:name='
             '"Standard" xlink:href="./Standard/script-lb.xml/" xlink:type="simple" '
             'library:link="false"/></library:libraries>')
SCRIPT_LB = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<library:library xmlns:library="http://openoffice.org/2000/library" '
             'library:name="Standard" library:readonly="false" '
             'library:passwordprotected="false"><library:element library:name="Module1"/>'
             '</library:library>')


@needs_jail
def test_auto_open_macro_never_runs(docs):
    """An on-load Basic macro that would write a marker file and add text:
    in the jail neither happens, and the document's own text survives."""
    d = docs[0]
    marker = os.path.join(d, "MARKER")
    b = os.path.join(d, "macro.odt")
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", MACRO_CONTENT)
        z.writestr("META-INF/manifest.xml", MANIFEST)
        z.writestr("Basic/script-lc.xml", SCRIPT_LC)
        z.writestr("Basic/Standard/script-lb.xml", SCRIPT_LB)
        z.writestr("Basic/Standard/Module1.xml", MACRO_MODULE % marker)
    text, _ = intermediate(open(b, "rb").read(), "odt")
    assert "本文 original" in text
    assert "MACRORAN" not in text
    assert not os.path.exists(marker)


def fodg(text):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document %s office:mimetype='
            '"application/vnd.oasis.opendocument.graphics"><office:body><office:drawing>'
            '<draw:page draw:name="p1"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="15cm" '
            'svg:height="3cm"><draw:text-box><text:p>%s</text:p></draw:text-box></draw:frame>'
            '</draw:page></office:drawing></office:body></office:document>' % (NS, text))


@pytest.fixture(scope="module")
def odg(docs):
    d = docs[0]
    open(os.path.join(d, "plan.fodg"), "w").write(fodg("案内図 市役所本庁舎"))
    bare_convert(d, os.path.join(d, "plan.fodg"), "odg", d)
    return open(os.path.join(d, "plan.odg"), "rb").read()


def test_odf_drawing_is_blocked_by_cdr_for_its_structure(odg):
    """What CDR alone says of an ODF drawing: not rebuilt (no allowlist for it)."""
    rep, out = run(odg, "案内図.odg", config="legacy_policy = block\n")
    assert out is None and rep["verdict"] == "blocked"
    assert rep["reason"] == "unsupported-type: ODF document type not supported"


@needs_jail
def test_odf_drawing_cdr_cannot_rebuild_is_converted(odg):
    rep, pdf = run(odg, "案内図.odg")
    assert rep["verdict"] == "sanitized" and rep["type"] == "odf", rep
    assert rep["out_type"] == "pdf" and rep["pages"] == 1
    assert rep["actions"] == ["pdf-flattened: 1 pages at 150 dpi", "legacy-converted: 案内図.odg"]
    mid_text, _ = intermediate(odg, "")
    assert "案内図 市役所本庁舎" in mid_text.replace("\n", " "), mid_text
    txt, fonts, images = pdf_tools(pdf)
    assert txt.strip("\f\n ") == "" and fonts.splitlines()[2:] == []
    assert len(images.splitlines()[2:]) == 1
    assert "/Font" not in assert_pdf_clean(pdf)


def test_encrypted_odf_drawing_stays_blocked(odg):
    """Encrypted is not a structure reason: never sent to LibreOffice."""
    import io
    src, b = zipfile.ZipFile(io.BytesIO(odg)), io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for n in src.namelist():
            data = src.read(n)
            if n == "META-INF/manifest.xml":
                data = data.replace(b"</manifest:file-entry>", b"<manifest:encryption-data/>"
                                    b"</manifest:file-entry>", 1)
                data = data.replace(b'manifest:media-type="text/xml"/>', b'manifest:media-type='
                                    b'"text/xml"><manifest:encryption-data/></manifest:file-entry>', 1)
            z.writestr(zipfile.ZipInfo(n), data)
    assert b"encryption-data" in zipfile.ZipFile(b).read("META-INF/manifest.xml")
    rep, out = run(b.getvalue(), "案内図.odg")
    assert out is None and rep["verdict"] == "blocked" and rep["reason"] == "encrypted", rep


DRAW_MACRO_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content %s
 xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0">
<office:scripts><office:event-listeners><script:event-listener script:language="ooo:script"
 script:event-name="dom:load" xlink:type="simple"
 xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document"/>
</office:event-listeners></office:scripts>
<office:body><office:drawing><draw:page draw:name="p1"><draw:frame svg:x="2cm" svg:y="2cm"
 svg:width="15cm" svg:height="3cm"><draw:text-box><text:p>配置図 original</text:p></draw:text-box>
</draw:frame></draw:page></office:drawing></office:body></office:document-content>"""
DRAW_MACRO_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1"
 script:language="StarBasic">Sub Main
  Open &quot;%s&quot; For Output As #1
  Print #1, &quot;macro ran&quot;
  Close #1
  ThisComponent.DrawPages(0).getByIndex(0).setString(&quot;MACRORAN&quot;)
End Sub
</script:module>"""


@needs_jail
def test_auto_open_macro_in_a_converted_drawing_never_runs(docs):
    """An ODF drawing (CDR cannot rebuild it: it goes to LibreOffice) whose
    document-open event is bound to a Basic macro that writes a marker file
    and replaces the drawing's text (which would show inside the jail, where
    the host file cannot). It is converted; neither happens."""
    d = docs[0]
    marker = os.path.join(d, "DRAW_MARKER")
    mime = "application/vnd.oasis.opendocument.graphics"
    b = os.path.join(d, "macro.odg")
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mime)
        z.writestr("content.xml", DRAW_MACRO_CONTENT % NS.replace(' office:version="1.2"', ""))
        z.writestr("META-INF/manifest.xml", MANIFEST.replace(
            "application/vnd.oasis.opendocument.text", mime))
        z.writestr("Basic/script-lc.xml", SCRIPT_LC)
        z.writestr("Basic/Standard/script-lb.xml", SCRIPT_LB)
        z.writestr("Basic/Standard/Module1.xml", DRAW_MACRO_MODULE % marker)
    data = open(b, "rb").read()
    # The macro really is bound: the open event names it, the library holds it.
    z = zipfile.ZipFile(b)
    assert ('script:event-name="dom:load"' in z.read("content.xml").decode()
            and "Standard.Module1.Main?language=Basic&amp;location=document"
            in z.read("content.xml").decode())
    assert 'library:element library:name="Module1"' in z.read("Basic/Standard/script-lb.xml").decode()
    assert "Sub Main" in z.read("Basic/Standard/Module1.xml").decode()
    rep, pdf = run(data, "配置図.odg")
    assert rep["verdict"] == "sanitized" and rep["actions"][-1] == "legacy-converted: 配置図.odg"
    text, _ = intermediate(data, "")
    assert "配置図 original" in text and "MACRORAN" not in text
    assert not os.path.exists(marker)  # (the host is out of the jail's reach anyway)
