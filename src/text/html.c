/*
 * html.c — HTML to readable plain text through gumbo (see html.h).
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
 * 4096, also caps every scratch buffer), a parser memory cap, gumbo
 * max_errors. No recursion; no files.
 */
#include "text/html.h"

#include <gumbo.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "text/writer.h"
#include "common/limits.h"

/* ==== tracked allocator for gumbo ===================================== */

typedef union pool_hdr {
	struct {
		union pool_hdr *prev, *next;
		size_t size;
	} h;
	max_align_t align;
} pool_hdr_t;

typedef struct pool {
	pool_hdr_t head;
	size_t used, max;
	bool armed;
	jmp_buf jb;
} pool_t;

static void *pool_alloc(void *ud, size_t size)
{
	pool_t *p = ud;
	pool_hdr_t *h = NULL;
	size_t total;

	if (size_add(size, sizeof(*h), &total) == 0 && p->used <= p->max &&
	    total <= p->max - p->used)
		h = malloc(total);
	if (!h) {
		if (p->armed)
			longjmp(p->jb, 1);
		abort();  /* unreachable: only gumbo allocates, always armed */
	}
	h->h.size = total;
	h->h.prev = &p->head;
	h->h.next = p->head.h.next;
	p->head.h.next->h.prev = h;
	p->head.h.next = h;
	p->used += total;
	return h + 1;
}

static void pool_free(void *ud, void *ptr)
{
	pool_t *p = ud;
	pool_hdr_t *h;

	if (!ptr)
		return;
	h = (pool_hdr_t *)ptr - 1;
	h->h.prev->h.next = h->h.next;
	h->h.next->h.prev = h->h.prev;
	p->used -= h->h.size;
	free(h);
}

static void pool_init(pool_t *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->head.h.prev = p->head.h.next = &p->head;
	p->max = max;
}

static void pool_release(pool_t *p)
{
	while (p->head.h.next != &p->head)
		pool_free(p, p->head.h.next + 1);
}

/* setjmp lives here so no local of html_to_text is live across longjmp. */
static GumboOutput *pool_parse(pool_t *p, const char *s, size_t n)
{
	GumboOptions opt = kGumboDefaultOptions;

	opt.allocator = pool_alloc;
	opt.deallocator = pool_free;
	opt.userdata = p;
	opt.max_errors = HTML_ERRORS_MAX;
	if (setjmp(p->jb)) {
		p->armed = false;
		return NULL;
	}
	p->armed = true;
	GumboOutput *o = gumbo_parse_with_options(&opt, s, n);
	p->armed = false;
	return o;
}

/* ==== pre-scan: bound the nesting gumbo would build ==================== */

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

static bool tag_in(GumboTag t, const GumboTag *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == t)
			return true;
	return false;
}

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

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
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

static int scan_too_deep(const char *s, size_t n, int depth_max)
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

/* ==== text writer: line breaks, prefixes, whitespace collapsing ======== */

typedef struct hw {
	buf_t w;                 /* the text, capped at the expansion limit */
	buf_t tmp;               /* scratch: rewritten text, link output */
	buf_t label;             /* link label being collected */
	link_style_t style;
	html_result_t *r;
	int pend_nl;             /* newlines owed before the next content */
	int bq_min;              /* shallowest quote depth while they were owed */
	bool started, at_bol;
	bool sp, sp_seg;         /* collapsible space owed; it held a newline */
	bool last_wide;
	bool sep;                /* " | " owed (next table cell) */
	bool in_label, lsp;      /* collecting a label; label space owed */
	int qdepth, lists, pre;
	size_t pre_sp;
	bool mark;               /* list marker owed on the next line */
	bool nosp;               /* just opened a "[": no space after it */
	char markbuf[32];
} hw_t;

