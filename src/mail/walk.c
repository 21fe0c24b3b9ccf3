/*
 * walk.c — walk the parsed MIME tree and turn it into text: text/plain and
 * text/html become text, message/rfc822 becomes a quoted forwarded message,
 * everything else is removed and recorded in the report.
 * RFC 2045–2049 (MIME), RFC 2046 §5.1.4 (alternative), RFC 2387 (related),
 * RFC 1847 (signed/encrypted), RFC 3464 (delivery-status).
 *
 * SECURITY: sanitizer worker. Depth is bounded by mime_depth_max (checked by
 * the caller's count pass), decoded bytes by decoded_size_max, text by
 * text_size_max; HTML limits by html.c.
 */
#include "mail/mail_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cdr/cdr.h"
#include "text/encblock.h"
#include "text/hdr.h"
#include "text/html.h"

/* Decode a part's transfer encoding into a byte array (caller unrefs). */
GByteArray *mail_part_decode(mail_ctx_t *c, GMimePart *p)
{
	GMimeDataWrapper *w = g_mime_part_get_content(p);
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *ba;

	if (w)
		g_mime_data_wrapper_write_to_stream(w, mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE); /* the array is ours now */
	g_object_unref(mem);
	c->decoded_total += ba->len;
	if (c->decoded_total > (size_t)lim(c->lim, LIM_DECODED_SIZE)) {
		report_limit(c->rep, limit_table[LIM_DECODED_SIZE].name);
		c->quarantine = true;
	}
	return ba;
}

/* Decoded size without keeping the bytes. */
static size_t part_size(GMimePart *p)
{
	GMimeDataWrapper *w = g_mime_part_get_content(p);
	GMimeStream *null = g_mime_stream_null_new();
	size_t n = 0;

	if (w && g_mime_data_wrapper_write_to_stream(w, null) >= 0)
		n = (size_t)GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);
	return n;
}

/* Did the base64 text contain bytes outside the alphabet? (RFC 2045 §6.8) */
static void check_base64(mail_ctx_t *c, GMimePart *p)
{
	static bool b64_ok[BYTE_VALUES];
	GMimeDataWrapper *w = g_mime_part_get_content(p);
	GMimeStream *s = w ? g_mime_data_wrapper_get_stream(w) : NULL;
	char chunk[SCAN_CHUNK];
	ssize_t n;

	if (!s || g_mime_part_get_content_encoding(p) != GMIME_CONTENT_ENCODING_BASE64)
		return;
	if (!b64_ok['A']) {
		for (int ch = 0; ch < BYTE_VALUES; ch++)
			b64_ok[ch] = g_ascii_isalnum(ch) || ch == '+' || ch == '/' || ch == '=' ||
				     g_ascii_isspace(ch);
	}
	g_mime_stream_reset(s);
	while ((n = g_mime_stream_read(s, chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (!b64_ok[(unsigned char)chunk[i]]) {
				report_warn(c->rep, "invalid base64 characters in a text part");
				g_mime_stream_reset(s);
				return;
			}
		}
	}
	g_mime_stream_reset(s);
}

static char *part_filename(mail_ctx_t *c, GMimeObject *o)
{
	const char *keys[][2] = { { "Content-Disposition", "filename" },
				  { "Content-Type", "name" } };
	buf_t b;

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(keys); i++) {
		const char *raw = hdr_raw(o, keys[i][0]);

		buf_init(&b, HDR_PARAM_MAX);
		if (raw && hdr_param(raw, strlen(raw), keys[i][1], &b, &c->cs) == 1 && b.len) {
			buf_t clean;

			buf_init(&clean, HDR_PARAM_MAX);
			if (wr_line(&clean, b.data, b.len, 0) < 0)
				buf_reset(&clean);
			buf_rtrim(&clean, " \t\n");
			buf_free(&b);
			return buf_steal(&clean, NULL);
		}
		buf_free(&b);
	}
	return NULL;
}

