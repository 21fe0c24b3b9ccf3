/*
 * ooxml_allow.c — the allowlists of OOXML CDR, in one place, so that an
 * administrator can read (and a developer extend) exactly what survives.
 *
 * A part survives when (1) it is reached from the package root through
 * relationships whose type is in rel_allow for the document's kind, with an
 * internal target, and (2) its content type ([Content_Types].xml, Override
 * first, then Default by extension) is in ct_allow for that kind. Every
 * other part and relationship is dropped and listed in the report. Images
 * are further decoded and re-encoded (image.c); XML parts are parsed and
 * rewritten (ooxml.c: fields, formulas, attributes).
 *
 * Deliberately absent (dropped wherever they appear): vbaProject/vbaData
 * (VBA), macrosheet/intlmacrosheet/dialogsheet (XLM macros), activeX and
 * control, oleObject, package and embeddings, externalLink, connections,
 * queryTable, xmlMaps, volatileDependencies (RTD), customUI/ribbon
 * extensibility, webextension/taskpanes (Office add-ins), attachedTemplate,
 * aFChunk (altChunk), subDocument, frame, hyperlink (always external),
 * printerSettings, fonts (embedded fonts), audio/video, customizations and
 * keymaps, glossary's macros (the glossary document itself is kept),
 * revisions and user names.
 *
 * To extend: add a row { "content type or relationship type", OX_WORD |
 * OX_SHEET | OX_SLIDE } below and the same string to the independent copy in
 * tests/cli/test_file_office_cdr.py. Adding a type means vouching that parts
 * of that type cannot run code or reach outside (or that ooxml.c's XML
 * rewrite removes whatever in them could).
 *
 * Specs: ECMA-376 Part 1 §11–§15 (part and relationship types), Part 2 (OPC),
 * [MS-OFFCRYPTO]-free; [MS-DOCX], [MS-XLSX], [MS-PPTX] for the Microsoft ones.
 *
 * SECURITY: constant tables; no input is interpreted here.
 */
#include "cdr/cdr_ooxml.h"

#include <string.h>
#include <stdio.h>
#include <strings.h>
#include "common/limits.h"

typedef struct allow {
	const char *name;
	unsigned kinds;
} allow_t;

#define OD "application/vnd.openxmlformats-officedocument."
#define WML OD "wordprocessingml."
#define SML OD "spreadsheetml."
#define PML OD "presentationml."

