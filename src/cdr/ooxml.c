/*
 * ooxml.c — OOXML CDR (docx/xlsx/pptx, their templates and macro-enabled
 * variants) by positive selection: the package is rebuilt from the parts,
 * relationships, fields, formulas and attributes known to be safe, and
 * everything else is dropped and listed in the report.
 *
 * Step 0: two part names that differ only in letter case (OPC part names
 * are case-insensitive; a second "[content_types].xml" could declare the
 * package macro-enabled) block the file. The main part is the target of
 * the package's officeDocument relationship; its content type gives the
 * kind (wordprocessing, spreadsheet, presentation). Step 1 walks the
 * relationship graph from the package root: a relationship stays only when
 * its type is on the kind's allowlist (ooxml_allow.c), its target is inside
 * the package and exists, and the target's content type is on the
 * allowlist; images are decoded and re-encoded (image.c). Parts not reached
 * are dropped (VBA, XLM macro sheets, ActiveX, OLE, external links,
 * connections, query tables, add-ins, customUI… are never on the list).
 * Step 2 rewrites every kept XML part: elements that hold active content are
 * removed (altChunk, OLE, controls, mail merge…); elements whose
 * relationship went are removed or unwrapped (a hyperlink becomes text); a
 * complex field's instruction is joined across all its runs and judged
 * against the field allowlist, and a field not on it is replaced by its
 * displayed result (fldSimple alike); every formula (cells, defined names,
 * conditional formats, data validation, chart references) goes through
 * formula.c and, when it fails, is removed with its cached value kept;
 * defined names that run macros (Auto_Open…) go; attributes that hold a
 * URL (VML href/src, o:href, action…) stay only when they point inside the
 * package. Step 3 rewrites [Content_Types].xml: only kept parts and
 * allowed types remain, and the main type is the macro-free one (docm →
 * docx…), which res->out_type reports. A part that does not parse blocks
 * the file.
 *
 * Specs: ECMA-376 Part 2 (OPC: content types, relationships, part names
 * §9.1.1.1 case-insensitive), Part 1 (WordprocessingML fields §17.16,
 * SpreadsheetML formulas §18.17, DrawingML charts §21.2, VML §19/Part 4).
 *
 * SECURITY: runs in the sanitizer worker; XML through xml.c (no DTD, no
 * entities, no network). Limits: xml_part_max and the zip limits.
 */
#include "cdr/cdr_formula.h"
#include "cdr/cdr_ooxml.h"
#include "cdr/cdr_xml.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REL_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define SML_NS "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define WML_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define CHART_NS "http://schemas.openxmlformats.org/drawingml/2006/chart"

typedef struct rel_drop {
	char *source;  /* part the dropped ids belong to ("" = package) */
	char *id;
} rel_drop_t;

typedef struct ox {
	cdr_job_t *job;
	cdr_zip_t *z;
	cdr_result_t *res;
	xmlDocPtr ct;        /* [Content_Types].xml */
	unsigned kind;       /* OX_WORD / OX_SHEET / OX_SLIDE */
	rel_drop_t *drops;
	size_t ndrops, cap;
	size_t *queue;       /* kept parts whose relationships are still to read */
	size_t nqueue;
	const char *part;    /* part being rewritten */
	char sheet[64];      /* its base name, for formula reports */
} ox_t;

static const struct main_type {
	const char *ct, *type, *out_type, *out_ct;
	unsigned kind;
} main_types[] = {
#define WML "application/vnd.openxmlformats-officedocument.wordprocessingml."
#define SML "application/vnd.openxmlformats-officedocument.spreadsheetml."
#define PML "application/vnd.openxmlformats-officedocument.presentationml."
	{ WML "document.main+xml", "docx", "docx", NULL, OX_WORD },
	{ WML "template.main+xml", "dotx", "dotx", NULL, OX_WORD },
	{ "application/vnd.ms-word.document.macroEnabled.main+xml", "docm", "docx", WML "document.main+xml", OX_WORD },
	{ "application/vnd.ms-word.template.macroEnabledTemplate.main+xml", "dotm", "dotx", WML "template.main+xml", OX_WORD },
	{ SML "sheet.main+xml", "xlsx", "xlsx", NULL, OX_SHEET },
	{ SML "template.main+xml", "xltx", "xltx", NULL, OX_SHEET },
	{ "application/vnd.ms-excel.sheet.macroEnabled.main+xml", "xlsm", "xlsx", SML "sheet.main+xml", OX_SHEET },
	{ "application/vnd.ms-excel.template.macroEnabled.main+xml", "xltm", "xltx", SML "template.main+xml", OX_SHEET },
	{ PML "presentation.main+xml", "pptx", "pptx", NULL, OX_SLIDE },
	{ PML "slideshow.main+xml", "ppsx", "ppsx", NULL, OX_SLIDE },
	{ PML "template.main+xml", "potx", "potx", NULL, OX_SLIDE },
	{ "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml", "pptm", "pptx", PML "presentation.main+xml", OX_SLIDE },
	{ "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml", "ppsm", "ppsx", PML "slideshow.main+xml", OX_SLIDE },
	{ "application/vnd.ms-powerpoint.template.macroEnabled.main+xml", "potm", "potx", PML "template.main+xml", OX_SLIDE },
#undef WML
#undef SML
#undef PML
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static const char *xattr(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)name);

	return a && a->children && a->children->content ? (const char *)a->children->content : NULL;
}