static removal_t classify(GMimeContentType *ct, const char *filename)
{
	const char *sub = g_mime_content_type_get_media_subtype(ct);

	if (g_mime_content_type_is_type(ct, "image", "*"))
		return RM_IMAGE;
	if (g_mime_content_type_is_type(ct, "text", "calendar") ||
	    g_mime_content_type_is_type(ct, "application", "ics"))
		return RM_CALENDAR;
	if (sub && (strstr(sub, "signature")))
		return RM_SIGNATURE;
	if (sub && (strstr(sub, "pkcs7-mime") || strstr(sub, "pgp-encrypted") ||
		    g_mime_content_type_is_type(ct, "multipart", "encrypted")))
		return RM_ENCRYPTED;
	if (sub && strstr(sub, "ms-tnef"))
		return RM_TNEF;
	if (cdr_name_dangerous(filename) ||
	    (sub && (strstr(sub, "msdownload") || strstr(sub, "executable") ||
		     strstr(sub, "javascript") || strstr(sub, "x-sh"))))
		return RM_EXECUTABLE;
	if (g_mime_content_type_is_type(ct, "message", "*"))
		return RM_UNSUPPORTED;
	return RM_ATTACHMENT;
}

static bool is_attachment(GMimeObject *o);
static GMimeObject *related_root(GMimeMultipart *mp);

static size_t object_size(GMimeObject *o)
{
	GMimeStream *null;
	size_t n = 0;

	if (GMIME_IS_PART(o))
		return part_size(GMIME_PART(o));
	null = g_mime_stream_null_new();
	if (g_mime_object_write_to_stream(o, NULL, null) >= 0)
		n = (size_t)GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);
	return n;
}

static int remove_part(mail_ctx_t *c, GMimeObject *o, int force)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	char *mime = g_mime_content_type_get_mime_type(ct);
	char *name = part_filename(c, o);
	removal_t why = force >= 0 ? (removal_t)force : classify(ct, name);
	int rc;

	for (char *p = mime; p && *p; p++)
		*p = g_ascii_tolower(*p);
	c->leaves_listed++;
	if (force < 0 && GMIME_IS_PART(o) && attach_wanted(c, o, why, name || is_attachment(o)))
		rc = attach_sanitize(c, GMIME_PART(o), name, mime);
	else
		rc = report_remove(c->rep, name, mime, object_size(o), why, NULL);
	g_free(mime);
	free(name);
	return rc;
}

/* List every leaf under o (an unchosen alternative, a skipped structure):
 * nothing vanishes unsaid. force < 0: classify each leaf. Depth is bounded
 * by the count pass (mime_depth_max). */
static int list_subtree(mail_ctx_t *c, GMimeObject *o, int force)
{
	if (GMIME_IS_MULTIPART(o)) {
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(o));

		for (int i = 0; i < n; i++)
			if (list_subtree(c, g_mime_multipart_get_part(GMIME_MULTIPART(o), i), force) < 0)
				return -1;
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		GMimeObject *body = m ? g_mime_message_get_mime_part(m) : NULL;

		if (body)
			return list_subtree(c, body, force);
	}
	return remove_part(c, o, force);
}

/* Separate a new block of text from what came before by a blank line. */
static int block_sep(buf_t *text)
{
	if (text->len == 0)
		return 0;
	if (buf_last(text) != '\n' && buf_putc(text, '\n') < 0)
		return -1;
	return buf_putc(text, '\n');
}

/* The longest prefix of s[0..n) that fits in room bytes, cut after a line
 * end when there is one, else at a UTF-8 character boundary. */
