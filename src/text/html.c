/*
 * html.c — HTML to readable plain text through gumbo (see html.h): the
 * entry point and the tree walk that renders each element. Its parts:
 * html_pool.c (gumbo's memory), html_scan.c (depth pre-scan), html_hw.c
 * (text writer), html_css.c (hidden elements), html_visible.c (visible-
 * character estimate); html_int.h lists them.
 *
 * Follows: WHATWG HTML (parsing by gumbo 0.10.1; element semantics),
 * CSS 2.1 / CSS Text 3 `white-space: normal` collapsing, including the
 * segment-break rule: a collapsed run that held a newline between two wide
 * (CJK) characters disappears, as hard-wrapped Japanese source needs.
 *
 * Decisions (documented in html.h too):
 *  - Dropped: script, style, head/title, template, iframe, noembed,
 *    noframes, frameset, embed, datalist, param/source/track, comments;
 *    SVG script/style/title/desc/metadata/defs/symbol/paint servers and
 *    MathML annotations (never drawn); SVG text outside <text> (not
 *    drawn); elements with the `hidden` attribute or an inline style
 *    display:none, visibility:hidden|collapse or mso-hide:all (newsletter
 *    preheaders), or SVG display="none"/visibility="hidden". Hidden text
 *    is not a "visible word": dropping it is what the reader sees.
 *  - Kept (class 6, "every visible word"): noscript content (gumbo parses
 *    it as markup, as a client without scripts does), fallback content of
 *    object/applet/video/audio/canvas, SVG <text> (with tspan and CDATA),
 *    SVG <foreignObject> HTML, MathML text, button text, textarea, details
 *    and summary, aria-hidden content; <input> shows "[value]" (else
 *    "[placeholder]") unless its type shows no text (hidden, password,
 *    checkbox, radio, file, range, color; type=image shows "[alt]"); a
 *    drop-down <select> shows "[option]" for the last option marked
 *    selected, else the first; a list box (multiple, size > 1) shows every
 *    option on its own line.
 *  - Tables: a row is one line with cells joined by " | " while the cells
 *    stay on that line; block content in a cell breaks lines as usual, so
 *    layout tables (most Japanese HTML newsletters) stay readable. Empty
 *    cells and rows vanish.
 *  - NBSP collapses like a space; C0/C1 controls and bidi overrides are
 *    dropped (tab is a space); ruby text is shown as "漢字(かんじ)".
 *  - Defang and remove styles end with one more link_rewrite_text pass
 *    over the whole result (idempotent on our own output), so a URL split
 *    across elements (<b>http:</b>//evil) cannot become clickable.
 *
 * Gumbo 0.10.1 (Debian 12) has no max_tree_depth: its tree builder is
 * quadratic in depth and gumbo_destroy_output() recurses once per level.
 * So: (1) a linear pre-scan models the open-element stack (implied end
 * tags, scope boundaries, formatting elements that would be reconstructed)
 * and refuses input deeper than depth_max before gumbo runs; (2) gumbo
 * allocates from a tracked pool that we free in one sweep (no recursive
 * destroy), with a memory cap enforced by longjmp out of the parser;
 * (3) the iterative tree walk checks the real depth again.
 *
 * SECURITY: runs in the sanitizer worker on hostile HTML. Limits:
 * html_depth_max (pre-scan + walk), html_expansion_max (out ≤ ratio × in +
 * HTML_SLACK, also caps every scratch buffer), a parser memory cap, gumbo
 * max_errors. No recursion; no files.
 */
#include "text/html_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ==== tree walk ========================================================= */

enum { F_INLINE, F_BLOCK1, F_BLOCK2, F_LIST, F_LI, F_QUOTE, F_PRE, F_LINK, F_RT,
       F_SVGTEXT, F_SELECT, F_OPTION };

typedef struct frame {
	GumboNode *node;
	unsigned idx;
	int kind;
	int list;   /* F_LIST: enclosing list frame; others unused */
	long num;   /* F_LIST: next item number */
	int step;   /* F_LIST: +1, or -1 when reversed */
} frame_t;