/* OPC part names are case-insensitive. */
static cdr_zentry_t *find_ci(cdr_zip_t *z, const char *name)
{
	if (name[0] == '/')
		name++;
	for (size_t i = 0; i < z->n; i++)
		if (strcasecmp(z->e[i].name, name) == 0)
			return &z->e[i];
	return NULL;
}

static int cmp_ci(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Two entries whose names differ only in case: block (0 with res blocked). */
static int case_twins(ox_t *ox)
{
	char **names = calloc(ox->z->n + 1, sizeof(*names));

	if (!names)
		return -1;
	for (size_t i = 0; i < ox->z->n; i++)
		names[i] = ox->z->e[i].name;
	qsort(names, ox->z->n, sizeof(*names), cmp_ci);
	for (size_t i = 0; i + 1 < ox->z->n; i++)
		if (*names[i] && strcasecmp(names[i], names[i + 1]) == 0) {
			cdr_block(ox->res, "ooxml-case-collision: %.80s, %.80s",
				  names[i], names[i + 1]);
			break;
		}
	free(names);
	return 0;
}

/* The content type of a part: Override by name, else Default by extension. */
static const char *part_ct(ox_t *ox, const char *name)
{
	xmlNodePtr root = xmlDocGetRootElement(ox->ct);
	const char *slash = strrchr(name, '/'), *dot = strrchr(slash ? slash : name, '.');

	if (name[0] == '/')
		name++;
	for (xmlNodePtr n = root->children; n; n = n->next) {
		const char *pn = cdr_xml_is(n, "Override") ? xattr(n, "PartName") : NULL;

		if (pn && strcasecmp(pn[0] == '/' ? pn + 1 : pn, name) == 0)
			return xattr(n, "ContentType");
	}
	for (xmlNodePtr n = root->children; dot && n; n = n->next) {
		const char *ext = cdr_xml_is(n, "Default") ? xattr(n, "Extension") : NULL;

		if (ext && strcasecmp(ext, dot + 1) == 0)
			return xattr(n, "ContentType");
	}
	return NULL;
}

static bool ct_is_xml(const char *ct)
{
	return ct && (ends_with(ct, "+xml") || strcasecmp(ct, "application/xml") == 0 ||
		      ends_with(ct, ".vmlDrawing"));
}

static bool ct_is_image(const char *ct)
{
	return ct && strncasecmp(ct, "image/", 6) == 0;
}

/* Resolve target relative to the source part's folder; drop "." and "..".
 * An empty out means the target is not a part name. */
static void resolve(const char *source, const char *target, char *out, size_t outlen)
{
	char tmp[OOXML_RESOLVE_MAX];
	const char *slash = strrchr(source, '/');
	size_t o = 0;

	out[0] = '\0';
	if (strchr(target, ':') || strchr(target, '\\') || strchr(target, '#') || strchr(target, '?'))
		return; /* a URL, a drive, a UNC path or a fragment: not a part */
	if (target[0] == '/')
		snprintf(tmp, sizeof(tmp), "%s", target + 1);
	else if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s%s%s", slash ? (int)(slash - source) : 0,
				  source, slash ? "/" : "", target) >= sizeof(tmp))
		return;
	for (char *save = NULL, *seg = strtok_r(tmp, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			char *p = strrchr(out, '/');
			o = p ? (size_t)(p - out) : 0;
			out[o] = '\0';
			continue;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? "/" : "", seg);
		if (o >= outlen) {
			out[0] = '\0';
			return;
		}
	}
}

/* "word/document.xml" → "word/_rels/document.xml.rels"; "" → "_rels/.rels". */
static void rels_name(const char *part, char *out, size_t outlen)
{
	const char *slash = strrchr(part, '/');

	snprintf(out, outlen, "%.*s%s_rels/%s.rels", slash ? (int)(slash - part) : 0, part,
		 slash ? "/" : "", slash ? slash + 1 : part);
}

/* ---- step 1: relationships from the package root ----------------------- */

static int keep_media(ox_t *ox, cdr_zentry_t *e)
{
	cdr_job_t sub = *ox->job;
	const char *type;
	cdr_kind_t k = cdr_sniff(e->data, e->len, &type);
	cdr_result_t r;
	int rc;

	if (k != CT_PNG && k != CT_JPEG && k != CT_GIF && k != CT_BMP && k != CT_TIFF)
		return 0;
	sub.depth++;
	rc = cdr_image_reencode(&sub, k, e->data, e->len, &r);
	if (rc == 0 && r.verdict == CDR_SANITIZED) {
		free(e->data);
		e->data = (unsigned char *)buf_steal(&r.out, &e->len);
		e->keep = true;
	}
	cdr_result_free(&r);
	return rc;
}

static int remember(ox_t *ox, const char *source, const char *id)
{
	if (ox->ndrops == ox->cap) {
		size_t cap = ox->cap ? ox->cap * 2 : 16;
		rel_drop_t *d = realloc(ox->drops, cap * sizeof(*d));

		if (!d)
			return -1;
		ox->drops = d;
		ox->cap = cap;
	}
	ox->drops[ox->ndrops].source = strdup(source);
	ox->drops[ox->ndrops].id = strdup(id ? id : "");
	if (!ox->drops[ox->ndrops].source || !ox->drops[ox->ndrops].id) {
		free(ox->drops[ox->ndrops].source);
		free(ox->drops[ox->ndrops].id);
		return -1;
	}
	ox->ndrops++;
	return 0;
}