static size_t fitting_prefix(const char *s, size_t n, size_t room)
{
	size_t cut = n < room ? n : room;
	const char *nl = cut ? memrchr(s, '\n', cut) : NULL;

	if (nl)
		return (size_t)(nl - s) + 1;
	while (cut > 0 && cut < n && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	return cut;
}

/* Append text written by the writer (render_*) as far as text_size_max
 * allows; a cut is recorded as a limit. */
static int append_text(mail_ctx_t *c, buf_t *text, const char *s, size_t n)
{
	size_t keep;

	if (block_sep(text) == 0 && buf_append(text, s, n) == 0)
		return 0;
	if (!text->capped)
		return -1;
	report_limit(c->rep, limit_table[LIM_TEXT_SIZE].name);
	text->capped = false;
	keep = fitting_prefix(s, n, text->max > text->len ? text->max - text->len : 0);
	while (keep && buf_append(text, s, keep) < 0)
		keep = fitting_prefix(s, keep - 1, keep - 1);
	text->capped = true;
	return 0;
}

/* The rendered HTML goes through the writer like any text: html.c writes
 * the links of <a href> (link_emit) and leaves bare URLs to the writer's
 * one link pass, made after its cleaning, so what a removed character or
 * an element boundary hid is found there. In plain style html.c counts
 * the URLs it keeps and the writer's second count is dropped. */
static int render_html(mail_ctx_t *c, const buf_t *u, buf_t *t)
{
	html_opts_t o = { c->link_style, (int)lim(c->lim, LIM_HTML_DEPTH),
			  (size_t)lim(c->lim, LIM_HTML_EXPANSION), c->link_style != LINK_PLAIN };
	html_result_t hr;
	link_counts_t lc = { 0, 0 };
	buf_t h;
	int rc;

	memset(&hr, 0, sizeof(hr));
	buf_init(&h, t->max);
	rc = html_to_text(u->data ? u->data : "", u->len, &o, &h, &hr);
	if (rc == 0 && c->ppap_collect)
		rc = ppap_scan(h.data ? h.data : "", h.len, c->ppap_collect);
	if (rc == 0)
		rc = wr_text(t, h.data ? h.data : "", h.len, c->link_style, &lc);
	buf_free(&h);
	if (rc < 0)
		return -1;
	if (c->link_style != LINK_PLAIN) {
		c->rep->links_defanged += lc.defanged;
		c->rep->links_removed += lc.removed;
	}
	c->rep->html_converted = true;
	c->cs.losses += hr.replaced;
	c->rep->links_defanged += hr.links.defanged;
	c->rep->links_removed += hr.links.removed;
	if (hr.depth_exceeded)
		report_limit(c->rep, limit_table[LIM_HTML_DEPTH].name);
	if (hr.expansion_exceeded)
		report_limit(c->rep, limit_table[LIM_HTML_EXPANSION].name);
	if (hr.depth_exceeded || hr.expansion_exceeded)
		c->quarantine = true;
	return 0;
}

static int render_plain(mail_ctx_t *c, const buf_t *u, buf_t *t)
{
	link_counts_t lc = { 0, 0 };

	if (c->ppap_collect && ppap_scan(u->data ? u->data : "", u->len, c->ppap_collect) < 0)
		return -1;
	if (wr_text(t, u->data ? u->data : "", u->len, c->link_style, &lc) < 0)
		return -1;
	c->rep->links_defanged += lc.defanged;
	c->rep->links_removed += lc.removed;
	return 0;
}

/* Charsets whose text holds NUL bytes. */
static bool wide_charset(const char *label)
{
	return label && (g_ascii_strncasecmp(label, "utf-16", 6) == 0 ||
			 g_ascii_strncasecmp(label, "utf-32", 6) == 0 ||
			 g_ascii_strncasecmp(label, "ucs-", 4) == 0 ||
			 g_ascii_strncasecmp(label, "unicode", 7) == 0);
}

/* Decode one text part (transfer encoding, then charset) into UTF-8;
 * *nul (optional) tells whether the decoded bytes of a charset that never
 * holds NUL held one (a binary file labelled text). */
static int part_utf8_nul(mail_ctx_t *c, GMimePart *p, buf_t *u, bool *nul)
{
	const char *label = g_mime_object_get_content_type_parameter(GMIME_OBJECT(p), "charset");
	GByteArray *ba;
	size_t cap;
	int rc;

	check_base64(c, p);
	ba = mail_part_decode(c, p);
	cap = (size_t)ba->len * 4 + 64; /* guint len: no overflow in size_t */
	buf_init(u, cap);
	if (nul)
		*nul = ba->len && memchr(ba->data, '\0', ba->len) && !wide_charset(label);
	rc = charset_decode(label, ba->data ? (const char *)ba->data : "", ba->len, u, &c->cs);
	g_byte_array_unref(ba);
	return rc;
}

/* A part labelled text is not text when its bytes hold a NUL, or when at
 * least NOT_TEXT_MIN_LOSSES characters and more than 1 in NOT_TEXT_SHARE
 * could not be decoded (a zip or an executable labelled text/html). */
enum { NOT_TEXT_MIN_LOSSES = 8, NOT_TEXT_SHARE = 4 };

static bool not_text(const mail_ctx_t *c, bool nul, const charset_stats_t *before)
{
	size_t losses = c->cs.losses - before->losses, chars = c->cs.chars - before->chars;

	return nul || (losses >= NOT_TEXT_MIN_LOSSES && losses * NOT_TEXT_SHARE > chars);
}

static int encblock_removed(void *arg, const encblock_t *b)
{
	mail_ctx_t *c = arg;
	buf_t name;
	int rc;

	buf_init(&name, 4 * ENCBLOCK_NAME_MAX + 64);
	rc = wr_clean(&name, b->name, strlen(b->name), WR_ONELINE);
	if (rc == 0)
		rc = report_remove(c->rep, name.data, encblock_type(b->kind), b->size, RM_ENCODED,
				   NULL);
	buf_free(&name);
	return rc;
}

/* Cut uuencode/BinHex/yEnc blocks out of rendered text (list them). The
 * scan runs on the cleaned text: a control or bidi character before or
 * inside "begin 644" must not hide a block that removing it would reveal.
 * `clean`: t is whole output of wr_text (plain text and HTML renderings
 * alike), which wr_clean leaves unchanged (the link forms it writes close
 * no marker and hold no control), so the second cleaning pass is skipped;
 * text cut at its room is cleaned here. */
static int strip_encoded(mail_ctx_t *c, buf_t *t, bool is_clean)
{
	buf_t clean, kept;
	int rc = 0;

	if (!t->len)
		return 0;
	if (is_clean) {
		if (!encblock_has_start(t->data, t->len))
			return 0;
		buf_init(&kept, t->len + 1);
		rc = encblock_strip(t->data, t->len, &kept, encblock_removed, c);
		buf_free(t);
		*t = kept;
		return rc < 0 ? -1 : 0;
	}
	buf_init(&clean, t->len * 3 + 64); /* an invalid byte becomes U+FFFD */
	if (wr_clean(&clean, t->data, t->len, 0) < 0) {
		buf_free(&clean);
		return -1;
	}
	if (clean.len && encblock_has_start(clean.data, clean.len)) {
		buf_init(&kept, clean.len + 1);
		rc = encblock_strip(clean.data, clean.len, &kept, encblock_removed, c);
		buf_free(&clean);
		clean = kept;
	}
	buf_free(t);
	*t = clean;
	return rc < 0 ? -1 : 0;
}

static int part_text(mail_ctx_t *c, GMimePart *p, bool html, buf_t *text)
{
	charset_stats_t before = c->cs;
	bool nul = false;
	bool cut = false;
	buf_t u, t;
	int rc;

	if (part_utf8_nul(c, p, &u, &nul) < 0) {
		buf_free(&u);
		return -1;
	}
	if (not_text(c, nul, &before)) {
		c->cs.losses = before.losses; /* not rendered: listed, not counted as losses */
		c->cs.chars = before.chars;
		buf_free(&u);
		return remove_part(c, GMIME_OBJECT(p), RM_NOT_TEXT);
	}
	c->leaves_rendered++;
	/* Room for the whole rendering (defanging at most triples a URL); the
	 * cut to text_size_max happens in append_text. HTML is bounded by
	 * html_expansion_max inside html_to_text. */
	buf_init(&t, u.len * 4 + RENDER_SLACK);
	rc = html ? render_html(c, &u, &t) : render_plain(c, &u, &t);
	buf_free(&u);
	if (rc < 0 && t.capped) { /* the rendering outgrew its room: keep what fits */
		report_limit(c->rep, limit_table[LIM_TEXT_SIZE].name);
		t.capped = false;
		cut = true;
		rc = 0;
	}
	if (rc == 0)
		rc = strip_encoded(c, &t, !cut);
	if (rc == 0 && !c->quarantine)
		rc = append_text(c, text, t.data ? t.data : "", t.len);
	buf_free(&t);
	return rc;
}

static bool is_attachment(GMimeObject *o)
{
	const char *d = g_mime_object_get_disposition(o);

	return d && strcasecmp(d, "attachment") == 0;
}

/* Types rendered as text although they are not text/plain. */
static bool is_report_text(GMimeContentType *ct)
{
	return g_mime_content_type_is_type(ct, "message", "delivery-status") ||
	       g_mime_content_type_is_type(ct, "message", "disposition-notification") ||
	       g_mime_content_type_is_type(ct, "message", "feedback-report") ||
	       g_mime_content_type_is_type(ct, "text", "rfc822-headers");
}

static int walk_leaf(mail_ctx_t *c, GMimeObject *o, buf_t *text)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	bool plain = g_mime_content_type_is_type(ct, "text", "plain") || is_report_text(ct);
	bool html = g_mime_content_type_is_type(ct, "text", "html");

	if ((plain || html) && !is_attachment(o))
		return part_text(c, GMIME_PART(o), html, text);
	return remove_part(c, o, -1);
}