static bool cp_wide(uint32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
	       (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	       (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

/* Characters never written: C0 (tab and newlines are handled before) and
 * the writer's one code-point rule (controls, bidi, invisible). */
static bool cp_drop(uint32_t cp)
{
	return cp < 0x20 || wr_cp_removed(cp);
}

static bool cp_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' ||
	       cp == 0xA0;
}

static int hw_prefix(hw_t *h)
{
	int i;

	for (i = 0; i < h->qdepth; i++)
		if (buf_append(&h->w, "> ", 2) < 0)
			return -1;
	if (h->lists <= 0)
		return 0;
	for (i = 0; i < 2 * (h->lists - (h->mark ? 1 : 0)); i++)
		if (buf_putc(&h->w, ' ') < 0)
			return -1;
	if (h->mark && buf_puts(&h->w, h->markbuf) < 0)
		return -1;
	h->mark = false;
	return 0;
}

static int hw_newlines(hw_t *h)
{
	int k, d;

	for (k = 0; k < h->pend_nl; k++) {
		if (buf_putc(&h->w, '\n') < 0)
			return -1;
		if (k + 1 == h->pend_nl)
			break;
		for (d = 0; d < h->bq_min; d++)
			if (buf_append(&h->w, d ? " >" : ">", d ? 2 : 1) < 0)
				return -1;
	}
	h->pend_nl = 0;
	h->at_bol = true;
	return 0;
}

/* Before content: owed newlines, line prefix, separator or space. */
static int hw_flush(hw_t *h, uint32_t cp)
{
	bool wide = cp_wide(cp);

	if (h->started && h->pend_nl && hw_newlines(h) < 0)
		return -1;
	if (h->at_bol) {
		h->at_bol = h->sp = h->sep = false;
		if (hw_prefix(h) < 0)
			return -1;
	} else if (h->sep) {
		if (buf_append(&h->w, " | ", 3) < 0)
			return -1;
	} else if (h->sp && !(h->sp_seg && h->last_wide && wide)) {
		if (buf_putc(&h->w, ' ') < 0)
			return -1;
	}
	h->sp = h->sp_seg = h->sep = h->nosp = false;
	h->started = true;
	h->last_wide = wide;
	return 0;
}

static void hw_break(hw_t *h, int n)
{
	if (h->in_label) {
		h->lsp = true;
		return;
	}
	h->sp = h->sep = false;
	if (!h->started)
		return;
	if (h->pend_nl == 0)
		h->bq_min = h->qdepth;
	if (h->pend_nl < n)
		h->pend_nl = n;
}

static void hw_br(hw_t *h)
{
	if (h->in_label) {
		h->lsp = true;
		return;
	}
	if (h->pend_nl == 0)
		h->bq_min = h->qdepth;
	if (h->started && h->pend_nl < 2)
		h->pend_nl++;
	h->sp = h->sep = false;
}

static void hw_quote(hw_t *h, int delta)
{
	h->qdepth += delta;
	if (h->pend_nl && h->bq_min > h->qdepth)
		h->bq_min = h->qdepth;
}

/* One decoded character in normal (collapsing) mode. */
static int hw_char(hw_t *h, uint32_t cp, const char *bytes, size_t n)
{
	if (cp_space(cp)) {
		if (!h->nosp) {
			h->sp = true;
			h->sp_seg |= cp == '\n';
		}
		return 0;
	}
	if (cp_drop(cp))
		return 0;
	if (hw_flush(h, cp) < 0)
		return -1;
	return buf_append(&h->w, bytes, n);
}

/* One character in preformatted mode: spaces kept (but never at a line
 * end), newlines kept (at most one blank line). */
static int hw_pre_char(hw_t *h, uint32_t cp, const char *bytes, size_t n)
{
	if (cp == '\n' || cp == '\r' || cp == '\f') {
		h->pre_sp = 0;
		hw_br(h);
		return 0;
	}
	if (cp == ' ' || cp == '\t' || cp == 0xA0) {
		h->pre_sp++;
		return 0;
	}
	if (cp_drop(cp))
		return 0;
	if (hw_flush(h, cp) < 0)
		return -1;
	for (; h->pre_sp; h->pre_sp--)
		if (buf_putc(&h->w, ' ') < 0)
			return -1;
	return buf_append(&h->w, bytes, n);
}

/* Write already-rewritten text in the current mode. */
static int hw_put(hw_t *h, const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;
	int rc;

	while (i < n) {
		k = utf8_decode_one((const unsigned char *)s + i, n - i, &cp);
		if (cp == UTF8_INVALID)
			rc = h->pre ? hw_pre_char(h, 0xFFFD, "\xEF\xBF\xBD", 3)
				    : hw_char(h, 0xFFFD, "\xEF\xBF\xBD", 3);
		else
			rc = h->pre ? hw_pre_char(h, cp, s + i, k) : hw_char(h, cp, s + i, k);
		if (rc < 0)
			return -1;
		i += k;
	}
	return 0;
}

/* Append text to the label: whitespace collapsed, controls dropped. */
static int hw_label(hw_t *h, const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = utf8_decode_one((const unsigned char *)s + i, n - i, &cp);
		if (cp_space(cp)) {
			h->lsp = true;
		} else if (cp != UTF8_INVALID && cp_drop(cp)) {
			;
		} else {
			if (h->lsp && h->label.len && buf_putc(&h->label, ' ') < 0)
				return -1;
			h->lsp = false;
			if (cp == UTF8_INVALID ? buf_put_utf8(&h->label, 0xFFFD) < 0
					       : buf_append(&h->label, s + i, k) < 0)
				return -1;
		}
		i += k;
	}
	return 0;
}

/* Text from the document: bare URLs rewritten, then written. */
static int hw_text(hw_t *h, const char *s, size_t n)
{
	if (h->in_label)
		return hw_label(h, s, n);
	buf_reset(&h->tmp);
	if (link_rewrite_text(s, n, h->style, &h->tmp, &h->r->links) < 0)
		return -1;
	return hw_put(h, h->tmp.data, h->tmp.len);
}

static int hw_link(hw_t *h, const char *label, size_t ln, const char *href)
{
	buf_reset(&h->tmp);
	if (link_emit(&h->tmp, label, ln, href, strlen(href), h->style, &h->r->links) < 0)
		return -1;
	return hw_put(h, h->tmp.data, h->tmp.len);
}

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

/* ASCII case-insensitive: does s start with the lowercase word w? */
static bool starts_ci(const char *s, const char *w)
{
	return strncasecmp(s, w, strlen(w)) == 0;
}

static const char *skip_ws(const char *s)
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

	d = skip_ws(d);
	for (i = 0; i < MUGAI_ARRAY_LEN(rules); i++) {
		n = strlen(rules[i][0]);
		if (strncasecmp(d, rules[i][0], n) != 0)
			continue;
		v = skip_ws(d + n);
		if (*v == ':' && starts_ci(skip_ws(v + 1), rules[i][1]))
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

static const char *attr(const GumboNode *n, const char *name);

/* Is element n named `name` (lowercase)? Works for foreign elements that
 * gumbo has no tag for (SVG <text>, <tspan>). */
static bool name_is(const GumboNode *n, const char *name)
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
	const char *d = attr(n, "display"), *v = attr(n, "visibility");
	size_t i;

	if ((d && starts_ci(skip_ws(d), "none")) ||
	    (v && (starts_ci(skip_ws(v), "hidden") || starts_ci(skip_ws(v), "collapse"))))
		return true;
	for (i = 0; i < MUGAI_ARRAY_LEN(names); i++)
		if (name_is(n, names[i]))
			return true;
	return false;
}

static bool elem_skipped(const GumboNode *n)
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

static const char *attr(const GumboNode *n, const char *name)
{
	const GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, name);

	return a ? a->value : NULL;
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
	const char *s = attr(n, name);
	long x = 0;
	bool neg;

	if (!s)
		return false;
	s = skip_ws(s);
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
	f->step = attr(f->node, "reversed") ? -1 : 1;
	if (!attr_long(f->node, "start", &f->num)) {
		for (i = 0; i < k->length; i++)
			items += ((GumboNode *)k->data[i])->type == GUMBO_NODE_ELEMENT &&
				 ((GumboNode *)k->data[i])->v.element.tag == GUMBO_TAG_LI;
		f->num = f->step < 0 ? items : 1;
	}
	w->cur_list = w->top;
	hw_break(w->h, 1);
	w->h->lists++;
}