static bool vml_parses(ox_t *ox, cdr_zentry_t *e)
{
	xmlDocPtr d;

	if ((long long)e->len > lim(ox->job->lim, LIM_XML_PART))
		return false;
	d = cdr_xml_parse(e->data, e->len, e->name, ox->res, true);
	xmlFreeDoc(d);
	return d != NULL;
}

/* Keep the target of a relationship (once) and queue it. NULL when it stays,
 * else why it goes. */
static const char *take_target(ox_t *ox, const char *source, xmlNodePtr rel, int *err)
{
	const char *type = xattr(rel, "Type"), *mode = xattr(rel, "TargetMode"),
		   *target = xattr(rel, "Target"), *ct;
	char path[ZIP_NAME_MAX];
	cdr_zentry_t *e;

	if (mode && strcasecmp(mode, "Internal") != 0)
		return "external";
	if (!type || !target)
		return "malformed";
	if (!cdr_ooxml_rel_allowed(type, ox->kind))
		return "type not allowed";
	resolve(source, target, path, sizeof(path));
	e = *path ? find_ci(ox->z, path) : NULL;
	if (!e || ends_with(e->name, ".rels") || strcasecmp(e->name, "[Content_Types].xml") == 0)
		return "target not in the package";
	ct = part_ct(ox, e->name);
	if (!ct || !cdr_ooxml_ct_allowed(ct, ox->kind))
		return "content type not allowed";
	if (e->keep)
		return NULL;
	if (ct_is_image(ct)) {
		if (keep_media(ox, e) < 0)
			*err = -1;
		if (!e->keep)
			return "image not readable";
	} else if (!ct_is_xml(ct)) {
		return "content type not allowed";
	} else if (ends_with(ct, ".vmlDrawing") && !vml_parses(ox, e)) {
		return "VML does not parse"; /* legacy VML is often not XML: drop, do not block */
	}
	e->keep = true;
	if (!ct_is_image(ct))
		ox->queue[ox->nqueue++] = (size_t)(e - ox->z->e);
	return NULL;
}

static const char *rel_short(const char *type)
{
	const char *s = type ? strrchr(type, '/') : NULL;

	return s ? s + 1 : "?";
}

static int rels_doc(ox_t *ox, xmlDocPtr doc, const char *source, const char *rels)
{
	xmlNodePtr n, next;
	int err = 0;

	for (n = xmlDocGetRootElement(doc)->children; n; n = next) {
		const char *why;

		next = n->next;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		why = cdr_xml_is(n, "Relationship") ? take_target(ox, source, n, &err) : "malformed";
		if (err < 0)
			return -1;
		if (!why)
			continue;
		if (remember(ox, source, xattr(n, "Id")) < 0 ||
		    cdr_action(ox->res, "relationship-removed: %s in %s (%s)",
			       rel_short(xattr(n, "Type")), rels, why) < 0)
			return -1;
		cdr_xml_remove(n);
	}
	return 0;
}

/* Parse, rewrite with fn, serialize back into e. 0 ok/blocked, -1 internal. */
typedef int (*rewrite_fn)(ox_t *ox, xmlDocPtr doc, cdr_zentry_t *e, const char *arg);

static int rewrite_part(ox_t *ox, cdr_zentry_t *e, rewrite_fn fn, const char *arg)
{
	xmlDocPtr doc;
	unsigned char *out = NULL;
	size_t len = 0;
	int rc = -1;

	if ((long long)e->len > lim(ox->job->lim, LIM_XML_PART))
		return cdr_block(ox->res, "limit:xml_part_max: %s", e->name);
	doc = cdr_xml_parse(e->data, e->len, e->name, ox->res, false);
	if (!doc)
		return 0;
	if (fn(ox, doc, e, arg) < 0 || cdr_xml_dump(doc, &out, &len) < 0)
		goto out;
	free(e->data);
	e->data = out;
	e->len = len;
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

static int rels_fn(ox_t *ox, xmlDocPtr doc, cdr_zentry_t *e, const char *source)
{
	return rels_doc(ox, doc, source, e->name);
}

/* Read the relationships of one kept part ("" = the package). */
static int visit(ox_t *ox, const char *source)
{
	char name[OOXML_REL_NAME_MAX];
	cdr_zentry_t *e;

	rels_name(source, name, sizeof(name));
	e = find_ci(ox->z, name);
	if (!e)
		return 0;
	e->keep = true;
	return rewrite_part(ox, e, rels_fn, source);
}

static int walk_graph(ox_t *ox)
{
	ox->queue = calloc(ox->z->n + 1, sizeof(*ox->queue));
	if (!ox->queue || visit(ox, "") < 0)
		return -1;
	for (size_t i = 0; i < ox->nqueue && cdr_pending(ox->res); i++)
		if (visit(ox, ox->z->e[ox->queue[i]].name) < 0)
			return -1;
	return 0;
}

static bool macro_part(const char *name, const char *ct)
{
	static const char *const m[] = { "vbaProject", "vbaData", "macrosheet", "macroEnabled",
					 "dialogsheet", "/activeX", "attachedToolbars" };

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(m); i++)
		if (strcasestr(name, m[i]) || (ct && strcasestr(ct, m[i])))
			return true;
	return false;
}

