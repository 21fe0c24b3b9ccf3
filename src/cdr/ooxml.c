/*
 * ooxml.c — OOXML CDR (docx/xlsx/pptx, their templates and macro-enabled
 * variants): rebuild the package from allowlisted parts only.
 *
 * Pass 1 decides which parts stay: XML parts (.xml, .rels, parseable .vml)
 * and PNG/JPEG/GIF/BMP/TIFF media (re-encoded by image.c). Everything else
 * goes, notably vbaProject.bin and vbaData.xml, activeX/, embeddings/
 * (oleObject, packages), externalLinks/, customUI/, printer settings and
 * other binaries. Pass 2 rewrites every .rels: relationships with
 * TargetMode="External" (attachedTemplate, Follina-style oleObject,
 * hyperlinks, frames), relationships of dangerous types, and relationships
 * to removed parts are dropped, and their ids remembered per source part.
 * Pass 3 rewrites every XML part: attributes that point at a dropped id are
 * removed (a hyperlink becomes plain text), altChunk, OLE objects, ActiveX
 * controls, externalReferences and VML macro hooks are removed, DDE /
 * DDEAUTO / INCLUDETEXT field codes are removed, DDE and CALL/REGISTER/EXEC
 * formulas lose their formula (the cached value stays). Pass 4 rewrites
 * [Content_Types].xml: overrides for removed parts are dropped and a
 * macro-enabled main type becomes its macro-free type (docm → docx, …),
 * which res->out_type reports. A part that does not parse blocks the file.
 *
 * Specs: ECMA-376 Part 2 (OPC: content types, relationships), Part 1
 * (WordprocessingML fields §17.16, SpreadsheetML formulas §18.17).
 *
 * SECURITY: runs in the sanitizer worker; XML through xml.c (no DTD, no
 * entities, no network). Limits: xml_part_max and the zip limits.
 */
#include "cdr/cdr_xml.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REL_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

typedef struct rel_drop {
	char *source;  /* part the dropped ids belong to ("" = package) */
	char *id;
} rel_drop_t;

typedef struct ox {
	cdr_job_t *job;
	cdr_zip_t *z;
	cdr_result_t *res;
	rel_drop_t *drops;
	size_t ndrops, cap;
	const char *part;   /* part being rewritten (pass 3) */
	bool oom;
} ox_t;

static const struct main_type {
	const char *ct, *type, *out_type, *out_ct;
} main_types[] = {
#define WML "application/vnd.openxmlformats-officedocument.wordprocessingml."
#define SML "application/vnd.openxmlformats-officedocument.spreadsheetml."
#define PML "application/vnd.openxmlformats-officedocument.presentationml."
	{ WML "document.main+xml", "docx", "docx", NULL },
	{ WML "template.main+xml", "dotx", "dotx", NULL },
	{ "application/vnd.ms-word.document.macroEnabled.main+xml", "docm", "docx", WML "document.main+xml" },
	{ "application/vnd.ms-word.template.macroEnabledTemplate.main+xml", "dotm", "dotx", WML "template.main+xml" },
	{ SML "sheet.main+xml", "xlsx", "xlsx", NULL },
	{ SML "template.main+xml", "xltx", "xltx", NULL },
	{ "application/vnd.ms-excel.sheet.macroEnabled.main+xml", "xlsm", "xlsx", SML "sheet.main+xml" },
	{ "application/vnd.ms-excel.template.macroEnabled.main+xml", "xltm", "xltx", SML "template.main+xml" },
	{ PML "presentation.main+xml", "pptx", "pptx", NULL },
	{ PML "slideshow.main+xml", "ppsx", "ppsx", NULL },
	{ PML "template.main+xml", "potx", "potx", NULL },
	{ "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml", "pptm", "pptx", PML "presentation.main+xml" },
	{ "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml", "ppsm", "ppsx", PML "slideshow.main+xml" },
	{ "application/vnd.ms-powerpoint.template.macroEnabled.main+xml", "potm", "potx", PML "template.main+xml" },
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

/* ---- pass 0: which kind of document ----------------------------------- */

static const struct main_type *find_main(xmlDocPtr ct)
{
	for (xmlNodePtr n = xmlDocGetRootElement(ct)->children; n; n = n->next) {
		const char *v = cdr_xml_is(n, "Override") ? xattr(n, "ContentType") : NULL;

		for (size_t i = 0; v && i < MUGAI_ARRAY_LEN(main_types); i++)
			if (strcmp(v, main_types[i].ct) == 0)
				return &main_types[i];
	}
	return NULL;
}

/* ---- pass 1: allowlist of parts --------------------------------------- */

static bool denied_part(const char *name)
{
	static const char *const deny[] = {
		"vbaProject.bin", "vbaData.xml", "/activeX/", "/embeddings/", "/externalLinks/",
		"customUI/", "/customizations", "attachedToolbars", "/printerSettings/",
		"/fonts/",
	};
	char slashed[1100];

	snprintf(slashed, sizeof(slashed), "/%s", name);
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(deny); i++)
		if (strcasestr(slashed, deny[i]))
			return true;
	return false;
}