typedef struct walk {
	hw_t *h;
	frame_t *fs;
	int top, max, cur_list;
	int svg_text;               /* open SVG <text> elements */
	int sel_mode;               /* SEL_* of the open <select> */
	const GumboNode *sel_opt;   /* SEL_ONE: the option shown */
} walk_t;

enum { SEL_NONE, SEL_ONE, SEL_ALL };

static bool tag_block1(GumboTag t)
{
	static const GumboTag v[] = {
		GUMBO_TAG_DIV, GUMBO_TAG_SECTION, GUMBO_TAG_ARTICLE,
		GUMBO_TAG_HEADER, GUMBO_TAG_FOOTER, GUMBO_TAG_ADDRESS, GUMBO_TAG_NAV,
		GUMBO_TAG_ASIDE, GUMBO_TAG_MAIN, GUMBO_TAG_FORM, GUMBO_TAG_FIELDSET,
		GUMBO_TAG_LEGEND, GUMBO_TAG_CENTER, GUMBO_TAG_FIGURE,
		GUMBO_TAG_FIGCAPTION, GUMBO_TAG_DETAILS, GUMBO_TAG_SUMMARY,
		GUMBO_TAG_DL, GUMBO_TAG_DT, GUMBO_TAG_DD, GUMBO_TAG_TABLE,
		GUMBO_TAG_CAPTION, GUMBO_TAG_TR, GUMBO_TAG_HGROUP, GUMBO_TAG_MENU,
		GUMBO_TAG_DIR, GUMBO_TAG_BODY, GUMBO_TAG_MULTICOL, GUMBO_TAG_MARQUEE,
	};

	return tag_in(t, v, MUGAI_ARRAY_LEN(v));
}

static bool tag_block2(GumboTag t)
{
	return t == GUMBO_TAG_P || (t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6);
}

static bool tag_pre(GumboTag t)
{
	return t == GUMBO_TAG_PRE || t == GUMBO_TAG_TEXTAREA || t == GUMBO_TAG_LISTING ||
	       t == GUMBO_TAG_XMP || t == GUMBO_TAG_PLAINTEXT;
}

static const GumboVector *kids(const GumboNode *n)
{
	if (n->type == GUMBO_NODE_DOCUMENT)
		return &n->v.document.children;
	return &n->v.element.children;
}

/* Parse a small decimal integer attribute; false if absent or not one. */
static bool attr_long(const GumboNode *n, const char *name, long *v)
{
	const char *s = html_attr(n, name);
	long x = 0;
	bool neg;

	if (!s)
		return false;
	s = html_skip_ws(s);
	neg = *s == '-';
	s += (*s == '-' || *s == '+');
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		if (x < 1000000000L)
			x = x * 10 + (*s - '0');
	*v = neg ? -x : x;
	return true;
}

static void list_enter(walk_t *w, frame_t *f)
{
	const GumboVector *k = kids(f->node);
	unsigned i;
	long items = 0;

	f->kind = F_LIST;
	f->list = w->cur_list;
	f->step = html_attr(f->node, "reversed") ? -1 : 1;
	if (!attr_long(f->node, "start", &f->num)) {
		for (i = 0; i < k->length; i++)
			items += ((GumboNode *)k->data[i])->type == GUMBO_NODE_ELEMENT &&
				 ((GumboNode *)k->data[i])->v.element.tag == GUMBO_TAG_LI;
		f->num = f->step < 0 ? items : 1;
	}
	w->cur_list = w->top;
	html_hw_break(w->h, 1);
	w->h->lists++;
}

static void li_enter(walk_t *w, frame_t *f)
{
	hw_t *h = w->h;
	frame_t *l = w->cur_list >= 0 ? &w->fs[w->cur_list] : NULL;

	f->kind = F_LI;
	html_hw_break(h, 1);
	if (h->in_label)
		return;
	if (l && l->node->v.element.tag == GUMBO_TAG_OL) {
		snprintf(h->markbuf, sizeof(h->markbuf), "%ld. ", l->num);
		l->num += l->step;
	} else {
		snprintf(h->markbuf, sizeof(h->markbuf), "・ ");
	}
	h->mark = true;
}