static int list_dropped(ox_t *ox)
{
	for (size_t i = 0; i < ox->z->n; i++) {
		cdr_zentry_t *e = &ox->z->e[i];
		const char *ct;
		int rc;

		if (e->keep || !*e->name || ends_with(e->name, "/") || ends_with(e->name, ".rels") ||
		    strcmp(e->name, "[Content_Types].xml") == 0)
			continue;
		ct = part_ct(ox, e->name);
		rc = macro_part(e->name, ct) ? cdr_action(ox->res, "macro-removed: %s", e->name)
					     : cdr_action(ox->res, "part-removed: %s", e->name);
		if (rc < 0)
			return -1;
	}
	return 0;
}
/* ---- step 2: XML parts --------------------------------------------------- */

static bool dropped_id(ox_t *ox, const char *id)
{
	for (size_t i = 0; i < ox->ndrops; i++)
		if (strcmp(ox->drops[i].source, ox->part) == 0 && strcmp(ox->drops[i].id, id) == 0)
			return true;
	return false;
}

static bool name_in(xmlNodePtr n, const char *const *list, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (cdr_xml_is(n, list[i]))
			return true;
	return false;
}

/* Elements removed with their content wherever they appear. */
static bool element_bad(xmlNodePtr n)
{
	static const char *const bad[] = {
		"altChunk", "OLEObject", "oleObj", "oleObjects", "oleObject", "control", "controls",
		"externalReferences", "externalReference", "ocx", "FmlaMacro", "ddeLink",
		"webPublishItems", "oleLink", "attachedTemplate", "mailMerge", "subDoc",
		"externalData", "webExtension", "webExtensionRef", "sourceFileName",
	};

	return name_in(n, bad, MUGAI_ARRAY_LEN(bad));
}

/* Elements that are nothing without their relationship: removed with it. */
static bool unlinked_goes(xmlNodePtr n)
{
	static const char *const gone[] = {
		"sheet", "pivotCache", "sldId", "sldMasterId", "notesMasterId", "handoutMasterId",
		"embeddedFont", "tablePart", "hlinkClick", "hlinkHover", "headerReference",
		"footerReference", "legacyDrawing", "legacyDrawingHF", "picture", "drawing",
		"sldLayoutId", "customShowId", "snd",
	};

	if (cdr_xml_is(n, "hyperlink") && strcmp(cdr_xml_ns(n), WML_NS) != 0)
		return true;
	if (cdr_xml_is(n, "drawing") && strcmp(cdr_xml_ns(n), WML_NS) == 0)
		return false;
	return name_in(n, gone, MUGAI_ARRAY_LEN(gone));
}

/* r:* attributes that point at dropped relationships: 0 kept, 1 element
 * removed, 2 hyperlink to unwrap, -1 error. */
static int strip_rel_attrs(ox_t *ox, xmlNodePtr n)
{
	xmlAttrPtr a, next;

	for (a = n->properties; a; a = next) {
		next = a->next;
		if (!a->ns || strcmp((const char *)a->ns->href, REL_NS) != 0 || !a->children ||
		    !a->children->content || !dropped_id(ox, (const char *)a->children->content))
			continue;
		if (cdr_action(ox->res, "link-disabled: <%s> in %s", (const char *)n->name, ox->part) < 0)
			return -1;
		if (cdr_xml_is(n, "hyperlink") && strcmp(cdr_xml_ns(n), WML_NS) == 0)
			return 2;
		if (unlinked_goes(n))
			return 1;
		xmlRemoveProp(a);
	}
	return 0;
}

/* PowerPoint click actions that stay inside the presentation. */
static bool action_ok(const char *v)
{
	static const char *const ok[] = {
		"ppaction://hlinksldjump", "ppaction://hlinkshowjump?jump=", "ppaction://noaction",
		"ppaction://customshow?", "ppaction://media",
	};

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(ok); i++)
		if (strncasecmp(v, ok[i], strlen(ok[i])) == 0)
			return !strchr(v + strlen(ok[i]), ':') && !strchr(v, '\\');
	return false;
}

static bool url_attr_name(const char *name)
{
	static const char *const names[] = { "href", "althref", "src", "action", "url", "link",
					     "connection", "connectString", "dataSource", "base" };

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(names); i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return false;
}

/* A value that stays: an anchor inside the document or a kept part. */
static bool internal_target(ox_t *ox, const char *v)
{
	char path[ZIP_NAME_MAX];
	cdr_zentry_t *e;

	if (v[0] == '#' && !strchr(v, ':') && !strchr(v, '\\'))
		return true;
	resolve(ox->part, v, path, sizeof(path));
	e = *path ? find_ci(ox->z, path) : NULL;
	return e && e->keep;
}

/* Attributes holding a URL or a path (VML href/src, o:href, action, …)
 * stay only when they point inside the package. */
static int strip_url_attrs(ox_t *ox, xmlNodePtr n)
{
	xmlAttrPtr a, next;

	for (a = n->properties; a; a = next) {
		const char *v;

		next = a->next;
		if ((a->ns && strcmp((const char *)a->ns->href, REL_NS) == 0) ||
		    !url_attr_name((const char *)a->name))
			continue;
		v = a->children && a->children->content ? (const char *)a->children->content : "";
		if (!*v || internal_target(ox, v) ||
		    (strcmp((const char *)a->name, "action") == 0 && action_ok(v)))
			continue;
		if (cdr_action(ox->res, "attribute-removed: %s of <%s> in %s", (const char *)a->name,
			       (const char *)n->name, ox->part) < 0)
			return -1;
		xmlRemoveProp(a);
	}
	return 0;
}

/* -- fields -- */