static int keep_media(ox_t *ox, cdr_zentry_t *e, cdr_kind_t k)
{
	cdr_job_t sub = *ox->job;
	cdr_result_t r;
	int rc;

	sub.depth++;
	rc = cdr_image_reencode(&sub, k, e->data, e->len, &r);
	if (rc == 0 && r.verdict == CDR_SANITIZED) {
		free(e->data);
		e->data = (unsigned char *)buf_steal(&r.out, &e->len);
		e->keep = true;
	} else if (rc == 0) {
		rc = cdr_action(ox->res, "removed %s: %s", e->name, r.reason);
	}
	cdr_result_free(&r);
	return rc;
}

static int classify_part(ox_t *ox, cdr_zentry_t *e)
{
	const char *type;
	cdr_kind_t k;

	if (!*e->name || ends_with(e->name, "/"))
		return 0;
	if (strcmp(e->name, "[Content_Types].xml") == 0) {
		e->keep = true;
		return 0;
	}
	if (!denied_part(e->name) && (ends_with(e->name, ".xml") || ends_with(e->name, ".rels"))) {
		e->keep = true;
		return 0;
	}
	if (!denied_part(e->name) && ends_with(e->name, ".vml")) {
		xmlDocPtr d = cdr_xml_parse(e->data, e->len, e->name, ox->res, true);

		e->keep = d != NULL;
		xmlFreeDoc(d);
		if (d)
			return 0;
	}
	k = cdr_sniff(e->data, e->len, &type);
	if (!denied_part(e->name) && (k == CT_PNG || k == CT_JPEG || k == CT_GIF || k == CT_BMP || k == CT_TIFF))
		return keep_media(ox, e, k);
	return cdr_action(ox->res, "removed %s", e->name);
}

/* ---- pass 2: relationships --------------------------------------------- */

/* "word/_rels/document.xml.rels" → "word/document.xml"; "_rels/.rels" → "". */
static char *rels_source(const char *rels)
{
	const char *r = strstr(rels, "_rels/");
	size_t dir, n;
	char *s;

	if (!r || !ends_with(rels, ".rels"))
		return NULL;
	dir = (size_t)(r - rels);
	n = strlen(r + 6) - 5;
	s = malloc(dir + n + 1);
	if (!s)
		return NULL;
	memcpy(s, rels, dir);
	memcpy(s + dir, r + 6, n);
	s[dir + n] = '\0';
	return s;
}

/* Resolve target relative to the source part's folder; drop "." and "..". */
static void resolve(const char *source, const char *target, char *out, size_t outlen)
{
	char tmp[2048];
	const char *slash = strrchr(source, '/');
	size_t o = 0;

	if (target[0] == '/')
		snprintf(tmp, sizeof(tmp), "%s", target + 1);
	else
		snprintf(tmp, sizeof(tmp), "%.*s%s%s", slash ? (int)(slash - source) : 0, source,
			 slash ? "/" : "", target);
	out[0] = '\0';
	for (char *seg = strtok(tmp, "/"); seg; seg = strtok(NULL, "/")) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			char *p = strrchr(out, '/');
			o = p ? (size_t)(p - out) : 0;
			out[o] = '\0';
			continue;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? "/" : "", seg);
		if (o >= outlen)
			return;
	}
}