static int img_enter(hw_t *h, const GumboNode *n)
{
	h->r->images++;
	return html_hw_boxed(h, html_attr(n, "alt"));
}

/* <input>: the value (else the placeholder) of every type that shows
 * text; the alt of type=image. */
static int input_elem(hw_t *h, const GumboNode *n)
{
	static const char *const silent[] = {
		"hidden", "password", "checkbox", "radio", "file", "range", "color",
	};
	const char *type = html_attr(n, "type"), *v;
	size_t i;

	if (type) {
		type = html_skip_ws(type);
		if (strcasecmp(type, "image") == 0)
			return img_enter(h, n);
		for (i = 0; i < MUGAI_ARRAY_LEN(silent); i++)
			if (strcasecmp(type, silent[i]) == 0)
				return 0;
	}
	v = html_attr(n, "value");
	if (!v || *html_skip_ws(v) == '\0')
		v = html_attr(n, "placeholder");
	return html_hw_boxed(h, v);
}

/* Void and leaf elements: handled here, never pushed. */
static int void_elem(hw_t *h, const GumboNode *n)
{
	const char *href, *alt;

	switch (n->v.element.tag) {
	case GUMBO_TAG_BR:
		html_hw_br(h);
		return 0;
	case GUMBO_TAG_HR:
		html_hw_break(h, 1);
		if (!h->in_label && html_hw_put(h, "----------", 10) < 0)
			return -1;
		html_hw_break(h, 1);
		return 0;
	case GUMBO_TAG_IMG: case GUMBO_TAG_IMAGE:
		return img_enter(h, n);
	case GUMBO_TAG_INPUT:
		return input_elem(h, n);
	case GUMBO_TAG_AREA:
		href = html_attr(n, "href");
		alt = html_attr(n, "alt");
		if (!href || h->in_label)
			return 0;
		return html_hw_link(h, alt ? alt : "", alt ? strlen(alt) : 0, href);
	default:
		return 0;
	}
}

static bool is_void(GumboTag t)
{
	return t == GUMBO_TAG_BR || t == GUMBO_TAG_HR || t == GUMBO_TAG_IMG ||
	       t == GUMBO_TAG_IMAGE || t == GUMBO_TAG_AREA || t == GUMBO_TAG_WBR ||
	       t == GUMBO_TAG_COL || t == GUMBO_TAG_INPUT;
}

/* <select>: a drop-down shows its selected option (the last one marked
 * selected, else the first); a list box (multiple, size > 1) shows all. */
static void select_enter(walk_t *w, frame_t *f)
{
	const GumboNode *n = f->node, *first = NULL, *sel = NULL, *c, *g;
	const GumboVector *k = kids(n), *gk;
	long size = 0;
	unsigned i, j;

	f->kind = F_SELECT;
	if (html_attr(n, "multiple") || (attr_long(n, "size", &size) && size > 1)) {
		w->sel_mode = SEL_ALL;
		return;
	}
	for (i = 0; i < k->length; i++) {
		g = k->data[i];
		if (g->type != GUMBO_NODE_ELEMENT)
			continue;
		gk = g->v.element.tag == GUMBO_TAG_OPTGROUP ? kids(g) : NULL;
		for (j = 0; j < (gk ? gk->length : 1); j++) {
			c = gk ? gk->data[j] : g;
			if (c->type != GUMBO_NODE_ELEMENT || c->v.element.tag != GUMBO_TAG_OPTION)
				continue;
			if (!first)
				first = c;
			if (html_attr(c, "selected"))
				sel = c;
		}
	}
	w->sel_mode = SEL_ONE;
	w->sel_opt = sel ? sel : first;
}