/* The field type of a (joined) instruction, upper case; HYPERLINK only as a
 * jump to a bookmark. */
static bool field_ok(const char *instr)
{
	char word[32];
	size_t n = 0;

	while (*instr == ' ' || *instr == '\t' || *instr == '\r' || *instr == '\n')
		instr++;
	if (*instr == '=')
		return cdr_ooxml_field_allowed("=");
	while (n + 1 < sizeof(word) && instr[n] && !strchr(" \t\r\n\\\"", instr[n]))
		word[n] = (char)toupper((unsigned char)instr[n]), n++;
	word[n] = '\0';
	if (instr[n] && !strchr(" \t\r\n\\\"", instr[n]))
		return false; /* longer than any allowed word */
	if (strcmp(word, "HYPERLINK") == 0) {
		const char *rest = instr + n;

		while (*rest == ' ' || *rest == '\t')
			rest++;
		return strncmp(rest, "\\l", 2) == 0 && !strchr(rest, ':') && !strstr(rest, "//") &&
		       !strstr(rest, "\\\\");
	}
	return cdr_ooxml_field_allowed(word);
}

typedef struct fitem {
	xmlNodePtr n;
	char kind;   /* 'b'egin, 's'eparate, 'e'nd, 'i'nstruction, 't'ext */
	bool del;
} fitem_t;

typedef struct fcol {
	fitem_t *v;
	size_t n, cap;
	bool oom;
} fcol_t;

static int collect_cb(xmlNodePtr n, void *arg)
{
	fcol_t *c = arg;
	const char *t;
	char kind = 0;

	if (cdr_xml_is(n, "fldChar") && (t = xattr(n, "fldCharType")))
		kind = strcmp(t, "begin") == 0 ? 'b' : strcmp(t, "separate") == 0 ? 's'
			: strcmp(t, "end") == 0 ? 'e' : 0;
	else if (cdr_xml_is(n, "instrText") || cdr_xml_is(n, "delInstrText"))
		kind = 'i';
	else if (cdr_xml_is(n, "t") && strcmp(cdr_xml_ns(n), WML_NS) == 0)
		kind = 't';
	if (!kind)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		fitem_t *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (fitem_t){ .n = n, .kind = kind };
	return 1;
}

typedef struct fopen {
	size_t begin, sep;   /* item indexes; sep == SIZE_MAX until seen */
	char instr[FIELD_INSTR_MAX];
	size_t len;
	bool overflow;
} fopen_t;

/* A field that is not allowed: its instruction (and anything between begin
 * and separate) and its markers go; its displayed result stays as text. */
static int drop_field(ox_t *ox, fcol_t *c, fopen_t *f, size_t end)
{
	size_t stop = f->sep != SIZE_MAX ? f->sep : end;
	char word[48];
	size_t n = 0;
	const char *p = f->instr;

	for (size_t i = f->begin; i <= stop && i < c->n; i++)
		c->v[i].del = true;
	if (end < c->n)
		c->v[end].del = true;
	while (*p == ' ' || *p == '\t')
		p++;
	while (n + 1 < sizeof(word) && p[n] && p[n] != ' ' && p[n] != '\\' && p[n] != '"')
		word[n] = p[n], n++;
	word[n] = '\0';
	return cdr_action(ox->res, "field-replaced: %s in %s", *word ? word : "?", ox->part);
}

static int judge(ox_t *ox, fcol_t *c, fopen_t *f, size_t end)
{
	f->instr[f->len] = '\0';
	if (!f->overflow && field_ok(f->instr))
		return 0;
	return drop_field(ox, c, f, end);
}

static int fields_run(ox_t *ox, fcol_t *c, fopen_t *st)
{
	size_t depth = 0;

	for (size_t i = 0; i < c->n; i++) {
		fitem_t *it = &c->v[i];
		fopen_t *top = depth ? &st[depth - 1] : NULL;

		if (it->kind == 'b') {
			if (depth == FIELD_DEPTH_MAX)
				return cdr_block(ox->res, "ooxml-fields-too-deep: %s", ox->part);
			st[depth++] = (fopen_t){ .begin = i, .sep = SIZE_MAX };
		} else if (it->kind == 's' && top && top->sep == SIZE_MAX) {
			top->sep = i;
		} else if (it->kind == 'e' && top) {
			if (judge(ox, c, top, i) < 0)
				return -1;
			depth--;
		} else if ((it->kind == 'i' || it->kind == 't') && top && top->sep == SIZE_MAX) {
			/* text in the code area counts as instruction too */
			xmlChar *t = xmlNodeGetContent(it->n);
			size_t n = t ? strlen((const char *)t) : 0;

			if (top->len + n >= sizeof(top->instr))
				top->overflow = true;
			else if (n)
				memcpy(top->instr + top->len, t, n), top->len += n;
			xmlFree(t);
		} else if (it->kind == 'i' || it->kind == 's' || it->kind == 'e') {
			it->del = true; /* stray marker or instruction */
		}
	}
	while (depth) /* never closed */
		if (judge(ox, c, &st[--depth], c->n) < 0)
			return -1;
	return 0;
}

static int fix_complex_fields(ox_t *ox, xmlDocPtr doc)
{
	fcol_t c = { 0 };
	fopen_t *st = NULL;
	int rc = -1;

	if (cdr_xml_walk(doc, collect_cb, &c) < 0)
		goto out;
	rc = 0;
	if (!c.n)
		goto out;
	st = malloc(FIELD_DEPTH_MAX * sizeof(*st));
	rc = st ? fields_run(ox, &c, st) : -1;
	for (size_t i = 0; rc == 0 && i < c.n; i++)
		if (c.v[i].del)
			cdr_xml_remove(c.v[i].n);
out:
	free(st);
	free(c.v);
	return rc;
}

