/*
 * html_scan.c — a linear pre-scan that bounds the element nesting gumbo
 * would build, before gumbo runs (see html_int.h).
 *
 * Follows: WHATWG HTML tree construction, modelled only as far as depth
 * goes: the open-element stack with implied end tags, scope boundaries and
 * formatting elements that would be reconstructed (Noah's Ark: at most 3),
 * raw-text elements skipped. Gumbo 0.10.1 has no max_tree_depth and its
 * tree builder is quadratic in depth, so input deeper than depth_max is
 * refused here; the tree walk (html.c) checks the real depth again.
 *
 * SECURITY: runs in the sanitizer worker on hostile HTML; linear in the
 * input, memory O(depth_max) (html_depth_max), no recursion.
 */
#include "text/html_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct pscan {
	const char *s;
	size_t n, i;
	int max, depth, noff;
	GumboTag *st, *off;
	uint32_t *hash, *offh, *attrh;
	int *saved;
	unsigned cnt[GUMBO_TAG_LAST + 1];
	bool deep;
} pscan_t;

static bool tag_void(GumboTag t)
{
	static const GumboTag v[] = {
		GUMBO_TAG_AREA, GUMBO_TAG_BASE, GUMBO_TAG_BR, GUMBO_TAG_COL,
		GUMBO_TAG_EMBED, GUMBO_TAG_HR, GUMBO_TAG_IMG, GUMBO_TAG_IMAGE,
		GUMBO_TAG_INPUT, GUMBO_TAG_LINK, GUMBO_TAG_META, GUMBO_TAG_PARAM,
		GUMBO_TAG_SOURCE, GUMBO_TAG_TRACK, GUMBO_TAG_WBR, GUMBO_TAG_KEYGEN,
		GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_FRAME,
		GUMBO_TAG_MENUITEM, GUMBO_TAG_ISINDEX, GUMBO_TAG_SPACER,
		GUMBO_TAG_HTML, GUMBO_TAG_HEAD, GUMBO_TAG_BODY, GUMBO_TAG_NEXTID,
	};

	return tag_in(t, v, MUGAI_ARRAY_LEN(v));
}

static bool tag_fmt(GumboTag t)
{
	static const GumboTag v[] = {
		GUMBO_TAG_A, GUMBO_TAG_B, GUMBO_TAG_BIG, GUMBO_TAG_CODE, GUMBO_TAG_EM,
		GUMBO_TAG_FONT, GUMBO_TAG_I, GUMBO_TAG_NOBR, GUMBO_TAG_S,
		GUMBO_TAG_SMALL, GUMBO_TAG_STRIKE, GUMBO_TAG_STRONG, GUMBO_TAG_TT,
		GUMBO_TAG_U,
	};

	return tag_in(t, v, MUGAI_ARRAY_LEN(v));
}

/* Scope boundaries (and markers of the active formatting list). */
static bool tag_scope(GumboTag t)
{
	static const GumboTag v[] = {
		GUMBO_TAG_APPLET, GUMBO_TAG_CAPTION, GUMBO_TAG_TABLE, GUMBO_TAG_TD,
		GUMBO_TAG_TH, GUMBO_TAG_MARQUEE, GUMBO_TAG_OBJECT, GUMBO_TAG_TEMPLATE,
		GUMBO_TAG_BUTTON,
	};

	return tag_in(t, v, MUGAI_ARRAY_LEN(v));
}

static bool tag_closes_p(GumboTag t)
{
	static const GumboTag v[] = {
		GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,
		GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_CENTER, GUMBO_TAG_DETAILS,
		GUMBO_TAG_DIR, GUMBO_TAG_DIV, GUMBO_TAG_DL, GUMBO_TAG_FIELDSET,
		GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER,
		GUMBO_TAG_HEADER, GUMBO_TAG_HGROUP, GUMBO_TAG_MAIN, GUMBO_TAG_MENU,
		GUMBO_TAG_NAV, GUMBO_TAG_OL, GUMBO_TAG_P, GUMBO_TAG_SECTION,
		GUMBO_TAG_SUMMARY, GUMBO_TAG_UL, GUMBO_TAG_H1, GUMBO_TAG_H2,
		GUMBO_TAG_H3, GUMBO_TAG_H4, GUMBO_TAG_H5, GUMBO_TAG_H6, GUMBO_TAG_PRE,
		GUMBO_TAG_LISTING, GUMBO_TAG_FORM, GUMBO_TAG_LI, GUMBO_TAG_DD,
		GUMBO_TAG_DT, GUMBO_TAG_HR, GUMBO_TAG_TABLE, GUMBO_TAG_XMP,
	};

	return tag_in(t, v, MUGAI_ARRAY_LEN(v));
}

