/*
 * odf.c — ODF CDR (odt/ods/odp): rebuild the package from allowlisted parts.
 *
 * Kept: mimetype (regenerated from a fixed table, written first and
 * stored), content.xml, styles.xml, meta.xml, settings.xml and
 * META-INF/manifest.xml (parsed and rewritten), Pictures/ and Thumbnails/
 * images (re-encoded by image.c). Dropped: Basic/ and Scripts/ (macros),
 * "Object N/" and ObjectReplacements/ (embedded objects), Configurations2/ and
 * anything else. In the XML: scripts, event listeners, embedded objects,
 * applets, plugins, form controls, DDE sources and linked sections/tables
 * are removed; text:a and text:execute-macro are unwrapped (a link becomes
 * text) and any other xlink:href that does not point inside the package is
 * removed. Every formula goes through formula.c (the same allowlist as
 * OOXML): a cell's table:formula that fails is removed and the cached value
 * (office:value, the cell text) stays; a failing table:condition
 * (validation) is removed; a failing style:map / calcext:condition
 * (conditional format) or table:named-expression is removed; a named or
 * database range that points into another document is removed. The
 * manifest loses entries of removed parts. An encrypted package is blocked.
 *
 * Specs: OASIS OpenDocument 1.2/1.3 Part 3 (packages: mimetype, manifest),
 * Part 1 (office:scripts, office:event-listeners, draw:object, xlink:href,
 * table:formula §19.642, table:condition §19.619), Part 2 (OpenFormula).
 *
 * SECURITY: runs in the sanitizer worker; XML through xml.c (no DTD, no
 * entities, no network). Limits: xml_part_max and the zip limits.
 */
#include "cdr/cdr_formula.h"
#include "cdr/cdr_xml.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XLINK_NS "http://www.w3.org/1999/xlink"
#define TABLE_NS "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
#define TEXT_NS "urn:oasis:names:tc:opendocument:xmlns:text:1.0"

typedef struct odf {
	cdr_job_t *job;
	cdr_zip_t *z;
	cdr_result_t *res;
	const char *part;
} odf_t;

static const struct { const char *mime, *type; } odf_types[] = {
	{ "application/vnd.oasis.opendocument.text", "odt" },
	{ "application/vnd.oasis.opendocument.spreadsheet", "ods" },
	{ "application/vnd.oasis.opendocument.presentation", "odp" },
};

static const char *detect(cdr_zentry_t *m, const char **mime)
{
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(odf_types); i++) {
		size_t n = strlen(odf_types[i].mime);

		if (m->len == n && memcmp(m->data, odf_types[i].mime, n) == 0) {
			*mime = odf_types[i].mime;
			return odf_types[i].type;
		}
	}
	return NULL;
}

static bool xml_part(const char *name)
{
	static const char *const keep[] = { "content.xml", "styles.xml", "meta.xml",
					    "settings.xml", "META-INF/manifest.xml" };

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(keep); i++)
		if (strcmp(name, keep[i]) == 0)
			return true;
	return false;
}

static int keep_image(odf_t *o, cdr_zentry_t *e)
{
	cdr_job_t sub = *o->job;
	const char *type;
	cdr_kind_t k = cdr_sniff(e->data, e->len, &type);
	cdr_result_t r;
	int rc;

	if (k != CT_PNG && k != CT_JPEG && k != CT_GIF && k != CT_BMP && k != CT_TIFF)
		return cdr_action(o->res, "part-removed: %s", e->name);
	sub.depth++;
	rc = cdr_image_reencode(&sub, k, e->data, e->len, &r);
	if (rc == 0 && r.verdict == CDR_SANITIZED) {
		free(e->data);
		e->data = (unsigned char *)buf_steal(&r.out, &e->len);
		e->keep = true;
	} else if (rc == 0) {
		rc = cdr_action(o->res, "part-removed: %s (%s)", e->name, r.reason);
	}
	cdr_result_free(&r);
	return rc;
}

static int classify(odf_t *o, cdr_zentry_t *e)
{
	if (!*e->name || e->name[strlen(e->name) - 1] == '/' || strcmp(e->name, "mimetype") == 0)
		return 0;
	if (xml_part(e->name)) {
		e->keep = true;
		return 0;
	}
	if (strncmp(e->name, "Pictures/", 9) == 0 || strncmp(e->name, "Thumbnails/", 11) == 0)
		return keep_image(o, e);
	if (strncmp(e->name, "Basic/", 6) == 0 || strncmp(e->name, "Scripts/", 8) == 0)
		return cdr_action(o->res, "macro-removed: %s", e->name);
	return cdr_action(o->res, "part-removed: %s", e->name);
}

static bool element_bad(xmlNodePtr n)
{
	static const char *const bad[] = {
		"scripts", "script", "event-listeners", "event-listener", "object", "object-ole",
		"applet", "plugin", "forms", "control", "dde-source", "dde-connection-decls",
		"dde-connection-decl", "dde-links", "dde-link", "section-source", "table-source",
		"cell-range-source", "encryption-data",
	};

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(bad); i++)
		if (cdr_xml_is(n, bad[i]))
			return true;
	return false;
}