static const allow_t ct_allow[] = {
	/* package and shared parts */
	{ "application/vnd.openxmlformats-package.relationships+xml", OX_ALL },
	{ "application/vnd.openxmlformats-package.core-properties+xml", OX_ALL },
	{ OD "extended-properties+xml", OX_ALL },
	{ OD "custom-properties+xml", OX_ALL },
	{ OD "theme+xml", OX_ALL },
	{ OD "themeOverride+xml", OX_ALL },
	{ OD "drawingml.chart+xml", OX_ALL },
	{ OD "drawingml.chartshapes+xml", OX_ALL },
	{ OD "drawingml.diagramData+xml", OX_ALL },
	{ OD "drawingml.diagramLayout+xml", OX_ALL },
	{ OD "drawingml.diagramStyle+xml", OX_ALL },
	{ OD "drawingml.diagramColors+xml", OX_ALL },
	{ "application/vnd.ms-office.drawingml.diagramDrawing+xml", OX_ALL },
	{ "application/vnd.ms-office.chartstyle+xml", OX_ALL },
	{ "application/vnd.ms-office.chartcolorstyle+xml", OX_ALL },
	{ OD "vmlDrawing", OX_ALL },
	{ OD "customXmlProperties+xml", OX_ALL },
	{ "application/xml", OX_ALL }, /* customXml data items */
	{ "image/png", OX_ALL },
	{ "image/jpeg", OX_ALL },
	{ "image/jpg", OX_ALL },
	{ "image/gif", OX_ALL },
	{ "image/bmp", OX_ALL },
	{ "image/tiff", OX_ALL },
	/* wordprocessing */
	{ WML "document.main+xml", OX_WORD },
	{ WML "template.main+xml", OX_WORD },
	{ "application/vnd.ms-word.document.macroEnabled.main+xml", OX_WORD },
	{ "application/vnd.ms-word.template.macroEnabledTemplate.main+xml", OX_WORD },
	{ WML "document.glossary+xml", OX_WORD },
	{ WML "styles+xml", OX_WORD },
	{ WML "settings+xml", OX_WORD },
	{ WML "webSettings+xml", OX_WORD },
	{ WML "fontTable+xml", OX_WORD },
	{ WML "numbering+xml", OX_WORD },
	{ WML "footnotes+xml", OX_WORD },
	{ WML "endnotes+xml", OX_WORD },
	{ WML "comments+xml", OX_WORD },
	{ WML "commentsExtended+xml", OX_WORD },
	{ WML "commentsIds+xml", OX_WORD },
	{ WML "commentsExtensible+xml", OX_WORD },
	{ WML "people+xml", OX_WORD },
	{ WML "header+xml", OX_WORD },
	{ WML "footer+xml", OX_WORD },
	{ "application/vnd.ms-word.stylesWithEffects+xml", OX_WORD },
	/* spreadsheet */
	{ SML "sheet.main+xml", OX_SHEET },
	{ SML "template.main+xml", OX_SHEET },
	{ "application/vnd.ms-excel.sheet.macroEnabled.main+xml", OX_SHEET },
	{ "application/vnd.ms-excel.template.macroEnabled.main+xml", OX_SHEET },
	{ SML "worksheet+xml", OX_SHEET },
	{ SML "chartsheet+xml", OX_SHEET },
	{ SML "sharedStrings+xml", OX_SHEET },
	{ SML "styles+xml", OX_SHEET },
	{ SML "calcChain+xml", OX_SHEET },
	{ SML "table+xml", OX_SHEET },
	{ SML "comments+xml", OX_SHEET },
	{ SML "pivotTable+xml", OX_SHEET },
	{ SML "pivotCacheDefinition+xml", OX_SHEET },
	{ SML "pivotCacheRecords+xml", OX_SHEET },
	{ SML "sheetMetadata+xml", OX_SHEET },
	{ OD "drawing+xml", OX_SHEET },
	{ "application/vnd.ms-excel.threadedcomments+xml", OX_SHEET },
	{ "application/vnd.ms-excel.person+xml", OX_SHEET },
	/* presentation */
	{ PML "presentation.main+xml", OX_SLIDE },
	{ PML "slideshow.main+xml", OX_SLIDE },
	{ PML "template.main+xml", OX_SLIDE },
	{ "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml", OX_SLIDE },
	{ "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml", OX_SLIDE },
	{ "application/vnd.ms-powerpoint.template.macroEnabled.main+xml", OX_SLIDE },
	{ PML "slide+xml", OX_SLIDE },
	{ PML "slideLayout+xml", OX_SLIDE },
	{ PML "slideMaster+xml", OX_SLIDE },
	{ PML "notesSlide+xml", OX_SLIDE },
	{ PML "notesMaster+xml", OX_SLIDE },
	{ PML "handoutMaster+xml", OX_SLIDE },
	{ PML "presProps+xml", OX_SLIDE },
	{ PML "viewProps+xml", OX_SLIDE },
	{ PML "tableStyles+xml", OX_SLIDE },
	{ PML "commentAuthors+xml", OX_SLIDE },
	{ PML "comments+xml", OX_SLIDE },
	{ PML "tags+xml", OX_SLIDE },
	{ "application/vnd.ms-powerpoint.comments+xml", OX_SLIDE },
	{ "application/vnd.ms-powerpoint.authors+xml", OX_SLIDE },
};

#define RT "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
#define PKG "http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
#define MS "http://schemas.microsoft.com/office/"
#define STRICT "http://purl.oclc.org/ooxml/officeDocument/relationships/"

static const allow_t rel_allow[] = {
	{ RT "officeDocument", OX_ALL },
	{ PKG "core-properties", OX_ALL },
	{ PKG "thumbnail", OX_ALL },
	{ RT "extended-properties", OX_ALL },
	{ RT "custom-properties", OX_ALL },
	{ RT "theme", OX_ALL },
	{ RT "themeOverride", OX_ALL },
	{ RT "image", OX_ALL },
	{ RT "chart", OX_ALL },
	{ RT "chartUserShapes", OX_ALL },
	{ MS "2011/relationships/chartStyle", OX_ALL },
	{ MS "2011/relationships/chartColorStyle", OX_ALL },
	{ RT "diagramData", OX_ALL },
	{ RT "diagramLayout", OX_ALL },
	{ RT "diagramQuickStyle", OX_ALL },
	{ RT "diagramColors", OX_ALL },
	{ MS "2007/relationships/diagramDrawing", OX_ALL },
	{ RT "customXml", OX_ALL },
	{ RT "customXmlProps", OX_ALL },
	{ RT "vmlDrawing", OX_ALL },
	/* wordprocessing */
	{ RT "styles", OX_WORD | OX_SHEET },
	{ RT "settings", OX_WORD },
	{ RT "webSettings", OX_WORD },
	{ RT "fontTable", OX_WORD },
	{ RT "numbering", OX_WORD },
	{ RT "footnotes", OX_WORD },
	{ RT "endnotes", OX_WORD },
	{ RT "comments", OX_WORD | OX_SHEET | OX_SLIDE },
	{ RT "header", OX_WORD },
	{ RT "footer", OX_WORD },
	{ RT "glossaryDocument", OX_WORD },
	{ MS "2007/relationships/stylesWithEffects", OX_WORD },
	{ MS "2011/relationships/people", OX_WORD },
	{ MS "2011/relationships/commentsExtended", OX_WORD },
	{ MS "2016/09/relationships/commentsIds", OX_WORD },
	{ MS "2018/08/relationships/commentsExtensible", OX_WORD },
	/* spreadsheet */
	{ RT "worksheet", OX_SHEET },
	{ RT "chartsheet", OX_SHEET },
	{ RT "sharedStrings", OX_SHEET },
	{ RT "calcChain", OX_SHEET },
	{ RT "table", OX_SHEET },
	{ RT "pivotTable", OX_SHEET },
	{ RT "pivotCacheDefinition", OX_SHEET },
	{ RT "pivotCacheRecords", OX_SHEET },
	{ RT "drawing", OX_SHEET },
	{ RT "sheetMetadata", OX_SHEET },
	{ MS "2017/10/relationships/threadedComment", OX_SHEET },
	{ MS "2017/10/relationships/person", OX_SHEET },
	/* presentation */
	{ RT "slide", OX_SLIDE },
	{ RT "slideLayout", OX_SLIDE },
	{ RT "slideMaster", OX_SLIDE },
	{ RT "notesSlide", OX_SLIDE },
	{ RT "notesMaster", OX_SLIDE },
	{ RT "handoutMaster", OX_SLIDE },
	{ RT "presProps", OX_SLIDE },
	{ RT "viewProps", OX_SLIDE },
	{ RT "tableStyles", OX_SLIDE },
	{ RT "commentAuthors", OX_SLIDE },
	{ RT "tags", OX_SLIDE },
	{ MS "2018/10/relationships/comments", OX_SLIDE },
	{ MS "2018/10/relationships/authors", OX_SLIDE },
};