static bool tag_rawtext(GumboTag t)
{
	static const GumboTag v[] = {
		GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE, GUMBO_TAG_XMP, GUMBO_TAG_IFRAME,
		GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES, GUMBO_TAG_TEXTAREA,
		GUMBO_TAG_TITLE,
	};

	return tag_in(t, v, MUGAI_ARRAY_LEN(v));
}

/* A formatting element left the stack but stays in the active formatting
 * list (it will be reconstructed). Noah's Ark: at most 3 identical ones
 * (same tag, same attribute bytes; reality compares attribute sets, so we
 * only ever overestimate). */
static void ps_off_add(pscan_t *p, GumboTag t, uint32_t ah)
{
	int k, same = 0;

	for (k = p->noff - 1; k >= 0; k--)
		if (p->off[k] == t && p->offh[k] == ah && ++same >= 3)
			return;
	if (p->depth + p->noff >= p->max) {
		p->deep = true;
		return;
	}
	p->off[p->noff] = t;
	p->offh[p->noff++] = ah;
}

static void ps_pop(pscan_t *p, bool implicit)
{
	GumboTag t = p->st[--p->depth];

	p->cnt[t]--;
	if (tag_scope(t) && p->noff > p->saved[p->depth])
		p->noff = p->saved[p->depth];
	if (implicit && tag_fmt(t))
		ps_off_add(p, t, p->attrh[p->depth]);
}

static void ps_push(pscan_t *p, GumboTag t, uint32_t h, uint32_t ah)
{
	if (p->depth + p->noff >= p->max) {
		p->deep = true;
		return;
	}
	p->st[p->depth] = t;
	p->hash[p->depth] = h;
	p->attrh[p->depth] = ah;
	p->saved[p->depth] = p->noff;
	p->cnt[t]++;
	p->depth++;
}

/* Index of the topmost t (matching hash h for unknown tags) below any
 * scope boundary when bounded, or -1. */
static int ps_find(const pscan_t *p, GumboTag t, uint32_t h, GumboTag alt, bool bounded)
{
	int k;

	if (p->cnt[t] == 0 && (alt == GUMBO_TAG_LAST || p->cnt[alt] == 0))
		return -1;
	for (k = p->depth - 1; k >= 0; k--) {
		if ((p->st[k] == t && (t != GUMBO_TAG_UNKNOWN || p->hash[k] == h)) ||
		    p->st[k] == alt)
			return k;
		if (bounded && (tag_scope(p->st[k]) || p->st[k] == GUMBO_TAG_UL ||
				p->st[k] == GUMBO_TAG_OL || p->st[k] == GUMBO_TAG_DL))
			return -1;
	}
	return -1;
}

static void ps_pop_to(pscan_t *p, int k)
{
	if (k < 0)
		return;
	while (p->depth > k + 1)
		ps_pop(p, true);
	if (p->depth > k)
		ps_pop(p, false);
}

static void ps_implied(pscan_t *p, GumboTag t)
{
	GumboTag alt = GUMBO_TAG_LAST, want = t;

	if (tag_closes_p(t))
		ps_pop_to(p, ps_find(p, GUMBO_TAG_P, 0, GUMBO_TAG_LAST, true));
	switch (t) {
	case GUMBO_TAG_TD: case GUMBO_TAG_TH:
		want = GUMBO_TAG_TD, alt = GUMBO_TAG_TH;
		break;
	case GUMBO_TAG_DD: case GUMBO_TAG_DT:
		want = GUMBO_TAG_DD, alt = GUMBO_TAG_DT;
		break;
	case GUMBO_TAG_TBODY: case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT:
		ps_pop_to(p, ps_find(p, GUMBO_TAG_TD, 0, GUMBO_TAG_TH, true));
		ps_pop_to(p, ps_find(p, GUMBO_TAG_TR, 0, GUMBO_TAG_LAST, true));
		want = GUMBO_TAG_TBODY, alt = GUMBO_TAG_THEAD;
		break;
	case GUMBO_TAG_TR:
		ps_pop_to(p, ps_find(p, GUMBO_TAG_TD, 0, GUMBO_TAG_TH, true));
		break;
	case GUMBO_TAG_LI: case GUMBO_TAG_OPTION:
	case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3:
	case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
		break;
	case GUMBO_TAG_TABLE:
		if (p->depth && p->st[p->depth - 1] == GUMBO_TAG_TABLE)
			ps_pop(p, false);
		return;
	default:
		return;
	}
	ps_pop_to(p, ps_find(p, want, 0, alt, true));
}

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint32_t)((unsigned char)s[i] | 0x20)) * 16777619u;
	return h;
}

/* Skip to just after needle (ASCII, case-insensitive), or to the end. */
static void ps_skip_past(pscan_t *p, const char *needle)
{
	size_t m = strlen(needle);

	while (p->i < p->n) {
		if (p->n - p->i >= m && strncasecmp(p->s + p->i, needle, m) == 0) {
			p->i += m;
			return;
		}
		p->i++;
	}
}

