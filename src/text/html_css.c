/*
 * html_css.c — which elements are never shown: dropped tags, SVG and MathML
 * elements never drawn, the hidden attribute and inline CSS that hides (see
 * html_int.h).
 *
 * Follows: WHATWG HTML (rendering: hidden, display of script/style/head…),
 * CSS 2.1 display/visibility declarations in a style attribute
 * (display:none, visibility:hidden|collapse, and Outlook's mso-hide:all for
 * newsletter preheaders), SVG 1.1/2 presentation attributes display="none"
 * and visibility="hidden|collapse". Hidden text is not a "visible word":
 * dropping it is what the reader sees. No style sheets are applied.
 *
 * SECURITY: runs in the sanitizer worker on gumbo's tree of hostile HTML;
 * reads attribute strings only, no allocation.
 */
#include "text/html_int.h"

#include <string.h>
#include <strings.h>

static bool tag_dropped(GumboTag t)
{
	static const GumboTag v[] = {
		GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE, GUMBO_TAG_HEAD, GUMBO_TAG_TITLE,
		GUMBO_TAG_TEMPLATE, GUMBO_TAG_IFRAME, GUMBO_TAG_EMBED,
		GUMBO_TAG_DATALIST, GUMBO_TAG_NOEMBED,
		GUMBO_TAG_NOFRAMES, GUMBO_TAG_FRAMESET, GUMBO_TAG_FRAME,
		GUMBO_TAG_RP, GUMBO_TAG_PARAM, GUMBO_TAG_SOURCE, GUMBO_TAG_TRACK,
		GUMBO_TAG_BASE, GUMBO_TAG_LINK, GUMBO_TAG_META, GUMBO_TAG_KEYGEN,
	};

	return tag_in(t, v, MUGAI_ARRAY_LEN(v));
}

/* ASCII case-insensitive: does s start with the lowercase word w? */
static bool starts_ci(const char *s, const char *w)
{
	return strncasecmp(s, w, strlen(w)) == 0;
}

const char *html_skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
		s++;
	return s;
}

/* Does one declaration "name: value" hide the element? */
static bool decl_hides(const char *d)
{
	static const char *const rules[][2] = {
		{ "display", "none" }, { "visibility", "hidden" },
		{ "visibility", "collapse" }, { "mso-hide", "all" },
	};
	const char *v;
	size_t i, n;

	d = html_skip_ws(d);
	for (i = 0; i < MUGAI_ARRAY_LEN(rules); i++) {
		n = strlen(rules[i][0]);
		if (strncasecmp(d, rules[i][0], n) != 0)
			continue;
		v = html_skip_ws(d + n);
		if (*v == ':' && starts_ci(html_skip_ws(v + 1), rules[i][1]))
			return true;
	}
	return false;
}

static bool style_hides(const char *s)
{
	const char *p = s;

	for (;;) {
		if (decl_hides(p))
			return true;
		p = strchr(p, ';');
		if (!p)
			return false;
		p++;
	}
}

/* Is element n named `name` (lowercase)? Works for foreign elements that
 * gumbo has no tag for (SVG <text>, <tspan>). */
bool html_name_is(const GumboNode *n, const char *name)
{
	GumboStringPiece p = n->v.element.original_tag;
	size_t l = strlen(name);

	if (n->v.element.tag != GUMBO_TAG_UNKNOWN)
		return strcmp(gumbo_normalized_tagname(n->v.element.tag), name) == 0;
	if (!p.data || p.length < 2)
		return false;
	gumbo_tag_from_original_text(&p);
	return p.length == l && strncasecmp(p.data, name, l) == 0;
}

/* SVG/MathML elements that are never rendered, or hidden by their
 * presentation attributes. */
static bool foreign_skipped(const GumboNode *n)
{
	static const char *const names[] = {
		"script", "style", "title", "desc", "metadata", "defs", "symbol",
		"clippath", "mask", "pattern", "marker", "lineargradient",
		"radialgradient", "filter", "annotation", "annotation-xml",
	};
	const char *d = html_attr(n, "display"), *v = html_attr(n, "visibility");
	size_t i;

	if ((d && starts_ci(html_skip_ws(d), "none")) ||
	    (v && (starts_ci(html_skip_ws(v), "hidden") || starts_ci(html_skip_ws(v), "collapse"))))
		return true;
	for (i = 0; i < MUGAI_ARRAY_LEN(names); i++)
		if (html_name_is(n, names[i]))
			return true;
	return false;
}

bool html_elem_skipped(const GumboNode *n)
{
	const GumboElement *e = &n->v.element;
	const GumboAttribute *a;

	if (n->type == GUMBO_NODE_TEMPLATE)
		return true;
	if (e->tag_namespace != GUMBO_NAMESPACE_HTML ? foreign_skipped(n) : tag_dropped(e->tag))
		return true;
	if (gumbo_get_attribute(&e->attributes, "hidden"))
		return true;
	a = gumbo_get_attribute(&e->attributes, "style");
	return a && style_hides(a->value);
}

const char *html_attr(const GumboNode *n, const char *name)
{
	const GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, name);

	return a ? a->value : NULL;
}