/* An xlink:href that stays: "#anchor" or a kept part of the package. */
static bool href_ok(odf_t *o, const char *v)
{
	cdr_zentry_t *e;

	if (v[0] == '#')
		return true;
	if (strncmp(v, "./", 2) == 0)
		v += 2;
	e = cdr_zip_find(o->z, v);
	return e && e->keep && !strchr(v, ':');
}

static int strip_href(odf_t *o, xmlNodePtr n)
{
	xmlAttrPtr a = xmlHasNsProp(n, (const xmlChar *)"href", (const xmlChar *)XLINK_NS);

	if (!a || !a->children || !a->children->content ||
	    href_ok(o, (const char *)a->children->content))
		return 0;
	if (cdr_action(o->res, "link-disabled: <%s> in %s", (const char *)n->name, o->part) < 0)
		return -1;
	xmlRemoveProp(a);
	return 0;
}

static int manifest_entry(odf_t *o, xmlNodePtr n)
{
	xmlChar *p = xmlGetProp(n, (const xmlChar *)"full-path");
	cdr_zentry_t *e = p ? cdr_zip_find(o->z, (const char *)p) : NULL;
	bool keep = p && (strcmp((const char *)p, "/") == 0 || (e && e->keep) ||
			  strcmp((const char *)p, "mimetype") == 0);

	xmlFree(p);
	if (keep)
		return 0;
	cdr_xml_remove(n);
	return 1;
}

/* -- formulas -- */

static const char *xattr_any(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)name);

	return a && a->children && a->children->content ? (const char *)a->children->content : NULL;
}

static const char *tattr(xmlNodePtr n, const char *ns, const char *name)
{
	xmlAttrPtr a = xmlHasNsProp(n, (const xmlChar *)name, (const xmlChar *)ns);

	return a && a->children && a->children->content ? (const char *)a->children->content : NULL;
}

static bool f_ok(const char *v, cdr_formula_dialect_t d, char *why, size_t whylen)
{
	return !v || cdr_formula_ok(v, strlen(v), d, why, whylen);
}

static long repeated(xmlNodePtr n, const char *name)
{
	const char *v = tattr(n, TABLE_NS, name);
	long r = v ? strtol(v, NULL, 10) : 1;

	return r > 0 && r < 1L << 24 ? r : 1;
}

/* "Sheet1!C4" for a cell (rows and columns counted within their parents). */
static void cell_name(xmlNodePtr cell, char *out, size_t len)
{
	long col = 0, row = 0;
	xmlNodePtr r = cell->parent, t;
	char letters[8];
	int k = 0;

	for (xmlNodePtr p = cell->prev; p; p = p->prev)
		if (cdr_xml_is(p, "table-cell") || cdr_xml_is(p, "covered-table-cell"))
			col += repeated(p, "number-columns-repeated");
	for (xmlNodePtr p = r ? r->prev : NULL; p; p = p->prev)
		if (cdr_xml_is(p, "table-row"))
			row += repeated(p, "number-rows-repeated");
	for (t = r; t && !cdr_xml_is(t, "table"); t = t->parent)
		;
	for (long c = col + 1; c > 0 && k < 7; c = (c - 1) / 26)
		letters[k++] = (char)('A' + (c - 1) % 26);
	for (int i = 0; i < k / 2; i++) {
		char x = letters[i];

		letters[i] = letters[k - 1 - i];
		letters[k - 1 - i] = x;
	}
	letters[k] = '\0';
	snprintf(out, len, "%s!%s%ld", t && tattr(t, TABLE_NS, "name") ? tattr(t, TABLE_NS, "name") : "?",
		 letters, row + 1);
}

/* A range that names another document ("'file:///x.ods'#$S.A1"). */
static bool range_external(const char *v)
{
	return v && (strchr(v, '#') || strstr(v, "://") || strchr(v, '\\'));
}

