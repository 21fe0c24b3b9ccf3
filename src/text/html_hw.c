/*
 * html_hw.c — the text writer of the HTML converter: owed line breaks,
 * quote prefixes, list markers, whitespace collapsing, link labels (see
 * html_int.h).
 *
 * Follows: CSS 2.1 / CSS Text 3 `white-space: normal` collapsing, including
 * the segment-break rule: a collapsed run that held a newline between two
 * wide (CJK) characters disappears, as hard-wrapped Japanese source needs;
 * <pre> keeps its spacing. NBSP collapses like a space; C0/C1 controls and
 * bidi overrides are dropped (the writer's one code-point rule). Text goes
 * through link_rewrite_text, links through link_emit; html_hw_finish makes
 * one more link_rewrite_text pass over the whole result, so a URL split
 * across elements (<b>http:</b>//evil) cannot become clickable.
 *
 * SECURITY: runs in the sanitizer worker on hostile HTML; every buffer is
 * capped at the expansion limit (html_expansion_max x input + HTML_SLACK).
 */
#include "text/html_int.h"

#include <string.h>

#include "common/utf8.h"
#include "text/writer.h"

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

void html_hw_break(hw_t *h, int n)
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

void html_hw_br(hw_t *h)
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

void html_hw_quote(hw_t *h, int delta)
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
		html_hw_br(h);
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
int html_hw_put(hw_t *h, const char *s, size_t n)
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
int html_hw_label(hw_t *h, const char *s, size_t n)
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
int html_hw_text(hw_t *h, const char *s, size_t n)
{
	if (h->in_label)
		return html_hw_label(h, s, n);
	if (h->links_by_writer)
		return html_hw_put(h, s, n);
	buf_reset(&h->tmp);
	if (link_rewrite_text(s, n, h->style, &h->tmp, &h->r->links) < 0)
		return -1;
	return html_hw_put(h, h->tmp.data, h->tmp.len);
}

int html_hw_link(hw_t *h, const char *label, size_t ln, const char *href)
{
	buf_reset(&h->tmp);
	if (link_emit(&h->tmp, label, ln, href, strlen(href), h->style, &h->r->links) < 0)
		return -1;
	return html_hw_put(h, h->tmp.data, h->tmp.len);
}

/* Open or close a "[…]" box (image alt, form field, selected option). */
int html_hw_box(hw_t *h, bool open)
{
	if (h->in_label)
		return html_hw_label(h, open ? "[" : "]", 1);
	if (!open)
		h->sp = false;
	if (html_hw_put(h, open ? "[" : "]", 1) < 0)
		return -1;
	h->nosp = open;
	return 0;
}

/* s shown as "[s]"; nothing when s is blank. */
int html_hw_boxed(hw_t *h, const char *s)
{
	if (!s || *html_skip_ws(s) == '\0')
		return 0;
	s = html_skip_ws(s);
	if (html_hw_box(h, true) < 0 || html_hw_text(h, s, strlen(s)) < 0)
		return -1;
	return html_hw_box(h, false);
}

void html_hw_init(hw_t *h, const html_opts_t *o, size_t lim, html_result_t *r)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->w, lim);
	buf_init(&h->tmp, lim);
	buf_init(&h->label, lim);
	h->style = o->link_style;
	h->links_by_writer = o->links_by_writer;
	h->r = r;
	h->at_bol = true;
}

void html_hw_free(hw_t *h)
{
	buf_free(&h->w);
	buf_free(&h->tmp);
	buf_free(&h->label);
}

/* Move the text into out (with the final residual-link pass). */
int html_hw_finish(hw_t *h, buf_t *out, size_t lim)
{
	size_t start = out->len;
	int rc;

	if (h->style == LINK_PLAIN || h->links_by_writer)
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
