/*
 * html_int.h — what the files of the HTML converter share (html.c and its
 * html_*.c parts); not for use outside src/text/html*.c.
 *
 *   html.c          entry point, tree walk, element rendering (lists, forms)
 *   html_pool.c     tracked allocator and memory cap for gumbo
 *   html_scan.c     linear pre-scan that bounds the nesting gumbo would build
 *   html_hw.c       text writer: line breaks, prefixes, whitespace, links
 *   html_css.c      which elements are hidden or never drawn (CSS, SVG, MathML)
 *   html_visible.c  visible-character estimate without a parser
 *
 * SECURITY: all of it runs in the sanitizer worker on hostile HTML; see the
 * SECURITY line of each file.
 */
#ifndef MUGAI_HTML_INT_H
#define MUGAI_HTML_INT_H

#include <gumbo.h>
#include <setjmp.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/limits.h"
#include "text/html.h"

/* ---- html_pool.c ---- */

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

void html_pool_init(pool_t *p, size_t max);
void html_pool_release(pool_t *p);
/* Parse with gumbo from the pool; NULL when the memory cap was hit. */
GumboOutput *html_pool_parse(pool_t *p, const char *s, size_t n);
/* The pool's memory cap for an input of len bytes. */
size_t html_pool_limit(size_t len);

/* ---- html_scan.c ---- */

/* 1 when the nesting gumbo would build from s is deeper than depth_max, 0
 * when not, -1 on an allocation failure. */
int html_scan_too_deep(const char *s, size_t n, int depth_max);

/* ---- html_hw.c: the text writer ---- */

typedef struct hw {
	buf_t w;                 /* the text, capped at the expansion limit */
	buf_t tmp;               /* scratch: rewritten text, link output */
	buf_t label;             /* link label being collected */
	link_style_t style;
	bool links_by_writer;    /* html_opts_t: bare URLs are the writer's */
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

void html_hw_init(hw_t *h, const html_opts_t *o, size_t lim, html_result_t *r);
void html_hw_free(hw_t *h);
/* Owe n line breaks (1: new line, 2: blank line) before the next content. */
void html_hw_break(hw_t *h, int n);
void html_hw_br(hw_t *h);
void html_hw_quote(hw_t *h, int delta);
int html_hw_put(hw_t *h, const char *s, size_t n) MUGAI_WUR;
int html_hw_label(hw_t *h, const char *s, size_t n) MUGAI_WUR;
/* Text of the document: bare URLs disarmed (link_rewrite_text). */
int html_hw_text(hw_t *h, const char *s, size_t n) MUGAI_WUR;
/* A link with its label, through link_emit. */
int html_hw_link(hw_t *h, const char *label, size_t ln, const char *href) MUGAI_WUR;
/* Open or close a "[…]" box; html_hw_boxed writes "[s]" (nothing if blank). */
int html_hw_box(hw_t *h, bool open) MUGAI_WUR;
int html_hw_boxed(hw_t *h, const char *s) MUGAI_WUR;
/* Move the text into out (with the final residual-link pass). */
int html_hw_finish(hw_t *h, buf_t *out, size_t lim) MUGAI_WUR;

/* ---- html_css.c ---- */

/* Is element n never shown (dropped tag, foreign element never drawn,
 * hidden attribute, CSS-hidden)? */
bool html_elem_skipped(const GumboNode *n);
/* Attribute value of element n, or NULL. */
const char *html_attr(const GumboNode *n, const char *name);
/* Is element n named `name` (lowercase)? Also for foreign elements. */
bool html_name_is(const GumboNode *n, const char *name);
const char *html_skip_ws(const char *s);

/* ---- shared one-liners ---- */

static inline bool tag_in(GumboTag t, const GumboTag *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == t)
			return true;
	return false;
}

static inline bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#endif