/* 0 nothing removed, 1 n removed, -1 error. */
static int fix_formulas(odf_t *o, xmlNodePtr n)
{
	char why[96], where[128];

	if (cdr_xml_is(n, "table-cell") && !f_ok(tattr(n, TABLE_NS, "formula"), CDR_F_ODF, why, sizeof(why))) {
		cell_name(n, where, sizeof(where));
		if (cdr_action(o->res, "formula-removed: %s (%s)", where, why) < 0)
			return -1;
		xmlUnsetNsProp(n, xmlSearchNsByHref(n->doc, n, (const xmlChar *)TABLE_NS),
			       (const xmlChar *)"formula");
		return 0;
	}
	if (cdr_xml_is(n, "content-validation") &&
	    !f_ok(tattr(n, TABLE_NS, "condition"), CDR_F_ODF_COND, why, sizeof(why))) {
		if (cdr_action(o->res, "formula-removed: validation %s (%s)",
			       tattr(n, TABLE_NS, "name") ? tattr(n, TABLE_NS, "name") : "?", why) < 0)
			return -1;
		xmlUnsetNsProp(n, xmlSearchNsByHref(n->doc, n, (const xmlChar *)TABLE_NS),
			       (const xmlChar *)"condition");
		return 0;
	}
	if ((cdr_xml_is(n, "map") && !f_ok(tattr(n, "urn:oasis:names:tc:opendocument:xmlns:style:1.0", "condition"),
					  CDR_F_ODF_COND, why, sizeof(why))) ||
	    (cdr_xml_is(n, "condition") && !f_ok(xattr_any(n, "value"), CDR_F_ODF_COND, why, sizeof(why))) ||
	    (cdr_xml_is(n, "named-expression") &&
	     !f_ok(tattr(n, TABLE_NS, "expression"), CDR_F_ODF, why, sizeof(why)))) {
		if (cdr_action(o->res, "formula-removed: <%s> in %s (%s)", (const char *)n->name, o->part, why) < 0)
			return -1;
		cdr_xml_remove(n);
		return 1;
	}
	if ((cdr_xml_is(n, "named-range") || cdr_xml_is(n, "database-range")) &&
	    (range_external(tattr(n, TABLE_NS, "cell-range-address")) ||
	     range_external(tattr(n, TABLE_NS, "base-cell-address")) ||
	     range_external(tattr(n, TABLE_NS, "target-range-address")))) {
		if (cdr_action(o->res, "link-disabled: <%s> in %s", (const char *)n->name, o->part) < 0)
			return -1;
		cdr_xml_remove(n);
		return 1;
	}
	return 0;
}

static int odf_cb(xmlNodePtr n, void *arg)
{
	odf_t *o = arg;
	int r;

	if (element_bad(n)) {
		if (cdr_action(o->res, "element-removed: <%s> in %s", (const char *)n->name, o->part) < 0)
			return -1;
		cdr_xml_remove(n);
		return 1;
	}
	if (cdr_xml_is(n, "file-entry") && strcmp(o->part, "META-INF/manifest.xml") == 0)
		return manifest_entry(o, n);
	if ((cdr_xml_is(n, "a") || cdr_xml_is(n, "execute-macro")) && strcmp(cdr_xml_ns(n), TEXT_NS) == 0) {
		if (cdr_action(o->res, "link-disabled: <text:%s> in %s", (const char *)n->name, o->part) < 0 ||
		    cdr_xml_walk_children(n, odf_cb, o) < 0)
			return -1;
		cdr_xml_unwrap(n);
		return 1;
	}
	r = fix_formulas(o, n);
	if (r != 0)
		return r;
	return strip_href(o, n);
}

static bool encrypted(cdr_zip_t *z)
{
	cdr_zentry_t *m = cdr_zip_find(z, "META-INF/manifest.xml");

	return m && memmem(m->data, m->len, "encryption-data", 15) != NULL;
}

static int rewrite(odf_t *o, cdr_zentry_t *e)
{
	xmlDocPtr doc;
	unsigned char *out = NULL;
	size_t len;
	int rc = -1;

	if ((long long)e->len > lim(o->job->lim, LIM_XML_PART))
		return cdr_block(o->res, "limit:xml_part_max: %s", e->name);
	doc = cdr_xml_parse(e->data, e->len, e->name, o->res, false);
	if (!doc)
		return 0;
	o->part = e->name;
	if (cdr_xml_walk(doc, odf_cb, o) == 0 && cdr_xml_dump(doc, &out, &len) == 0) {
		free(e->data);
		e->data = out;
		e->len = len;
		rc = 0;
	}
	xmlFreeDoc(doc);
	return rc;
}

static int set_mimetype(cdr_zentry_t *m, const char *mime)
{
	free(m->data);
	m->data = (unsigned char *)strdup(mime);
	m->len = strlen(mime);
	m->keep = true;
	return m->data ? 0 : -1;
}

int cdr_odf(cdr_job_t *job, cdr_zip_t *z, cdr_result_t *res)
{
	odf_t o = { .job = job, .z = z, .res = res };
	cdr_zentry_t *m = cdr_zip_find(z, "mimetype");
	const char *mime = NULL, *type = detect(m, &mime);
	int rc = 0;

	if (type)
		res->type = type;
	if (encrypted(z)) /* before the type: other types are converted (legacy.c) */
		return cdr_block(res, "encrypted");
	if (!type)
		return cdr_block(res, "unsupported-type: ODF document type not supported");
	for (size_t i = 0; i < z->n && rc == 0; i++)
		rc = classify(&o, &z->e[i]);
	for (size_t i = 0; i < z->n && rc == 0 && cdr_pending(res); i++)
		if (z->e[i].keep && xml_part(z->e[i].name))
			rc = rewrite(&o, &z->e[i]);
	if (rc < 0 || !cdr_pending(res))
		return rc;
	if (!cdr_zip_find(z, "content.xml") || set_mimetype(m, mime) < 0)
		return cdr_zip_find(z, "content.xml") ? -1 : cdr_block(res, "broken: ODF without content.xml");
	if (cdr_zip_write(z, "mimetype", &res->out) < 0)
		return res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
	return cdr_done(res, type);
}