/* Skip the attributes of a tag; return true when it ends with "/>".
 * *ah gets a hash of the attribute bytes. */
static bool ps_skip_attrs(pscan_t *p, uint32_t *ah)
{
	size_t b = p->i;
	char q, prev = 0;

	while (p->i < p->n && p->s[p->i] != '>') {
		q = p->s[p->i++];
		if ((q == '"' || q == '\'') && prev == '=') {
			while (p->i < p->n && p->s[p->i] != q)
				p->i++;
			p->i++;
		}
		if (q != ' ' && q != '\t' && q != '\n' && q != '\r')
			prev = q;
	}
	*ah = name_hash(p->s + b, (p->i < p->n ? p->i : p->n) - b);
	p->i++;
	return prev == '/';
}

static size_t ps_name(pscan_t *p)
{
	size_t b = p->i;

	while (p->i < p->n && !strchr(" \t\n\r\f/>", p->s[p->i]))
		p->i++;
	return p->i - b;
}

static void ps_end_tag(pscan_t *p, GumboTag t, uint32_t h)
{
	int k = ps_find(p, t, h, GUMBO_TAG_LAST, false);

	if (k >= 0) {
		ps_pop_to(p, k);
		return;
	}
	if (!tag_fmt(t))
		return;
	for (k = p->noff - 1; k >= 0; k--)
		if (p->off[k] == t) {
			memmove(p->off + k, p->off + k + 1, (size_t)(p->noff - k - 1) * sizeof(*p->off));
			memmove(p->offh + k, p->offh + k + 1, (size_t)(p->noff - k - 1) * sizeof(*p->offh));
			p->noff--;
			return;
		}
}

static void ps_start_tag(pscan_t *p, GumboTag t, uint32_t h, uint32_t ah, bool selfclose)
{
	char close[16];
	bool foreign = p->cnt[GUMBO_TAG_SVG] || p->cnt[GUMBO_TAG_MATH];

	ps_implied(p, t);
	if (tag_void(t) || (selfclose && foreign))
		return;
	if (t == GUMBO_TAG_PLAINTEXT) {
		p->i = p->n;
		return;
	}
	ps_push(p, t, h, ah);
	if (tag_rawtext(t) && !foreign) {
		snprintf(close, sizeof(close), "</%s", gumbo_normalized_tagname(t));
		ps_skip_past(p, close);
		ps_pop(p, false);
	}
}

static void ps_tag(pscan_t *p)
{
	const char *s = p->s;
	bool end = false, selfclose;
	uint32_t ah;
	size_t b, len;
	GumboTag t;

	p->i++;  /* '<' */
	if (p->i < p->n && s[p->i] == '!') {
		ps_skip_past(p, p->n - p->i >= 3 && s[p->i + 1] == '-' && s[p->i + 2] == '-' ? "-->" : ">");
		return;
	}
	if (p->i < p->n && s[p->i] == '/')
		end = true, p->i++;
	if (p->i >= p->n || !is_alpha(s[p->i])) {
		if (end || (p->i < p->n && s[p->i] == '?'))
			ps_skip_past(p, ">");
		return;
	}
	b = p->i;
	len = ps_name(p);
	t = gumbo_tagn_enum(s + b, (unsigned)(len > HTML_TAG_NAME_MAX ? HTML_TAG_NAME_MAX : len));
	selfclose = ps_skip_attrs(p, &ah);
	if (end)
		ps_end_tag(p, t, name_hash(s + b, len));
	else
		ps_start_tag(p, t, name_hash(s + b, len), ah, selfclose);
}

int html_scan_too_deep(const char *s, size_t n, int depth_max)
{
	pscan_t p;
	size_t m = (size_t)depth_max + 2;
	const char *lt;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.s = s, p.n = n, p.max = depth_max;
	p.st = calloc(m, sizeof(*p.st));
	p.off = calloc(m, sizeof(*p.off));
	p.hash = calloc(m, sizeof(*p.hash));
	p.offh = calloc(m, sizeof(*p.offh));
	p.attrh = calloc(m, sizeof(*p.attrh));
	p.saved = calloc(m, sizeof(*p.saved));
	if (!p.st || !p.off || !p.hash || !p.offh || !p.attrh || !p.saved)
		goto out;
	while (p.i < p.n && !p.deep) {
		lt = memchr(s + p.i, '<', p.n - p.i);
		if (!lt)
			break;
		p.i = (size_t)(lt - s);
		ps_tag(&p);
	}
	rc = p.deep ? 1 : 0;
out:
	free(p.st);
	free(p.off);
	free(p.hash);
	free(p.offh);
	free(p.attrh);
	free(p.saved);
	return rc;
}