static int elem_enter(walk_t *w, frame_t *f)
{
	hw_t *h = w->h;
	GumboTag t = f->node->v.element.tag;

	f->kind = F_INLINE;
	if (f->node->v.element.tag_namespace == GUMBO_NAMESPACE_SVG) {
		if (html_name_is(f->node, "text")) {
			f->kind = F_SVGTEXT;
			w->svg_text++;
			html_hw_break(h, 1);
		}
		if (t != GUMBO_TAG_A)
			return 0;
	}
	if (t == GUMBO_TAG_SELECT) {
		select_enter(w, f);
	} else if (t == GUMBO_TAG_OPTION) {
		f->kind = F_OPTION;
		if (w->sel_mode == SEL_ALL)
			html_hw_break(h, 1);
		return html_hw_box(h, true);
	} else if (t == GUMBO_TAG_UL || t == GUMBO_TAG_OL) {
		list_enter(w, f);
	} else if (t == GUMBO_TAG_LI) {
		li_enter(w, f);
	} else if (t == GUMBO_TAG_BLOCKQUOTE) {
		f->kind = F_QUOTE;
		html_hw_break(h, 2);
		html_hw_quote(h, 1);
	} else if (tag_pre(t)) {
		f->kind = F_PRE;
		html_hw_break(h, 2);
		h->pre++;
	} else if (tag_block2(t) || tag_block1(t)) {
		f->kind = tag_block2(t) ? F_BLOCK2 : F_BLOCK1;
		html_hw_break(h, tag_block2(t) ? 2 : 1);
	} else if ((t == GUMBO_TAG_TD || t == GUMBO_TAG_TH) && !h->in_label) {
		h->sep = h->started && !h->at_bol && h->pend_nl == 0;
	} else if (t == GUMBO_TAG_A && html_attr(f->node, "href") && !h->in_label) {
		f->kind = F_LINK;
		h->in_label = true;
		h->lsp = false;
		buf_reset(&h->label);
	} else if (t == GUMBO_TAG_RT) {
		f->kind = F_RT;
		return h->in_label ? html_hw_label(h, "(", 1) : html_hw_put(h, "(", 1);
	}
	return 0;
}

static int elem_exit(walk_t *w, frame_t *f)
{
	hw_t *h = w->h;

	switch (f->kind) {
	case F_BLOCK1: html_hw_break(h, 1); break;
	case F_BLOCK2: html_hw_break(h, 2); break;
	case F_LIST:
		html_hw_break(h, 1);
		h->lists--;
		w->cur_list = f->list;
		break;
	case F_LI:
		html_hw_break(h, 1);
		h->mark = false;
		break;
	case F_QUOTE:
		html_hw_break(h, 2);
		html_hw_quote(h, -1);
		break;
	case F_PRE:
		h->pre--;
		h->pre_sp = 0;
		html_hw_break(h, 2);
		break;
	case F_LINK:
		h->in_label = false;
		return html_hw_link(h, h->label.data ? h->label.data : "", h->label.len,
			       html_attr(f->node, "href"));
	case F_RT:
		return h->in_label ? html_hw_label(h, ")", 1) : html_hw_put(h, ")", 1);
	case F_SVGTEXT:
		w->svg_text--;
		html_hw_break(h, 1);
		break;
	case F_SELECT:
		w->sel_mode = SEL_NONE;
		w->sel_opt = NULL;
		break;
	case F_OPTION:
		if (html_hw_box(h, false) < 0)
			return -1;
		if (w->sel_mode == SEL_ALL)
			html_hw_break(h, 1);
		break;
	}
	return 0;
}

/* Text, whitespace, and CDATA (SVG/MathML only) nodes. */
static bool node_is_text(const GumboNode *c)
{
	return c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_WHITESPACE ||
	       c->type == GUMBO_NODE_CDATA;
}

/* Is child c of the top frame shown? SVG draws only the text inside
 * <text>; a drop-down shows one option. */
static bool child_shown(const walk_t *w, const GumboNode *c)
{
	const GumboNode *p = w->fs[w->top].node;

	if (node_is_text(c))
		return p->type != GUMBO_NODE_ELEMENT ||
		       p->v.element.tag_namespace != GUMBO_NAMESPACE_SVG || w->svg_text > 0;
	if (c->v.element.tag == GUMBO_TAG_OPTION && w->sel_mode == SEL_ONE)
		return c == w->sel_opt;
	return true;
}