static int walk_children(mail_ctx_t *c, GMimeMultipart *mp, int depth, buf_t *text)
{
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n && !c->quarantine; i++)
		if (walk_object(c, g_mime_multipart_get_part(mp, i), depth + 1, text) < 0)
			return -1;
	return 0;
}

/* ---- the stub rule ------------------------------------------------------
 * In multipart/alternative with body_prefer = plain, the text/plain part is
 * used unless it is empty or the HTML part carries text it lacks:
 *
 *     HTML wins  ⇔  P = 0  or  H > P × 3/2 + 16
 *
 * where P and H count visible characters (code points other than white
 * space, NBSP and U+3000) of the decoded plain text and of the words of the
 * decoded HTML: text outside tags, comments and non-rendered elements,
 * estimated by html_text_chars() in one pass without gumbo (so measuring
 * costs no second HTML parse; hrefs, which the plain part writes out as
 * URLs, and hidden text count nothing or little). The usual 37-character
 * 「このメールはHTML形式です…」 stub next to a newsletter loses; a plain
 * part that is a faithful copy (same words, ±50%) wins. Measuring decodes
 * quietly: no warning, no loss and no decoded size is counted twice. */

static size_t visible_chars(const char *s, size_t n)
{
	size_t v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if ((b & 0xC0) == 0x80 || g_ascii_isspace(b))
			continue;
		if (b == 0xE3 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		    (unsigned char)s[i + 2] == 0x80)
			continue; /* U+3000 ideographic space */
		if (b == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0)
			continue; /* U+00A0 */
		v++;
	}
	return v;
}

