"""`mugai file sanitize` on PDF: each hostile construct of issue 3 §10, in
both modes, checked by qpdf (--check, JSON object dump, QDF grep)."""
import subprocess
import tempfile

import pytest

from test_file_util import (assert_pdf_clean, pdf, pdf_names, pdf_update, qdf_text, qpdf,
                            sanitize, simple_pdf, stream)

MODES = ["flatten", "rebuild"]

JS_OPENACTION = simple_pdf("/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>")


def ok(data, mode, **kw):
    rc, rep, out = sanitize(data, "x.pdf", mode=mode, **kw)
    assert rc == 0
    assert rep["verdict"] == "sanitized", rep
    assert rep["type"] == "pdf" and rep["out_type"] == "pdf" and rep["mode"] == mode
    assert rep["pages"] >= 1 and rep["out_bytes"] == len(out)
    return rep, out


def test_input_really_is_hostile():
    names = pdf_names(JS_OPENACTION)
    assert "/OpenAction" in names and "/JavaScript" in names


@pytest.mark.parametrize("mode", MODES)
def test_openaction_javascript(mode):
    rep, out = ok(JS_OPENACTION, mode)
    assert_pdf_clean(out)
    if mode == "rebuild":
        assert "pdf-action-removed: /OpenAction" in rep["actions"]
        assert b"Hello mugai" in qpdf("--qdf", "--object-streams=disable", data=out)


@pytest.mark.parametrize("mode", MODES)
def test_javascript_in_object_stream(mode):
    names = "/Names << /JavaScript << /Names [(x) 6 0 R] >> >>"
    src = simple_pdf(names, "/AA << /O 7 0 R >>", [
        "<< /S /JavaScript /JS (app.alert\\(2\\)) >>",
        "<< /S /JavaScript /JS (app.alert\\(3\\)) >>",
    ])
    src = qpdf("--object-streams=generate", "--compress-streams=y", data=src)
    assert b"/ObjStm" in src and b"app.alert" not in src  # JS hidden in a compressed ObjStm
    rep, out = ok(src, mode)
    assert_pdf_clean(out)


@pytest.mark.parametrize("mode", MODES)
def test_javascript_added_by_incremental_update(mode):
    base = simple_pdf()
    upd = pdf_update(base, {
        1: "<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
        6: "<< /S /JavaScript /JS (app.alert\\(4\\)) >>",
    }, 7)
    assert "/JavaScript" in pdf_names(upd)
    rep, out = ok(upd, mode)
    assert_pdf_clean(out)
    assert out.count(b"%%EOF") == 1  # one revision
    if mode == "rebuild":
        assert any("incremental" in a for a in rep["actions"])


@pytest.mark.parametrize("mode", MODES)
def test_launch_submitform_gotor_in_annotations(mode):
    annots = "/Annots [6 0 R 7 0 R 8 0 R]"
    src = simple_pdf("", annots, [
        "<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /Launch /F (cmd.exe) "
        "/Win << /F (calc.exe) >> >> >>",
        "<< /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /A << /S /SubmitForm /F (http://x) >> >>",
        "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /GoToR /F (other.pdf) /D [0 /Fit] >> >>",
    ])
    rep, out = ok(src, mode)
    names = assert_pdf_clean(out)
    assert "/Win" not in names
    if mode == "rebuild":
        assert "pdf-action-removed: Launch action" in rep["actions"]


@pytest.mark.parametrize("mode", MODES)
def test_embedded_file_and_attachment_annotation(mode):
    src = simple_pdf("/Names << /EmbeddedFiles << /Names [(evil.exe) 6 0 R] >> >>",
                     "/Annots [8 0 R]", [
        "<< /Type /Filespec /F (evil.exe) /EF << /F 7 0 R >> >>",
        stream("/Type /EmbeddedFile", "MZ\x90\x00evil payload"),
        "<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS 6 0 R >>",
    ])
    rep, out = ok(src, mode)
    assert_pdf_clean(out)
    assert b"evil payload" not in qpdf("--qdf", "--object-streams=disable", data=out)
    if mode == "rebuild":
        assert "pdf-annotation-removed: FileAttachment annotation" in rep["actions"]


@pytest.mark.parametrize("mode", MODES)
def test_richmedia_xfa(mode):
    src = simple_pdf("/AcroForm << /Fields [] /XFA 6 0 R >>", "/Annots [7 0 R]", [
        stream("", "<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>"),
        "<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] /RichMediaContent << >> >>",
    ])
    rep, out = ok(src, mode)
    assert_pdf_clean(out)


def test_uri_removed_by_default_kept_by_config():
    src = simple_pdf("", "/Annots [6 0 R]", [
        "<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /URI /URI (http://example.com/) >> >>",
    ])
    rep, out = ok(src, "rebuild")
    assert_pdf_clean(out)
    rep, out = ok(src, "rebuild", config="pdf_keep_uri = yes\n")
    assert "/URI" in pdf_names(out)
    assert_pdf_clean(out, allow=("/URI",))


@pytest.mark.parametrize("mode", MODES)
def test_broken_xref_is_repaired(mode):
    src = bytearray(JS_OPENACTION)
    i = src.index(b"xref\n0 6\n") + len(b"xref\n0 6\n") + 20
    src[i:i + 10] = b"0000099999"  # object 1 offset now wrong
    rep, out = ok(bytes(src), mode)
    assert_pdf_clean(out)
    if mode == "rebuild":
        assert "pdf-repaired: broken cross-reference table" in rep["actions"]