static bool part_kept(ox_t *ox, const char *name)
{
	for (size_t i = 0; i < ox->z->n; i++)
		if (ox->z->e[i].keep && strcasecmp(ox->z->e[i].name, name) == 0)
			return true;
	return false;
}

/* Why a relationship goes, or NULL when it stays. */
static const char *rel_bad(ox_t *ox, const char *source, xmlNodePtr rel)
{
	static const char *const bad_types[] = {
		"/vbaProject", "/activeXControl", "/activeXControlBinary", "/control", "/oleObject",
		"/package", "/externalLink", "/externalLinkPath", "/attachedTemplate", "/aFChunk",
		"/subDocument", "/frame", "/ui/extensibility", "/extensibility", "/userCustomization",
		"/printerSettings", "/wordVbaData", "/keyMapCustomizations", "/attachedToolbars",
	};
	const char *type = xattr(rel, "Type"), *mode = xattr(rel, "TargetMode"),
		   *target = xattr(rel, "Target");
	char path[2048];

	if (mode && strcasecmp(mode, "External") == 0)
		return "external target";
	for (size_t i = 0; type && i < MUGAI_ARRAY_LEN(bad_types); i++)
		if (ends_with(type, bad_types[i]))
			return strrchr(bad_types[i], '/') + 1;
	if (!target || !type)
		return "malformed";
	resolve(source, target, path, sizeof(path));
	return part_kept(ox, path) ? NULL : "target removed";
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
	if (!ox->drops[ox->ndrops].source || !ox->drops[ox->ndrops].id)
		return -1;
	ox->ndrops++;
	return 0;
}

static int rewrite_rels(ox_t *ox, xmlDocPtr doc, const char *source, const char *rels)
{
	xmlNodePtr n, next;

	for (n = xmlDocGetRootElement(doc)->children; n; n = next) {
		const char *why;

		next = n->next;
		if (!cdr_xml_is(n, "Relationship"))
			continue;
		why = rel_bad(ox, source, n);
		if (!why)
			continue;
		if (remember(ox, source, xattr(n, "Id")) < 0 ||
		    cdr_action(ox->res, "removed relationship in %s (%s)", rels, why) < 0)
			return -1;
		cdr_xml_remove(n);
	}
	return 0;
}

/* Parse, rewrite with fn, serialize back into e. 0 ok/blocked, -1 internal. */
typedef int (*rewrite_fn)(ox_t *ox, xmlDocPtr doc, cdr_zentry_t *e);

static int rewrite_part(ox_t *ox, cdr_zentry_t *e, rewrite_fn fn)
{
	xmlDocPtr doc;
	unsigned char *out = NULL;
	size_t len = 0;
	int rc = -1;

	if ((long long)e->len > lim(ox->job->lim, LIM_XML_PART))
		return cdr_block(ox->res, "limit xml_part_max: %s", e->name);
	doc = cdr_xml_parse(e->data, e->len, e->name, ox->res, false);
	if (!doc)
		return 0;
	if (fn(ox, doc, e) < 0 || cdr_xml_dump(doc, &out, &len) < 0)
		goto out;
	free(e->data);
	e->data = out;
	e->len = len;
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

static int rels_fn(ox_t *ox, xmlDocPtr doc, cdr_zentry_t *e)
{
	char *source = rels_source(e->name);
	int rc;

	if (!source)
		return -1;
	rc = rewrite_rels(ox, doc, source, e->name);
	free(source);
	return rc;
}

/* ---- pass 3: XML parts ------------------------------------------------- */

static bool dropped_id(ox_t *ox, const char *id)
{
	for (size_t i = 0; i < ox->ndrops; i++)
		if (strcmp(ox->drops[i].source, ox->part) == 0 && strcmp(ox->drops[i].id, id) == 0)
			return true;
	return false;
}

/* Remove r:* attributes that point at dropped relationships. */
static int strip_rel_attrs(ox_t *ox, xmlNodePtr n)
{
	xmlAttrPtr a, next;

	for (a = n->properties; a; a = next) {
		next = a->next;
		if (!a->ns || strcmp((const char *)a->ns->href, REL_NS) != 0 || !a->children ||
		    !a->children->content || !dropped_id(ox, (const char *)a->children->content))
			continue;
		if (cdr_action(ox->res, "%s: unlinked <%s>", ox->part, (const char *)n->name) < 0)
			return -1;
		xmlRemoveProp(a);
	}
	return 0;
}

static bool field_bad(const char *instr)
{
	static const char *const bad[] = { "DDE", "DDEAUTO", "INCLUDETEXT", "INCLUDEPICTURE",
					   "IMPORT", "LINK", "MACROBUTTON", "AUTOTEXTLIST" };
	char word[32];
	size_t n = 0;

	while (*instr == ' ' || *instr == '\t' || *instr == '{')
		instr++;
	while (n + 1 < sizeof(word) && instr[n] && instr[n] != ' ' && instr[n] != '\\')
		word[n] = instr[n], n++;
	word[n] = '\0';
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(bad); i++)
		if (strcasecmp(word, bad[i]) == 0)
			return true;
	return false;
}