/* Decoded text of a part, for measuring only (nothing is accounted). */
static int measure_utf8(mail_ctx_t *c, GMimePart *p, buf_t *u)
{
	const char *label = g_mime_object_get_content_type_parameter(GMIME_OBJECT(p), "charset");
	GMimeDataWrapper *w = g_mime_part_get_content(p);
	GMimeStream *mem;
	GByteArray *ba;
	charset_stats_t st;
	int rc;

	buf_init(u, 64);
	/* the encoded length bounds the decoded one */
	if (w && g_mime_stream_length(g_mime_data_wrapper_get_stream(w)) >
		 (gint64)lim(c->lim, LIM_DECODED_SIZE))
		return -1;
	mem = g_mime_stream_mem_new();
	if (w)
		g_mime_data_wrapper_write_to_stream(w, mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	memset(&st, 0, sizeof(st));
	buf_init(u, (size_t)ba->len * 4 + 64);
	rc = charset_decode(label, (const char *)ba->data, ba->len, u, &st);
	g_object_unref(mem);
	return rc;
}

/* The text/html part an alternative would render (through related). */
static GMimeObject *html_leaf(GMimeObject *o)
{
	while (o && GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		GMimeObject *next = NULL;

		if (g_mime_content_type_is_type(ct, "multipart", "related")) {
			next = related_root(mp);
		} else {
			for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
				GMimeObject *k = g_mime_multipart_get_part(mp, i);

				if (GMIME_IS_MULTIPART(k) ||
				    g_mime_content_type_is_type(g_mime_object_get_content_type(k),
								"text", "html"))
					next = k;
			}
		}
		o = next;
	}
	if (!o || !GMIME_IS_PART(o) ||
	    !g_mime_content_type_is_type(g_mime_object_get_content_type(o), "text", "html"))
		return NULL;
	return o;
}