@pytest.mark.parametrize("mode", MODES)
def test_encrypted_without_user_password_is_decrypted(mode):
    src = qpdf("--encrypt", "", "owner-secret", "256", "--", data=JS_OPENACTION)
    assert b"/Encrypt" in src
    rep, out = ok(src, mode)
    assert b"/Encrypt" not in out
    assert_pdf_clean(out)


@pytest.mark.parametrize("mode", MODES)
def test_encrypted_with_user_password_is_blocked(mode):
    src = qpdf("--encrypt", "user-secret", "owner-secret", "256", "--", data=JS_OPENACTION)
    rc, rep, out = sanitize(src, "x.pdf", mode=mode)
    assert rc == 0 and out is None
    assert rep["verdict"] == "blocked" and rep["reason"] == "encrypted"


def test_page_sizes_kept_when_flattened():
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] >>",
    ]
    rep, out = ok(pdf(objs), "flatten")
    assert rep["pages"] == 2
    q = qpdf("--qdf", "--object-streams=disable", data=out)
    assert b"/MediaBox [\n    0\n    0\n    612\n    792\n  ]" in q or b"612" in q
    assert b"842" in q and b"595" in q
    assert_pdf_clean(out)


def test_page_limit_blocks():
    rc, rep, out = sanitize(JS_OPENACTION, "x.pdf", config="pdf_pages_max = 1\n")
    assert rep["verdict"] == "sanitized"
    kids = " ".join("%d 0 R" % (3 + i) for i in range(3))
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [%s] /Count 3 >>" % kids]
    objs += ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"] * 3
    rc, rep, out = sanitize(pdf(objs), "x.pdf", config="pdf_pages_max = 2\n")
    assert rep["verdict"] == "blocked" and "pdf_pages_max" in rep["reason"] and out is None


def test_default_mode_is_flatten_and_config_selects_rebuild():
    rc, rep, out = sanitize(JS_OPENACTION, "x.pdf")
    assert rep["mode"] == "flatten"
    rc, rep, out = sanitize(JS_OPENACTION, "x.pdf", config="pdf_mode = rebuild\n")
    assert rep["mode"] == "rebuild"


def test_policy_remove_blocks_pdf():
    rc, rep, out = sanitize(JS_OPENACTION, "x.pdf", config="pdf_policy = remove\n")
    assert rep["verdict"] == "blocked" and "pdf_policy" in rep["reason"] and out is None


def qpdf_objects(data):
    """Every object as qpdf --json shows it (an independent reader)."""
    import json
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["qpdf", "--json=2", "--json-key=qpdf", f.name], capture_output=True)
        assert r.returncode in (0, 3), r.stderr
        return json.loads(r.stdout)["qpdf"][1]


def action_types(data):
    """The /S of every dict that sits under /A or /Next, or has /Type /Action."""
    found = []

    def walk(v, key=None):
        if isinstance(v, dict):
            if (key in ("/A", "/Next") or v.get("/Type") == "/Action") and "/S" in v:
                found.append((v["/S"], v.get("/N")))
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
    for k, o in qpdf_objects(data).items():
        if k.startswith("obj:"):
            walk(o.get("value", o.get("stream", {}).get("dict")))
    return found


def test_rebuild_keeps_only_allowlisted_actions():
    """Thread (remote /F), SetOCGState, Hide, Named Print, an unknown type,
    a chained /Next Launch and an outline Launch go; GoTo and Named
    NextPage/PrevPage stay, and the page text survives."""
    link = "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A %s >>"
    src = simple_pdf("/Outlines 13 0 R", "/Annots [6 0 R 7 0 R 8 0 R 9 0 R 10 0 R 11 0 R 12 0 R]", [
        link % "<< /S /Thread /F (\\\\\\\\evil\\\\share\\\\t.pdf) /D 0 >>",
        link % "<< /S /GoTo /D [3 0 R /Fit] /Next << /S /Launch /F (calc.exe) >> >>",
        link % "<< /S /Named /N /NextPage >>",
        link % "<< /S /Named /N /Print >>",
        link % "<< /S /SetOCGState /State [/OFF] >>",
        link % "<< /S /Foo /F (x) >>",
        "<< /Type /Annot /Subtype /Widget /FT /Btn /T (b) /Rect [0 0 5 5] /A << /S /Hide /T (b) >> >>",
        "<< /Type /Outlines /First 14 0 R /Last 14 0 R /Count 1 >>",
        "<< /Title (t) /Parent 13 0 R /A << /S /Launch /F (cmd.exe) >> >>",
    ])
    rep, out = ok(src, "rebuild")
    assert_pdf_clean(out)
    assert sorted(action_types(out)) == [("/GoTo", None), ("/Named", "/NextPage")]
    for t in ("Thread", "Launch", "SetOCGState", "Hide", "Foo", "Named"):
        assert any(a.startswith(f"pdf-action-removed: {t} action") for a in rep["actions"]), t
    assert b"Hello mugai" in qdf_text(out)
    assert b"evil" not in qdf_text(out)