/* -- formulas -- */

static bool text_ok(xmlNodePtr n, cdr_formula_dialect_t d, char *why, size_t whylen)
{
	xmlChar *t = xmlNodeGetContent(n);
	bool ok = !t || cdr_formula_ok((const char *)t, strlen((const char *)t), d, why, whylen);

	xmlFree(t);
	return ok;
}

/* Any formula below n (cfRule, dataValidation, x14 variants) that fails. */
static bool formulas_below_ok(xmlNodePtr n)
{
	char why[96];

	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((cdr_xml_is(c, "formula") || cdr_xml_is(c, "formula1") ||
		     cdr_xml_is(c, "formula2") || cdr_xml_is(c, "f")) && !text_ok(c, CDR_F_OOXML, why, sizeof(why)))
			return false;
		if (!formulas_below_ok(c))
			return false;
	}
	return true;
}

/* Names Excel runs on its own (XLM / VBA auto macros). */
static bool auto_name(const char *name)
{
	static const char *const autos[] = { "Auto_Open", "Auto_Close", "Auto_Activate",
					     "Auto_Deactivate" };

	if (strncasecmp(name, "_xlnm.", 6) == 0)
		name += 6;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(autos); i++)
		if (strncasecmp(name, autos[i], strlen(autos[i])) == 0)
			return true;
	return false;
}

static int fix_defined_name(ox_t *ox, xmlNodePtr n)
{
	const char *name = xattr(n, "name"), *fn = xattr(n, "function"), *xlm = xattr(n, "xlm"),
		   *vb = xattr(n, "vbProcedure");
	char why[96];
	int rc;

	if (!name)
		name = "?";
	if (auto_name(name) || (fn && strcmp(fn, "1") == 0) || (xlm && strcmp(xlm, "1") == 0) ||
	    (vb && strcmp(vb, "1") == 0))
		rc = cdr_action(ox->res, "macro-removed: name %s", name);
	else if (!text_ok(n, CDR_F_OOXML, why, sizeof(why)))
		rc = cdr_action(ox->res, "formula-removed: workbook!%s (%s)", name, why);
	else
		return 0;
	if (rc < 0)
		return -1;
	cdr_xml_remove(n);
	return 1;
}

static xmlNodePtr child(xmlNodePtr n, const char *local)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (cdr_xml_is(c, local))
			return c;
	return NULL;
}

/* A formula string cell without its formula: an inline string. */
static void str_to_inline(xmlNodePtr c)
{
	xmlNodePtr v = child(c, "v"), is;
	xmlChar *txt;

	if (!v)
		return;
	txt = xmlNodeGetContent(v);
	cdr_xml_remove(v);
	xmlSetProp(c, (const xmlChar *)"t", (const xmlChar *)"inlineStr");
	is = xmlNewChild(c, c->ns, (const xmlChar *)"is", NULL);
	if (is)
		xmlNewTextChild(is, c->ns, (const xmlChar *)"t", txt ? txt : (const xmlChar *)"");
	xmlFree(txt);
}

/* A cell: a failing formula goes, its cached value stays. Shared formulas
 * whose master went lose their formula too (bad_si). */
static int fix_cell(ox_t *ox, xmlNodePtr c, char *bad_si, size_t bad_len)
{
	xmlNodePtr f = child(c, "f");
	const char *t, *si, *ref;
	char why[96] = "shared formula";
	bool empty;
	xmlChar *txt;

	if (!f)
		return 0;
	txt = xmlNodeGetContent(f);
	empty = !txt || !*txt;
	xmlFree(txt);
	t = xattr(f, "t");
	si = xattr(f, "si");
	if (empty) {
		if (!(t && strcmp(t, "shared") == 0 && si && strtoul(si, NULL, 10) < bad_len &&
		      bad_si[strtoul(si, NULL, 10)]))
			return 0;
	} else if (text_ok(f, CDR_F_OOXML, why, sizeof(why))) {
		return 0;
	} else if (t && strcmp(t, "shared") == 0 && si && strtoul(si, NULL, 10) < bad_len) {
		bad_si[strtoul(si, NULL, 10)] = 1;
	}
	ref = xattr(c, "r");
	if (cdr_action(ox->res, "formula-removed: %s!%s (%s)", ox->sheet, ref ? ref : "?", why) < 0)
		return -1;
	cdr_xml_remove(f);
	t = xattr(c, "t");
	if (t && strcmp(t, "str") == 0)
		str_to_inline(c);
	return 0;
}

/* Chart series reference: a failing c:f goes and the cache becomes a
 * literal (numRef → numLit, strRef → strLit, or c:v under c:tx). */