static bool formula_bad(const char *f)
{
	static const char *const bad[] = { "CALL(", "REGISTER(", "EXEC(", "WEBSERVICE(",
					   "REGISTER.ID(", "FILTERXML(" };

	if (strchr(f, '|'))
		return true; /* DDE: =cmd|' /c calc'!A0 */
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(bad); i++)
		if (strcasestr(f, bad[i]))
			return true;
	return false;
}

/* Elements removed with their content wherever they appear. */
static bool element_bad(xmlNodePtr n)
{
	static const char *const bad[] = {
		"altChunk", "OLEObject", "oleObj", "oleObjects", "control", "controls",
		"externalReferences", "externalReference", "ocx", "FmlaMacro", "ddeLink",
		"webPublishItems", "oleLink", "attachedTemplate",
	};

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(bad); i++)
		if (cdr_xml_is(n, bad[i]))
			return true;
	return false;
}

static int fix_field(ox_t *ox, xmlNodePtr n)
{
	xmlChar *txt;
	const char *instr;
	bool bad;

	if (cdr_xml_is(n, "fldSimple")) {
		instr = xattr(n, "instr");
		if (!instr || !field_bad(instr))
			return 0;
		if (cdr_action(ox->res, "%s: removed field %.40s", ox->part, instr) < 0)
			return -1;
		xmlUnsetNsProp(n, n->ns, (const xmlChar *)"instr");
		return 2; /* unwrap after children */
	}
	txt = xmlNodeGetContent(n);
	bad = txt && field_bad((const char *)txt);
	if (bad && cdr_action(ox->res, "%s: removed field code %.40s", ox->part, (const char *)txt) < 0) {
		xmlFree(txt);
		return -1;
	}
	xmlFree(txt);
	return bad ? 1 : 0;
}

static int fix_formula(ox_t *ox, xmlNodePtr n)
{
	xmlChar *txt = xmlNodeGetContent(n);
	bool bad = txt && formula_bad((const char *)txt);
	int rc = 0;

	if (bad)
		rc = cdr_action(ox->res, "%s: removed formula %.40s", ox->part, (const char *)txt);
	xmlFree(txt);
	return rc < 0 ? -1 : bad;
}

static int part_cb(xmlNodePtr n, void *arg)
{
	ox_t *ox = arg;
	int r = 0;

	if (element_bad(n)) {
		if (cdr_action(ox->res, "%s: removed <%s>", ox->part, (const char *)n->name) < 0)
			return -1;
		cdr_xml_remove(n);
		return 1;
	}
	if (strip_rel_attrs(ox, n) < 0)
		return -1;
	if (cdr_xml_is(n, "instrText") || cdr_xml_is(n, "fldSimple"))
		r = fix_field(ox, n);
	else if (cdr_xml_is(n, "f"))
		r = fix_formula(ox, n);
	if (r == 1)
		cdr_xml_remove(n);
	if (r == 2) {
		if (cdr_xml_walk_children(n, part_cb, ox) < 0)
			return -1;
		cdr_xml_unwrap(n);
		r = 1;
	}
	return r;
}