static void li_enter(walk_t *w, frame_t *f)
{
	hw_t *h = w->h;
	frame_t *l = w->cur_list >= 0 ? &w->fs[w->cur_list] : NULL;

	f->kind = F_LI;
	hw_break(h, 1);
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

/* Open or close a "[…]" box (image alt, form field, selected option). */
static int hw_box(hw_t *h, bool open)
{
	if (h->in_label)
		return hw_label(h, open ? "[" : "]", 1);
	if (!open)
		h->sp = false;
	if (hw_put(h, open ? "[" : "]", 1) < 0)
		return -1;
	h->nosp = open;
	return 0;
}

/* s shown as "[s]"; nothing when s is blank. */
static int hw_boxed(hw_t *h, const char *s)
{
	if (!s || *skip_ws(s) == '\0')
		return 0;
	s = skip_ws(s);
	if (hw_box(h, true) < 0 || hw_text(h, s, strlen(s)) < 0)
		return -1;
	return hw_box(h, false);
}

static int img_enter(hw_t *h, const GumboNode *n)
{
	h->r->images++;
	return hw_boxed(h, attr(n, "alt"));
}

/* <input>: the value (else the placeholder) of every type that shows
 * text; the alt of type=image. */
static int input_elem(hw_t *h, const GumboNode *n)
{
	static const char *const silent[] = {
		"hidden", "password", "checkbox", "radio", "file", "range", "color",
	};
	const char *type = attr(n, "type"), *v;
	size_t i;

	if (type) {
		type = skip_ws(type);
		if (strcasecmp(type, "image") == 0)
			return img_enter(h, n);
		for (i = 0; i < MUGAI_ARRAY_LEN(silent); i++)
			if (strcasecmp(type, silent[i]) == 0)
				return 0;
	}
	v = attr(n, "value");
	if (!v || *skip_ws(v) == '\0')
		v = attr(n, "placeholder");
	return hw_boxed(h, v);
}

/* Void and leaf elements: handled here, never pushed. */
static int void_elem(hw_t *h, const GumboNode *n)
{
	const char *href, *alt;

	switch (n->v.element.tag) {
	case GUMBO_TAG_BR:
		hw_br(h);
		return 0;
	case GUMBO_TAG_HR:
		hw_break(h, 1);
		if (!h->in_label && hw_put(h, "----------", 10) < 0)
			return -1;
		hw_break(h, 1);
		return 0;
	case GUMBO_TAG_IMG: case GUMBO_TAG_IMAGE:
		return img_enter(h, n);
	case GUMBO_TAG_INPUT:
		return input_elem(h, n);
	case GUMBO_TAG_AREA:
		href = attr(n, "href");
		alt = attr(n, "alt");
		if (!href || h->in_label)
			return 0;
		return hw_link(h, alt ? alt : "", alt ? strlen(alt) : 0, href);
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
	if (attr(n, "multiple") || (attr_long(n, "size", &size) && size > 1)) {
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
			if (attr(c, "selected"))
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
		if (name_is(f->node, "text")) {
			f->kind = F_SVGTEXT;
			w->svg_text++;
			hw_break(h, 1);
		}
		if (t != GUMBO_TAG_A)
			return 0;
	}
	if (t == GUMBO_TAG_SELECT) {
		select_enter(w, f);
	} else if (t == GUMBO_TAG_OPTION) {
		f->kind = F_OPTION;
		if (w->sel_mode == SEL_ALL)
			hw_break(h, 1);
		return hw_box(h, true);
	} else if (t == GUMBO_TAG_UL || t == GUMBO_TAG_OL) {
		list_enter(w, f);
	} else if (t == GUMBO_TAG_LI) {
		li_enter(w, f);
	} else if (t == GUMBO_TAG_BLOCKQUOTE) {
		f->kind = F_QUOTE;
		hw_break(h, 2);
		hw_quote(h, 1);
	} else if (tag_pre(t)) {
		f->kind = F_PRE;
		hw_break(h, 2);
		h->pre++;
	} else if (tag_block2(t) || tag_block1(t)) {
		f->kind = tag_block2(t) ? F_BLOCK2 : F_BLOCK1;
		hw_break(h, tag_block2(t) ? 2 : 1);
	} else if ((t == GUMBO_TAG_TD || t == GUMBO_TAG_TH) && !h->in_label) {
		h->sep = h->started && !h->at_bol && h->pend_nl == 0;
	} else if (t == GUMBO_TAG_A && attr(f->node, "href") && !h->in_label) {
		f->kind = F_LINK;
		h->in_label = true;
		h->lsp = false;
		buf_reset(&h->label);
	} else if (t == GUMBO_TAG_RT) {
		f->kind = F_RT;
		return h->in_label ? hw_label(h, "(", 1) : hw_put(h, "(", 1);
	}
	return 0;
}

static int elem_exit(walk_t *w, frame_t *f)
{
	hw_t *h = w->h;

	switch (f->kind) {
	case F_BLOCK1: hw_break(h, 1); break;
	case F_BLOCK2: hw_break(h, 2); break;
	case F_LIST:
		hw_break(h, 1);
		h->lists--;
		w->cur_list = f->list;
		break;
	case F_LI:
		hw_break(h, 1);
		h->mark = false;
		break;
	case F_QUOTE:
		hw_break(h, 2);
		hw_quote(h, -1);
		break;
	case F_PRE:
		h->pre--;
		h->pre_sp = 0;
		hw_break(h, 2);
		break;
	case F_LINK:
		h->in_label = false;
		return hw_link(h, h->label.data ? h->label.data : "", h->label.len,
			       attr(f->node, "href"));
	case F_RT:
		return h->in_label ? hw_label(h, ")", 1) : hw_put(h, ")", 1);
	case F_SVGTEXT:
		w->svg_text--;
		hw_break(h, 1);
		break;
	case F_SELECT:
		w->sel_mode = SEL_NONE;
		w->sel_opt = NULL;
		break;
	case F_OPTION:
		if (hw_box(h, false) < 0)
			return -1;
		if (w->sel_mode == SEL_ALL)
			hw_break(h, 1);
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
		return hw_text(w->h, c->v.text.text, strlen(c->v.text.text));
	if (elem_skipped(c))
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

/* ==== visible-character estimate (no parser) =========================== */

/* Skip past "</name" (ASCII case-insensitive) or to the end. */
static size_t skip_raw(const char *s, size_t n, size_t i, const char *name)
{
	size_t m = strlen(name);

	for (; i < n; i++)
		if (s[i] == '<' && n - i > m + 1 && s[i + 1] == '/' &&
		    strncasecmp(s + i + 2, name, m) == 0)
			return i;
	return n;
}

/* At s[i] == '<': the index just past the markup, and *raw the element
 * whose content is not shown (or NULL). */
static size_t skip_markup(const char *s, size_t n, size_t i, const char **raw)
{
	static const char *const hidden[] = {
		"script", "style", "head", "title", "template", "iframe", "noembed",
		"noframes", "xmp",
	};
	const char *gt, *end;
	size_t k, m;

	*raw = NULL;
	if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
		end = memmem(s + i + 4, n - i - 4, "-->", 3);
		return end ? (size_t)(end - s) + 3 : n;
	}
	gt = memchr(s + i, '>', n - i);
	k = gt ? (size_t)(gt - s) + 1 : n;
	for (m = 0; m < MUGAI_ARRAY_LEN(hidden); m++) {
		size_t l = strlen(hidden[m]);

		if (n - i > l + 1 && strncasecmp(s + i + 1, hidden[m], l) == 0 &&
		    (i + 1 + l >= n || !is_alpha(s[i + 1 + l])))
			*raw = hidden[m];
	}
	return k;
}

size_t html_text_chars(const char *s, size_t n)
{
	size_t i = 0, v = 0;
	const char *raw;
	unsigned char b;

	while (i < n) {
		b = (unsigned char)s[i];
		if (b == '<' && i + 1 < n && (is_alpha(s[i + 1]) || s[i + 1] == '/' ||
					      s[i + 1] == '!' || s[i + 1] == '?')) {
			i = skip_markup(s, n, i, &raw);
			if (raw)
				i = skip_raw(s, n, i, raw);
			continue;
		}
		if (b == '&' && n - i >= 6 && strncasecmp(s + i, "&nbsp;", 6) == 0) {
			i += 6;
			continue;
		}
		if (b == '&') {
			size_t k = i + 1;

			while (k < n && k - i < HTML_ENTITY_LEN && (is_alpha(s[k]) || (s[k] >= '0' && s[k] <= '9') ||
						       s[k] == '#'))
				k++;
			v++;
			i = (k < n && s[k] == ';') ? k + 1 : i + 1;
			continue;
		}
		if (b == 0xE3 && n - i >= 3 && (unsigned char)s[i + 1] == 0x80 &&
		    (unsigned char)s[i + 2] == 0x80) {
			i += 3;  /* U+3000 */
			continue;
		}
		if (b == 0xC2 && n - i >= 2 && (unsigned char)s[i + 1] == 0xA0) {
			i += 2;  /* U+00A0 */
			continue;
		}
		v += (b & 0xC0) != 0x80 && b != ' ' && (b < '\t' || b > '\r');
		i++;
	}
	return v;
}

/* ==== entry point ======================================================= */

static size_t out_limit(size_t len, size_t ratio)
{
	size_t lim;

	if (size_mul(len, ratio ? ratio : 1, &lim) < 0 || size_add(lim, HTML_SLACK, &lim) < 0)
		return SIZE_MAX / 2;
	return lim;
}

static size_t pool_limit(size_t len)
{
	size_t lim;

	if (size_mul(len, 96, &lim) < 0 || size_add(lim, 64u << 20, &lim) < 0)
		return SIZE_MAX / 2;
	return lim;
}

static void hw_init(hw_t *h, const html_opts_t *o, size_t lim, html_result_t *r)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->w, lim);
	buf_init(&h->tmp, lim);
	buf_init(&h->label, lim);
	h->style = o->link_style;
	h->r = r;
	h->at_bol = true;
}

static void hw_free(hw_t *h)
{
	buf_free(&h->w);
	buf_free(&h->tmp);
	buf_free(&h->label);
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

/* Move the text into out (with the final residual-link pass). */
static int finish(hw_t *h, buf_t *out, size_t lim)
{
	size_t start = out->len;
	int rc;

	if (h->style == LINK_PLAIN)
		rc = buf_append(out, h->w.data ? h->w.data : "", h->w.len);
	else
		rc = link_rewrite_text(h->w.data ? h->w.data : "", h->w.len, h->style, out,
				       &h->r->links);
	if (rc == 0 && out->len - start > lim) {
		h->r->expansion_exceeded = true;
	}
	if (rc < 0 || h->r->expansion_exceeded) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
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
	pool_init(&pool, pool_limit(len));
	hw_init(&h, o, lim, r);
	if (len > UINT32_MAX / 2 || o->depth_max < 1)
		goto out;
	deep = scan_too_deep(html, len, o->depth_max);
	if (deep != 0) {
		r->depth_exceeded = deep > 0;
		rc = deep > 0 ? 0 : -1;
		goto out;
	}
	g = pool_parse(&pool, html, len);
	if (!g || convert(&h, g, o->depth_max) < 0)
		goto out;
	rc = 0;
	if (!r->depth_exceeded && !r->expansion_exceeded)
		rc = finish(&h, out, lim);
	if (rc == 0 && !r->depth_exceeded && !r->expansion_exceeded) {
		size_t in = count_fffd(html, len), shown = count_fffd(h.w.data, h.w.len);

		r->replaced = shown > in ? shown - in : 0;
	}
out:
	pool_release(&pool);
	hw_free(&h);
	return rc;
}