static int fix_chart_ref(ox_t *ox, xmlNodePtr n)
{
	xmlNodePtr f = child(n, "f"), cache;
	char why[96];

	if (!f || text_ok(f, CDR_F_OOXML, why, sizeof(why)))
		return 0;
	if (cdr_action(ox->res, "formula-removed: chart!%s (%s)", ox->sheet, why) < 0)
		return -1;
	cdr_xml_remove(f);
	cache = child(n, cdr_xml_is(n, "numRef") ? "numCache" : "strCache");
	if (cdr_xml_is(n, "strRef") && n->parent && cdr_xml_is(n->parent, "tx")) {
		xmlNodePtr pt = child(cache, "pt"), v = child(pt, "v");
		xmlChar *txt = v ? xmlNodeGetContent(v) : NULL;
		xmlNodePtr nv = xmlNewNode(n->ns, (const xmlChar *)"v");

		if (nv) {
			xmlNodeSetContent(nv, txt ? txt : (const xmlChar *)"");
			xmlAddPrevSibling(n, nv);
		}
		xmlFree(txt);
		cdr_xml_remove(n);
		return 1;
	}
	if (cdr_xml_is(n, "multiLvlStrRef"))
		return 0;
	xmlNodeSetName(n, (const xmlChar *)(cdr_xml_is(n, "numRef") ? "numLit" : "strLit"));
	if (cache)
		cdr_xml_unwrap(cache);
	return 0;
}

typedef struct pctx {
	ox_t *ox;
	char bad_si[OOXML_BAD_SI_MAX];
} pctx_t;

static int fix_field_simple(ox_t *ox, xmlNodePtr n, int (*cb)(xmlNodePtr, void *), void *arg)
{
	const char *instr = xattr(n, "instr");

	if (instr && field_ok(instr))
		return 0;
	{
		fopen_t one = { .len = 0 };
		fcol_t none = { 0 };

		snprintf(one.instr, sizeof(one.instr), "%s", instr ? instr : "?");
		one.begin = one.sep = SIZE_MAX;
		if (drop_field(ox, &none, &one, SIZE_MAX) < 0)
			return -1;
	}
	if (cdr_xml_walk_children(n, cb, arg) < 0)
		return -1;
	cdr_xml_unwrap(n); /* the displayed result stays */
	return 1;
}

static int part_cb(xmlNodePtr n, void *arg)
{
	pctx_t *p = arg;
	ox_t *ox = p->ox;
	int r;
	char why[96];

	if (element_bad(n)) {
		if (cdr_action(ox->res, "element-removed: <%s> in %s", (const char *)n->name, ox->part) < 0)
			return -1;
		cdr_xml_remove(n);
		return 1;
	}
	r = strip_rel_attrs(ox, n);
	if (r == 1)
		cdr_xml_remove(n);
	if (r == 2) {
		if (cdr_xml_walk_children(n, part_cb, arg) < 0)
			return -1;
		cdr_xml_unwrap(n);
		return 1;
	}
	if (r != 0 || strip_url_attrs(ox, n) < 0)
		return r < 0 ? -1 : r;
	if (cdr_xml_is(n, "fldSimple"))
		return fix_field_simple(ox, n, part_cb, arg);
	if (cdr_xml_is(n, "definedName"))
		return fix_defined_name(ox, n);
	if ((cdr_xml_is(n, "cfRule") || cdr_xml_is(n, "dataValidation")) && !formulas_below_ok(n)) {
		if (cdr_action(ox->res, "formula-removed: %s!%s (%s)", ox->sheet,
			       cdr_xml_is(n, "cfRule") ? "conditional format" : "data validation",
			       "not allowed") < 0)
			return -1;
		cdr_xml_remove(n);
		return 1;
	}
	if (cdr_xml_is(n, "c") && strcmp(cdr_xml_ns(n), SML_NS) == 0)
		return fix_cell(ox, n, p->bad_si, sizeof(p->bad_si)) < 0 ? -1 : 0;
	if ((cdr_xml_is(n, "numRef") || cdr_xml_is(n, "strRef") || cdr_xml_is(n, "multiLvlStrRef")) &&
	    strcmp(cdr_xml_ns(n), CHART_NS) == 0)
		return fix_chart_ref(ox, n);
	if (cdr_xml_is(n, "f") && !text_ok(n, CDR_F_OOXML, why, sizeof(why))) {
		/* any other formula element (e.g. x14 extensions) */
		if (cdr_action(ox->res, "formula-removed: %s!%s (%s)", ox->sheet, "?", why) < 0)
			return -1;
		cdr_xml_remove(n);
		return 1;
	}
	return 0;
}

static int xml_fn(ox_t *ox, xmlDocPtr doc, cdr_zentry_t *e, const char *arg)
{
	pctx_t *p = malloc(sizeof(*p));
	const char *base = strrchr(e->name, '/');
	int rc;

	(void)arg;
	if (!p)
		return -1;
	memset(p, 0, sizeof(*p));
	p->ox = ox;
	ox->part = e->name;
	snprintf(ox->sheet, sizeof(ox->sheet), "%s", base ? base + 1 : e->name);
	if (strchr(ox->sheet, '.'))
		*strrchr(ox->sheet, '.') = '\0';
	rc = fix_complex_fields(ox, doc);
	if (rc == 0 && cdr_pending(ox->res))
		rc = cdr_xml_walk(doc, part_cb, p);
	free(p);
	return rc;
}

/* ---- step 3: content types ----------------------------------------------- */

/* Does a kept part have this extension? */
static bool ext_used(ox_t *ox, const char *ext)
{
	char dot[64];

	if (!ext || snprintf(dot, sizeof(dot), ".%s", ext) >= (int)sizeof(dot))
		return false;
	for (size_t i = 0; i < ox->z->n; i++)
		if (ox->z->e[i].keep && ends_with(ox->z->e[i].name, dot))
			return true;
	return false;
}