/* Visit child c of the top frame: text is written, elements pushed. */
static int visit(walk_t *w, GumboNode *c)
{
	frame_t *f;

	if ((!node_is_text(c) && c->type != GUMBO_NODE_ELEMENT) || !child_shown(w, c))
		return 0;
	if (node_is_text(c))
		return html_hw_text(w->h, c->v.text.text, strlen(c->v.text.text));
	if (html_elem_skipped(c))
		return 0;
	if (is_void(c->v.element.tag))
		return void_elem(w->h, c);
	if (w->top + 1 >= w->max) {
		w->h->r->depth_exceeded = true;
		return -1;
	}
	f = &w->fs[++w->top];
	memset(f, 0, sizeof(*f));
	f->node = c;
	return elem_enter(w, f);
}

static int walk_tree(walk_t *w, GumboNode *doc)
{
	frame_t *f;
	const GumboVector *k;

	w->top = 0;
	w->cur_list = -1;
	memset(&w->fs[0], 0, sizeof(w->fs[0]));
	w->fs[0].node = doc;
	while (w->top >= 0) {
		f = &w->fs[w->top];
		k = kids(f->node);
		if (f->idx < k->length) {
			if (visit(w, k->data[f->idx++]) < 0)
				return -1;
			continue;
		}
		if (w->top > 0 && elem_exit(w, f) < 0)
			return -1;
		w->top--;
	}
	return 0;
}

/* ==== entry point ======================================================= */

static size_t out_limit(size_t len, size_t ratio)
{
	size_t lim;

	if (size_mul(len, ratio ? ratio : 1, &lim) < 0 || size_add(lim, HTML_SLACK, &lim) < 0)
		return SIZE_MAX / 2;
	return lim;
}

/* Walk the tree into h->w; returns -1 only on a real failure (a limit hit
 * sets its flag and returns 0). */
static int convert(hw_t *h, GumboOutput *g, int depth_max)
{
	walk_t w = { .h = h, .max = depth_max + 8 };
	int rc = 0;

	w.fs = calloc((size_t)w.max, sizeof(*w.fs));
	if (!w.fs)
		return -1;
	if (walk_tree(&w, g->document) < 0 && !h->r->depth_exceeded) {
		if (h->w.capped || h->tmp.capped || h->label.capped)
			h->r->expansion_exceeded = true;
		else
			rc = -1;
	}
	free(w.fs);
	return rc;
}

static size_t count_fffd(const char *s, size_t n)
{
	size_t k = 0;
	const char *p = s, *end;

	if (!s) /* an empty buffer has no data (NULL + 0 is undefined) */
		return 0;
	end = s + n;
	while (p && end - p >= 3 && (p = memmem(p, (size_t)(end - p), "\xEF\xBF\xBD", 3))) {
		k++;
		p += 3;
	}
	return k;
}

int html_to_text(const char *html, size_t len, const html_opts_t *o, buf_t *out,
		 html_result_t *r)
{
	size_t lim = out_limit(len, o->expansion_max);
	GumboOutput *g = NULL;
	pool_t pool;
	hw_t h;
	int rc = -1, deep;

	memset(r, 0, sizeof(*r));
	html_pool_init(&pool, html_pool_limit(len));
	html_hw_init(&h, o, lim, r);
	if (len > UINT32_MAX / 2 || o->depth_max < 1)
		goto out;
	deep = html_scan_too_deep(html, len, o->depth_max);
	if (deep != 0) {
		r->depth_exceeded = deep > 0;
		rc = deep > 0 ? 0 : -1;
		goto out;
	}
	g = html_pool_parse(&pool, html, len);
	if (!g || convert(&h, g, o->depth_max) < 0)
		goto out;
	rc = 0;
	if (!r->depth_exceeded && !r->expansion_exceeded)
		rc = html_hw_finish(&h, out, lim);
	if (rc == 0 && !r->depth_exceeded && !r->expansion_exceeded) {
		size_t in = count_fffd(html, len), shown = count_fffd(h.w.data, h.w.len);

		r->replaced = shown > in ? shown - in : 0;
	}
out:
	html_pool_release(&pool);
	html_hw_free(&h);
	return rc;
}
