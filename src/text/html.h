/*
 * html.h — HTML to readable plain text, through gumbo (HTML5 parsing).
 *
 * Paragraphs and <br> become line breaks; lists get bullets ("・") or
 * numbers ("1. "); tables become one row per line with cells separated by
 * " | "; headings stand on their own lines; blockquote lines are prefixed
 * with "> "; <pre> keeps its spacing; entities are decoded by the parser;
 * script, style, head, template, comments and hidden elements (hidden
 * attribute, display:none) are dropped; links go through link_emit() and
 * bare URLs in text through link_rewrite_text().
 *
 * Decisions (details in html.c): every word a mail client shows is kept:
 * noscript content (mail clients run no scripts), object/applet/video/
 * audio/canvas fallback content, SVG <text>/<tspan> (no other SVG text),
 * MathML text (no annotations), <input> values (else placeholders) of the
 * types that show text, "[…]"-boxed; the selected option of a drop-down
 * (or the first; every option of a list box), textarea, button, details/
 * summary, aria-hidden content. Dropped: script, style, head, template,
 * iframe, noembed, noframes, embed, datalist, comments, SVG script/style/
 * title/desc/defs, and CSS-hidden elements (hidden attribute, inline
 * display:none, visibility:hidden|collapse, mso-hide:all; SVG display/
 * visibility attributes). Table cells are joined
 * with " | " while they stay on one line; empty cells and rows vanish.
 * Raw C0 bytes reach us from gumbo as U+FFFD and are shown as such.
 *
 * Gumbo 0.10.1 has no max_tree_depth: depth_max is enforced by a linear
 * pre-scan before gumbo runs and by the (iterative) tree walk after it.
 *
 * SECURITY: runs in the sanitizer worker on hostile HTML; gumbo's tree depth
 * is capped (depth_max) and so is the output (expansion_max × input).
 */
#ifndef MUGAI_HTML_H
#define MUGAI_HTML_H

#include <stdbool.h>
#include "text/link.h"

typedef struct html_opts {
	link_style_t link_style;
	int depth_max;         /* limit html_depth_max */
	size_t expansion_max;  /* limit html_expansion_max: out ≤ ratio × in + 4096 */
	/* The caller sends the whole result through the text writer's
	 * wr_text (mail/walk.c does): then the writer's one link pass, made
	 * after its cleaning, finds the bare URLs, and html_to_text writes
	 * only the links of <a href> (link_emit). Otherwise (false) bare URLs
	 * are rewritten here, node by node and once more over the result. */
	bool links_by_writer;
} html_opts_t;

typedef struct html_result {
	link_counts_t links;
	size_t images;            /* <img> elements left out */
	size_t replaced;          /* U+FFFD the parser added (raw controls, NUL,
				   * &#0;): shown ones beyond those in the input */
	bool depth_exceeded;      /* limit hit: the caller quarantines */
	bool expansion_exceeded;  /* limit hit: the caller quarantines */
} html_result_t;

/* Convert len bytes of UTF-8 HTML into text with '\n' line ends appended to
 * out. Returns -1 on an out cap, memory or parser failure; a limit hit
 * returns 0 with the flag set. */
int html_to_text(const char *html, size_t len, const html_opts_t *o, buf_t *out,
		 html_result_t *r) MUGAI_WUR;

/* Visible characters of the document's words, estimated in one linear pass
 * without a parser (for the multipart/alternative stub rule): non-space code
 * points outside tags, comments and script/style/head/title/template/
 * iframe/noembed/noframes/xmp content; an entity counts as one, &nbsp; as
 * space; alt/value/placeholder attribute values are not counted. */
size_t html_text_chars(const char *html, size_t len);

#endif