/* Visible characters of the HTML's words, or SIZE_MAX when unmeasurable. */
static size_t html_visible(mail_ctx_t *c, GMimeObject *rich)
{
	GMimeObject *leaf = html_leaf(rich);
	buf_t u;
	size_t v = SIZE_MAX;

	if (!leaf) /* no HTML to render (e.g. a multipart/mixed): nothing visible */
		return 0;
	if (measure_utf8(c, GMIME_PART(leaf), &u) == 0)
		v = html_text_chars(u.data ? u.data : "", u.len);
	buf_free(&u);
	return v;
}

/* Does the plain alternative carry the content? (the stub rule above) */
static bool plain_carries(mail_ctx_t *c, GMimeObject *plain, GMimeObject *html)
{
	buf_t u;
	size_t p = 0, h;

	if (measure_utf8(c, GMIME_PART(plain), &u) < 0) {
		buf_free(&u);
		return true;
	}
	p = visible_chars(u.data ? u.data : "", u.len);
	buf_free(&u);
	if (p == 0)
		return false;
	if (!html)
		return true;
	h = html_visible(c, html);
	if (h == SIZE_MAX) /* the HTML cannot be measured: it is rendered */
		return false;
	return h <= p + p / 2 + 16;
}

/* The alternative that becomes text: the plain one when it carries the
 * content (body_prefer), else the last HTML or multipart one. */
static GMimeObject *alternative_choice(mail_ctx_t *c, GMimeMultipart *mp)
{
	GMimeObject *plain = NULL, *rich = NULL;
	int n = g_mime_multipart_get_count(mp);
	charset_stats_t saved = c->cs;
	bool use_plain;

	for (int i = 0; i < n; i++) {
		GMimeObject *o = g_mime_multipart_get_part(mp, i);
		GMimeContentType *ct = g_mime_object_get_content_type(o);

		if (g_mime_content_type_is_type(ct, "text", "plain") && !plain)
			plain = o;
		else if (g_mime_content_type_is_type(ct, "text", "html") || GMIME_IS_MULTIPART(o))
			rich = o;
	}
	use_plain = plain && (!rich || (cfg_is(c->cfg, CFG_BODY_PREFER, "plain") &&
					plain_carries(c, plain, rich)));
	c->cs = saved; /* the look at the plain part is not a rendering: count losses once */
	return use_plain ? plain : rich;
}

/* Every alternative that is not chosen is listed: its leaves with reason
 * `alternative` when it is text or a structure (a nested multipart/mixed
 * with an .exe, text/calendar, text/x-amp-html …), else by their type. */
static int walk_alternative(mail_ctx_t *c, GMimeMultipart *mp, int depth, buf_t *text)
{
	GMimeObject *chosen = alternative_choice(c, mp);
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n && !c->quarantine; i++) {
		GMimeObject *o = g_mime_multipart_get_part(mp, i);
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		int rc;

		if (o == chosen)
			rc = walk_object(c, o, depth + 1, text);
		else if (GMIME_IS_PART(o) && !g_mime_content_type_is_type(ct, "text", "*"))
			rc = remove_part(c, o, -1);
		else
			rc = list_subtree(c, o, RM_ALTERNATIVE);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static GMimeObject *related_root(GMimeMultipart *mp)
{
	const char *start = g_mime_object_get_content_type_parameter(GMIME_OBJECT(mp), "start");
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; start && i < n; i++) {
		GMimeObject *o = g_mime_multipart_get_part(mp, i);
		const char *cid = g_mime_object_get_content_id(o);
		size_t sl = strlen(start);

		if (cid && sl > 2 && start[0] == '<' && strlen(cid) == sl - 2 &&
		    strncmp(cid, start + 1, sl - 2) == 0)
			return o;
	}
	return n > 0 ? g_mime_multipart_get_part(mp, 0) : NULL;
}