static int xml_fn(ox_t *ox, xmlDocPtr doc, cdr_zentry_t *e)
{
	ox->part = e->name;
	return cdr_xml_walk(doc, part_cb, ox);
}

/* ---- pass 4: content types --------------------------------------------- */

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

static int ct_fn(ox_t *ox, xmlDocPtr doc, cdr_zentry_t *e)
{
	xmlNodePtr n, next;

	(void)e;
	for (n = xmlDocGetRootElement(doc)->children; n; n = next) {
		const char *pn = xattr(n, "PartName"), *ct = xattr(n, "ContentType");

		next = n->next;
		for (size_t i = 0; ct && i < MUGAI_ARRAY_LEN(main_types); i++)
			if (main_types[i].out_ct && strcmp(ct, main_types[i].ct) == 0) {
				/* frees the old value: ct is not used after this */
				xmlSetProp(n, (const xmlChar *)"ContentType", (const xmlChar *)main_types[i].out_ct);
				ct = NULL;
				break;
			}
		if (cdr_xml_is(n, "Override") && pn && !part_kept(ox, pn[0] == '/' ? pn + 1 : pn))
			cdr_xml_remove(n);
		else if (cdr_xml_is(n, "Default") && !ext_used(ox, xattr(n, "Extension")))
			cdr_xml_remove(n);
	}
	return 0;
}

/* ---- driver -------------------------------------------------------------- */

static int run_pass(ox_t *ox, int pass)
{
	for (size_t i = 0; i < ox->z->n && ox->res->verdict == CDR_SANITIZED; i++) {
		cdr_zentry_t *e = &ox->z->e[i];
		bool rels = ends_with(e->name, ".rels"), ct = strcmp(e->name, "[Content_Types].xml") == 0;
		int rc = 0;

		if (pass == 1)
			rc = classify_part(ox, e);
		else if (!e->keep || (pass == 2 && !rels) ||
			 (pass == 3 && (rels || ct || !e->len ||
					!(ends_with(e->name, ".xml") || ends_with(e->name, ".vml")))))
			continue;
		else if (pass == 2)
			rc = rewrite_part(ox, e, rels_fn);
		else
			rc = rewrite_part(ox, e, xml_fn);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int detect(ox_t *ox, const struct main_type **mt)
{
	cdr_zentry_t *e = cdr_zip_find(ox->z, "[Content_Types].xml");
	xmlDocPtr ct = cdr_xml_parse(e->data, e->len, e->name, ox->res, false);

	*mt = ct ? find_main(ct) : NULL;
	xmlFreeDoc(ct);
	if (ct && !*mt)
		cdr_block(ox->res, "OOXML: unknown or unsupported document type");
	return 0;
}

int cdr_ooxml(cdr_job_t *job, cdr_zip_t *z, cdr_result_t *res)
{
	ox_t ox = { .job = job, .z = z, .res = res };
	const struct main_type *mt = NULL;
	int rc = 0;

	if (detect(&ox, &mt) < 0 || !mt)
		goto out;
	res->type = mt->type;
	for (int pass = 1; pass <= 3 && rc == 0; pass++)
		rc = run_pass(&ox, pass);
	if (rc == 0 && res->verdict == CDR_SANITIZED)
		rc = rewrite_part(&ox, cdr_zip_find(z, "[Content_Types].xml"), ct_fn);
	if (rc < 0 || res->verdict != CDR_SANITIZED)
		goto out;
	if (strcmp(mt->type, mt->out_type) != 0 &&
	    (rc = cdr_action(res, "converted %s to %s (macros removed)", mt->type, mt->out_type)) < 0)
		goto out;
	if (cdr_zip_write(z, NULL, &res->out) < 0)
		rc = res->out.capped ? cdr_block(res, "limit cdr_output_max") : -1;
	res->out_type = mt->out_type;
out:
	for (size_t i = 0; i < ox.ndrops; i++) {
		free(ox.drops[i].source);
		free(ox.drops[i].id);
	}
	free(ox.drops);
	return rc;
}
