#!/usr/bin/python3
"""legacy.py BUILD [DOCS] [PAGES] — legacy conversion throughput, same run:

  bare     LibreOffice --convert-to pdf outside the jail (fresh profile each time)
  batch    the same, all documents in one LibreOffice start: bare - batch is
           what LibreOffice's start costs each document, the most a pool of
           converters kept running (issue #13 item 5) could save
  jail     the same conversion in the bubblewrap jail (build/tests/test_jail convert)
  flatten  mugai file sanitize on the jail's PDFs (flatten alone)
  full     mugai file sanitize on the .doc (worker + jail + worker flatten)
  mail     mugai mail sanitize on a message with the .doc attached
           (attachments = sanitize: two worker passes + jail + flatten)

Documents are .doc files of PAGES pages of Japanese text, written here as
flat ODF and converted by LibreOffice (untimed). Prints documents/s and
pages/s for each. Runs niced, one document at a time."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

build = sys.argv[1] if len(sys.argv) > 1 else "build"
ndocs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
npages = int(sys.argv[3]) if len(sys.argv) > 3 else 5
SOFFICE = "/usr/lib/libreoffice/program/soffice"
MUGAI = os.path.join(build, "mugai")
TOOL = os.path.join(build, "tests", "test_jail")

if not (os.access(SOFFICE, os.X_OK) and os.access("/usr/bin/bwrap", os.X_OK)):
    print("legacy: LibreOffice or bwrap missing, skipped")
    sys.exit(0)


def soffice(d, src, filt, outdir):
    srcs = src if isinstance(src, list) else [src]
    subprocess.run(["nice", SOFFICE, "--headless", "--norestore",
                    "-env:UserInstallation=file://" + tempfile.mkdtemp(dir=d),
                    "--convert-to", filt, "--outdir", outdir] + srcs,
                   capture_output=True, check=True, timeout=300)


def fodt(pages):
    para = "<text:p>令和六年度 事業計画書 第%d章 住民サービスの向上について記載します。</text:p>"
    body = "".join('<text:p text:style-name="B">第%d頁</text:p>' % p + para * 40 % tuple(
        [p] * 40) for p in range(pages))
    return ('<?xml version="1.0" encoding="UTF-8"?><office:document '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
            'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2" '
            'office:mimetype="application/vnd.oasis.opendocument.text"><office:automatic-styles>'
            '<style:style style:name="B" style:family="paragraph"><style:paragraph-properties '
            'fo:break-before="page"/></style:style></office:automatic-styles><office:body>'
            '<office:text>%s</office:text></office:body></office:document>' % body)


def mail(d, p):
    """mugai mail sanitize on a message carrying p; the PDF must come out."""
    import base64
    data = base64.encodebytes(open(p, "rb").read()).decode()
    msg = ("From: a@example.jp\nTo: b@example.lg.jp\nSubject: bench\nMIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain; "
           "charset=utf-8\n\nbench\n--B\nContent-Type: application/msword\n"
           "Content-Transfer-Encoding: base64\nContent-Disposition: attachment; "
           "filename=a.doc\n\n%s--B--\n" % data)
    src, cf = p + ".eml", os.path.join(d, "mail.cf")
    open(src, "w").write(msg)
    open(cf, "w").write("attachments = sanitize\n")
    subprocess.run(["nice", MUGAI, "mail", "sanitize", "-c", cf, src, src + ".out"],
                   check=True, capture_output=True, timeout=300)
    assert b"filename=a.pdf" in open(src + ".out", "rb").read().replace(b"\"", b"")
    return 0


def timed(fn, items):
    t = time.monotonic()
    pages = sum(fn(x) for x in items)
    return time.monotonic() - t, pages


def main():
    d = tempfile.mkdtemp(prefix="mugai-bench-legacy-")
    try:
        docs = []
        for i in range(ndocs):
            src = os.path.join(d, "d%d.fodt" % i)
            open(src, "w").write(fodt(npages))
            soffice(d, src, "doc:MS Word 97", d)
            docs.append(os.path.join(d, "d%d.doc" % i))

        def bare(p):
            out = os.path.join(d, "bare")
            soffice(d, p, "pdf", out)
            return 0

        def jail(p):
            subprocess.run(["nice", TOOL, "convert", p, p + ".mid.pdf"], check=True,
                           capture_output=True, timeout=300)
            return 0

        def sanitize(p):
            r = subprocess.run(["nice", MUGAI, "file", "sanitize", p, p + ".out.pdf"],
                               check=True, capture_output=True, timeout=300)
            rep = json.loads(r.stdout)
            assert rep["verdict"] == "sanitized", rep
            return rep["pages"]

        rows = []
        t, _ = timed(bare, docs)
        rows.append(("LibreOffice bare (no jail)", t))
        t_bare = t
        t, _ = timed(lambda _: soffice(d, docs, "pdf", os.path.join(d, "batch")) or 0, [0])
        rows.append(("bare, all in one start", t))
        t_batch = t
        t, _ = timed(jail, docs)
        rows.append(("LibreOffice in the jail", t))
        t, pages = timed(sanitize, [p + ".mid.pdf" for p in docs])
        rows.append(("flatten alone (150 dpi)", t))
        t, pages = timed(sanitize, docs)
        rows.append(("full: jail + flatten", t))
        t, _ = timed(lambda p: mail(d, p), docs)
        rows.append(("mail: .doc attachment", t))
        print("%d .doc documents of %d pages (Japanese text), one at a time, niced" %
              (ndocs, pages // ndocs))
        print("%-30s %10s %10s %12s" % ("", "docs/s", "pages/s", "s/doc"))
        for name, t in rows:
            print("%-30s %10.2f %10.2f %12.2f" % (name, ndocs / t, pages / t, t / ndocs))
        print("LibreOffice start, per document: %.2f s (bare minus one start)" %
              ((t_bare - t_batch) / ndocs))
    finally:
        shutil.rmtree(d, ignore_errors=True)


main()