static int walk_related(mail_ctx_t *c, GMimeMultipart *mp, int depth, buf_t *text)
{
	GMimeObject *root = related_root(mp);
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n; i++) {
		GMimeObject *o = g_mime_multipart_get_part(mp, i);
		int rc = (o == root) ? walk_object(c, o, depth + 1, text) : list_subtree(c, o, -1);

		if (rc < 0)
			return -1;
	}
	return 0;
}

static int walk_signed(mail_ctx_t *c, GMimeMultipart *mp, int depth, buf_t *text)
{
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n; i++) {
		GMimeObject *o = g_mime_multipart_get_part(mp, i);
		int rc = i == 0 ? walk_object(c, o, depth + 1, text) : list_subtree(c, o, RM_SIGNATURE);

		if (rc < 0)
			return -1;
	}
	return 0;
}

static int walk_multipart(mail_ctx_t *c, GMimeObject *o, int depth, buf_t *text)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	GMimeMultipart *mp = GMIME_MULTIPART(o);

	if (g_mime_content_type_is_type(ct, "multipart", "alternative"))
		return walk_alternative(c, mp, depth, text);
	if (g_mime_content_type_is_type(ct, "multipart", "related"))
		return walk_related(c, mp, depth, text);
	if (g_mime_content_type_is_type(ct, "multipart", "signed"))
		return walk_signed(c, mp, depth, text);
	if (g_mime_content_type_is_type(ct, "multipart", "encrypted"))
		return list_subtree(c, o, RM_ENCRYPTED);
	return walk_children(c, mp, depth, text);
}

static int walk_forwarded(mail_ctx_t *c, GMimeMessage *m, int depth, buf_t *text)
{
	GMimeObject *body = g_mime_message_get_mime_part(m);
	hdrset_t h;
	buf_t inner;
	int rc;

	buf_init(&inner, (size_t)lim(c->lim, LIM_TEXT_SIZE));
	rc = hdrset_collect(c, GMIME_OBJECT(m), &h);
	if (rc == 0)
		rc = hdrset_display(&h, c->ja, &inner);
	hdrset_free(&h);
	if (rc == 0 && body)
		rc = walk_object(c, body, depth + 1, &inner);
	if (rc == 0 && block_sep(text) == 0)
		rc = buf_puts(text, c->ja ? "---------- 転送されたメッセージ ----------\n"
					  : "---------- Forwarded message ----------\n");
	if (rc == 0)
		rc = text_quote(text, inner.data ? inner.data : "", inner.len);
	if (rc < 0 && text->capped) {
		report_limit(c->rep, limit_table[LIM_TEXT_SIZE].name);
		rc = 0;
	}
	buf_free(&inner);
	return rc;
}

/* Stream offset of o's first header, or -1. */
static gint64 first_offset(GMimeObject *o)
{
	GMimeHeaderList *hl = o ? g_mime_object_get_header_list(o) : NULL;

	if (!hl || g_mime_header_list_get_count(hl) < 1)
		return -1;
	return g_mime_header_get_offset(g_mime_header_list_get_header_at(hl, 0));
}

/* Stream offset of o's last header, or -1. */
static gint64 last_offset(GMimeObject *o)
{
	GMimeHeaderList *hl = o ? g_mime_object_get_header_list(o) : NULL;
	int n = hl ? g_mime_header_list_get_count(hl) : 0;

	return n < 1 ? -1 : g_mime_header_get_offset(g_mime_header_list_get_header_at(hl, n - 1));
}

/* Where an attached message's own content starts: its first header; when
 * it has none (a bounce quoting "[original message goes here]"), just after
 * the start of the part's last header. Either way the part headers that
 * make it message/rfc822 stay outside; a defect in between is inside the
 * part, which is withheld whole, never rendered. */
static gint64 message_begin(GMimeObject *part, GMimeMessage *m)
{
	gint64 first = first_offset(GMIME_OBJECT(m)), last;

	if (first >= 0)
		return first;
	last = last_offset(part);
	return last >= 0 ? last + 1 : -1;
}

/* The outermost attached message under o whose own content (from
 * message_begin to where o's region ends, end; -1 unknown) holds offset
 * at. A defect in the part headers that make it message/rfc822 is not
 * inside. */