/* Word fields with no external effect: page/date/document-property values,
 * references and numbering inside the document, tables of contents and
 * indexes, form fields, arithmetic. Everything else (ASK, FILLIN, INCLUDE*,
 * HYPERLINK with a target, DDE, DDEAUTO, LINK, IMPORT, DATABASE, MERGE*,
 * NEXT*, SKIPIF, MACROBUTTON, AUTOTEXT*, PRINT, PRIVATE, ADDIN, RD,
 * FILENAME, USER* …) is replaced by its displayed result. HYPERLINK is
 * allowed by ooxml.c only as "HYPERLINK \l bookmark" (a jump inside the
 * document, as in tables of contents). */
static const char *const field_allow[] = {
	"=", "ADVANCE", "AUTHOR", "AUTONUM", "AUTONUMLGL", "AUTONUMOUT", "BARCODE",
	"BIDIOUTLINE", "COMMENTS", "COMPARE", "CREATEDATE", "DATE", "DISPLAYBARCODE",
	"DOCPROPERTY", "EDITTIME", "EQ", "FORMCHECKBOX", "FORMDROPDOWN", "FORMTEXT",
	"GOTOBUTTON", "IF", "INDEX", "INFO", "KEYWORDS", "LASTSAVEDBY", "LISTNUM", "NOTEREF",
	"NUMCHARS", "NUMPAGES", "NUMWORDS", "PAGE", "PAGEREF", "PRINTDATE", "QUOTE", "REF",
	"REVNUM", "SAVEDATE", "SECTION", "SECTIONPAGES", "SEQ", "SET", "STYLEREF", "SUBJECT",
	"SYMBOL", "TA", "TC", "TEMPLATE", "TIME", "TITLE", "TOA", "TOC", "XE",
};

static bool in_table(const allow_t *t, size_t n, const char *name, unsigned kind)
{
	for (size_t i = 0; i < n; i++)
		if ((t[i].kinds & kind) && strcasecmp(t[i].name, name) == 0)
			return true;
	return false;
}

bool cdr_ooxml_ct_allowed(const char *ct, unsigned kind)
{
	char base[OOXML_CT_MAX];
	const char *semi = strchr(ct, ';');

	if (semi) { /* "application/xml; charset=utf-8" */
		size_t n = (size_t)(semi - ct);

		while (n && ct[n - 1] == ' ')
			n--;
		if (n >= sizeof(base))
			return false;
		memcpy(base, ct, n);
		base[n] = '\0';
		ct = base;
	}
	return in_table(ct_allow, sizeof(ct_allow) / sizeof(ct_allow[0]), ct, kind);
}

bool cdr_ooxml_rel_allowed(const char *type, unsigned kind)
{
	char mapped[OOXML_REL_TYPE_MAX];

	if (strncmp(type, STRICT, strlen(STRICT)) == 0 &&
	    (size_t)snprintf(mapped, sizeof(mapped), RT "%s", type + strlen(STRICT)) < sizeof(mapped))
		type = mapped;
	for (size_t i = 0; i < sizeof(rel_allow) / sizeof(rel_allow[0]); i++)
		if ((rel_allow[i].kinds & kind) && strcmp(rel_allow[i].name, type) == 0)
			return true;
	return false;
}

bool cdr_ooxml_field_allowed(const char *word)
{
	for (size_t i = 0; i < sizeof(field_allow) / sizeof(field_allow[0]); i++)
		if (strcmp(field_allow[i], word) == 0)
			return true;
	return false;
}