/* An earlier Override for the same part (case-insensitively)? */
static bool override_seen(xmlNodePtr root, xmlNodePtr upto, const char *pn)
{
	for (xmlNodePtr n = root->children; n && n != upto; n = n->next) {
		const char *o = cdr_xml_is(n, "Override") ? xattr(n, "PartName") : NULL;

		if (o && strcasecmp(o, pn) == 0)
			return true;
	}
	return false;
}

static int ct_fn(ox_t *ox, xmlDocPtr doc, cdr_zentry_t *e, const char *arg)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), n, next;

	(void)e;
	(void)arg;
	for (n = root->children; n; n = next) {
		const char *pn = xattr(n, "PartName"), *ct = xattr(n, "ContentType");
		bool drop;

		next = n->next;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (size_t i = 0; ct && i < MUGAI_ARRAY_LEN(main_types); i++)
			if (main_types[i].out_ct && strcmp(ct, main_types[i].ct) == 0) {
				/* frees the old value: ct is re-read below */
				xmlSetProp(n, (const xmlChar *)"ContentType", (const xmlChar *)main_types[i].out_ct);
				ct = xattr(n, "ContentType");
				break;
			}
		if (cdr_xml_is(n, "Override"))
			drop = !pn || !find_ci(ox->z, pn) || !find_ci(ox->z, pn)->keep ||
			       override_seen(root, n, pn);
		else if (cdr_xml_is(n, "Default"))
			drop = !ext_used(ox, xattr(n, "Extension"));
		else
			drop = true;
		if (!drop && (!ct || !cdr_ooxml_ct_allowed(ct, ox->kind)))
			drop = true;
		if (drop)
			cdr_xml_remove(n);
	}
	return 0;
}

/* ---- driver -------------------------------------------------------------- */

/* The main part: target of the package's officeDocument relationship. */
static const struct main_type *find_main(ox_t *ox)
{
	cdr_zentry_t *e = find_ci(ox->z, "_rels/.rels");
	xmlDocPtr d = e ? cdr_xml_parse(e->data, e->len, e->name, ox->res, true) : NULL;
	const struct main_type *mt = NULL;

	for (xmlNodePtr n = d ? xmlDocGetRootElement(d)->children : NULL; n && !mt; n = n->next) {
		const char *type = cdr_xml_is(n, "Relationship") ? xattr(n, "Type") : NULL,
			   *target = xattr(n, "Target"), *ct;
		char path[ZIP_NAME_MAX];

		if (!type || !target || !ends_with(type, "/officeDocument"))
			continue;
		resolve("", target, path, sizeof(path));
		ct = *path ? part_ct(ox, path) : NULL;
		for (size_t i = 0; ct && i < MUGAI_ARRAY_LEN(main_types); i++)
			if (strcmp(ct, main_types[i].ct) == 0)
				mt = &main_types[i];
	}
	xmlFreeDoc(d);
	return mt;
}

static int rewrite_xml_parts(ox_t *ox)
{
	for (size_t i = 0; i < ox->z->n && cdr_pending(ox->res); i++) {
		cdr_zentry_t *e = &ox->z->e[i];

		if (!e->keep || ends_with(e->name, ".rels") || strcmp(e->name, "[Content_Types].xml") == 0 ||
		    !ct_is_xml(part_ct(ox, e->name)))
			continue;
		if (rewrite_part(ox, e, xml_fn, NULL) < 0)
			return -1;
	}
	return 0;
}

static int run(ox_t *ox, const struct main_type *mt)
{
	cdr_zentry_t *cte = cdr_zip_find(ox->z, "[Content_Types].xml");

	if (walk_graph(ox) < 0)
		return -1;
	if (!cdr_pending(ox->res))
		return 0;
	cte->keep = true;
	if (list_dropped(ox) < 0 || rewrite_xml_parts(ox) < 0)
		return -1;
	if (!cdr_pending(ox->res))
		return 0;
	if (rewrite_part(ox, cte, ct_fn, NULL) < 0)
		return -1;
	if (cdr_pending(ox->res) && strcmp(mt->type, mt->out_type) != 0 &&
	    cdr_action(ox->res, "type-converted: %s to %s", mt->type, mt->out_type) < 0)
		return -1;
	return 0;
}

int cdr_ooxml(cdr_job_t *job, cdr_zip_t *z, cdr_result_t *res)
{
	ox_t ox = { .job = job, .z = z, .res = res };
	cdr_zentry_t *cte = cdr_zip_find(z, "[Content_Types].xml");
	const struct main_type *mt = NULL;
	int rc = case_twins(&ox);

	if (rc < 0 || !cdr_pending(res))
		goto out;
	ox.ct = cdr_xml_parse(cte->data, cte->len, cte->name, res, false);
	if (!ox.ct)
		goto out;
	mt = find_main(&ox);
	if (!mt) {
		rc = cdr_block(res, "unsupported-type: OOXML");
		goto out;
	}
	res->type = mt->type;
	ox.kind = mt->kind;
	rc = run(&ox, mt);
	if (rc < 0 || !cdr_pending(res))
		goto out;
	if (cdr_zip_write(z, NULL, &res->out) < 0)
		rc = res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
	else
		rc = cdr_done(res, mt->out_type);
out:
	xmlFreeDoc(ox.ct);
	for (size_t i = 0; i < ox.ndrops; i++) {
		free(ox.drops[i].source);
		free(ox.drops[i].id);
	}
	free(ox.drops);
	free(ox.queue);
	return rc;
}