static GMimeObject *defect_owner(GMimeObject *o, gint64 at, gint64 end)
{
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++) {
			gint64 kend = i + 1 < n ? first_offset(g_mime_multipart_get_part(mp, i + 1)) : end;
			GMimeObject *own = defect_owner(g_mime_multipart_get_part(mp, i), at, kend);

			if (own)
				return own;
		}
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		gint64 begin = m ? message_begin(o, m) : -1;

		if (begin >= 0 && end >= 0 && begin <= at && at < end)
			return o;
	}
	return NULL;
}

void walk_attribute_defects(mail_ctx_t *c, GMimeObject *top, size_t len)
{
	GMimeObject *body = GMIME_IS_MESSAGE(top) ? g_mime_message_get_mime_part(GMIME_MESSAGE(top))
						  : top;

	for (size_t i = 0; i < c->n_defects && !c->quarantine; i++) {
		GMimeObject *own = body ? defect_owner(body, c->defects[i], (gint64)len) : NULL;
		size_t k = 0;

		if (!own) {
			c->quarantine = true;
			break;
		}
		while (k < c->n_withheld && c->withheld[k] != own)
			k++;
		if (k == c->n_withheld)
			c->withheld[c->n_withheld++] = own; /* n_withheld <= n_defects */
	}
}

static size_t count_leaves(GMimeObject *o)
{
	size_t n = 0;

	if (GMIME_IS_MULTIPART(o)) {
		for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(o)); i++)
			n += count_leaves(g_mime_multipart_get_part(GMIME_MULTIPART(o), i));
		return n;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		GMimeObject *b = m ? g_mime_message_get_mime_part(m) : NULL;

		if (b)
			return count_leaves(b);
	}
	return 1;
}

/* The name a withheld message is listed under: its filename, else its
 * decoded Subject on one line (losses there are not the text's). */
static char *withheld_name(mail_ctx_t *c, GMimeObject *o)
{
	GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
	const char *raw = m ? hdr_raw(GMIME_OBJECT(m), "Subject") : NULL;
	char *name = part_filename(c, o);
	charset_stats_t scratch = { 0, 0, false, NULL };
	buf_t dec, clean;

	if (name || !raw)
		return name;
	buf_init(&dec, (size_t)lim(c->lim, LIM_HEADER_VALUE) * 4 + 64);
	buf_init(&clean, dec.max * 3 + 64);
	if (hdr_decode_text(raw, strlen(raw), &dec, &scratch) == 0 &&
	    wr_clean(&clean, dec.data ? dec.data : "", dec.len, WR_ONELINE) == 0) {
		for (size_t i = 0; i < clean.len; i++)
			if (clean.data[i] == '\n' || clean.data[i] == '\t')
				clean.data[i] = ' ';
		name = clean.len ? buf_steal(&clean, NULL) : NULL;
	}
	buf_free(&dec);
	buf_free(&clean);
	return name;
}

/* An attached message with an ambiguous structure: listed as one item
 * (named by its Subject), its leaves counted as listed, nothing of it
 * rendered. */
static bool withhold(mail_ctx_t *c, GMimeObject *o, int *rc)
{
	size_t k = 0;
	char *name;

	while (k < c->n_withheld && c->withheld[k] != o)
		k++;
	if (k == c->n_withheld)
		return false;
	name = withheld_name(c, o);
	*rc = report_remove(c->rep, name, "message/rfc822", object_size(o), RM_MALFORMED, NULL);
	free(name);
	c->leaves_listed += count_leaves(o);
	return true;
}

int walk_object(mail_ctx_t *c, GMimeObject *o, int depth, buf_t *text)
{
	int rc;

	if (c->quarantine)
		return 0;
	if (c->n_withheld && GMIME_IS_MESSAGE_PART(o) && withhold(c, o, &rc))
		return rc;
	if (GMIME_IS_MULTIPART(o))
		return walk_multipart(c, o, depth, text);
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));

		return m ? walk_forwarded(c, m, depth, text) : remove_part(c, o, -1);
	}
	if (GMIME_IS_PART(o))
		return walk_leaf(c, o, text);
	return remove_part(c, o, RM_UNSUPPORTED);
}
