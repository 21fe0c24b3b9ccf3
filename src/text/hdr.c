/*
 * hdr.c — header values to UTF-8 (see hdr.h): unfolding, encoded-words,
 * RFC 2231 parameters, raw 8-bit; and the one encoder, UTF-8 text as
 * RFC 2047 B words (hdr_encode_text, for the releaser's own headers).
 *
 * Specs: RFC 5322 (unfolding, quoted-string, comments), RFC 2047 with the
 * RFC 2231 §5 language suffix (=?charset*lang?enc?text?=), RFC 2231
 * parameter value continuations and charset'lang'%XX, RFC 6532 raw UTF-8.
 *
 * Tolerated violations (as common mailers produce them): no whitespace
 * between adjacent words, words in the middle of a token or inside a quoted
 * string, missing B padding, encoded-words in parameter values, raw CP932 /
 * EUC-JP / ISO-2022-JP bytes. Adjacent words with the same charset are
 * joined as bytes before decoding, so a character split across words (or a
 * stateful ISO-2022-JP run) survives. Every charset label is only a hint to
 * charset_decode(), which sniffs when it does not fit.
 *
 * Raw 8-bit header bytes are lexed with the charset the whole value sniffs
 * as: under CP932 a lead byte always takes its trail byte, even when the
 * trail is '\\', '"' or '@', so raw Shift_JIS cannot fake structure.
 *
 * SECURITY: runs in the sanitizer worker on hostile header bytes. Linear in
 * the input (the encoded-word scanner looks at each byte a bounded number of
 * times); all output and scratch goes to capped buf_t; output contains no
 * CR, LF, NUL or other C0 control. The encoder's output is base64 words and
 * folds only: its input cannot add a header field.
 */
#include "text/hdr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/limits.h"

/* ------------------------------------------------------------- helpers */

static bool is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool sj_lead(unsigned c)
{
	return (c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC);
}

/* Scratch buffers are capped like the output they feed. */
static void scratch_init(buf_t *b, const buf_t *out, size_t len)
{
	size_t max;

	if (size_add(len, len, &max) < 0 || size_add(max, HDR_SCRATCH_SLACK, &max) < 0 ||
	    max > out->max)
		max = out->max;
	buf_init(b, max);
}

/* Unfold: a line break followed by blanks becomes one space; any other CR
 * or LF becomes a space too. */
static int unfold(const char *s, size_t n, buf_t *u)
{
	size_t i = 0;
	int rc = 0;

	if (buf_reserve(u, n) < 0)
		return -1;
	while (i < n && rc == 0) {
		if (s[i] != '\r' && s[i] != '\n') {
			rc = buf_putc(u, s[i++]);
			continue;
		}
		while (i < n && (s[i] == '\r' || s[i] == '\n'))
			i++;
		if (i < n && is_wsp(s[i]))
			while (i < n && is_wsp(s[i]))
				i++;
		rc = buf_putc(u, ' ');
	}
	return rc;
}

/* Append text with C0 controls and DEL as spaces; quoted escapes '"' and
 * '\\' for use inside a quoted-string. */
static int put_clean(buf_t *out, const char *s, size_t n, bool quoted)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7F)
			c = ' ';
		if (quoted && (c == '"' || c == '\\'))
			rc = buf_putc(out, '\\');
		if (rc == 0)
			rc = buf_putc(out, c);
	}
	return rc;
}

/* --------------------------------------------------------- encoded-word */

typedef struct ew {
	char charset[EW_CHARSET_MAX + 1]; /* without *lang */
	char enc;                         /* 'B' or 'Q' */
	const char *text;
	size_t tlen;
	size_t len;                       /* whole word */
} ew_t;

/* Parse "=?charset?X?text?=" at s; false when s does not start one. */
static bool ew_parse(const char *s, size_t n, ew_t *w)
{
	size_t i = 2, cs, t;

	if (n < 7 || s[0] != '=' || s[1] != '?')
		return false;
	while (i < n && s[i] != '?' && s[i] > 0x20 && s[i] < 0x7F && i - 2 <= EW_CHARSET_MAX)
		i++;
	cs = i - 2;
	if (cs == 0 || cs > EW_CHARSET_MAX || i + 3 >= n || s[i] != '?' ||
	    s[i + 1] == '\0' || !strchr("BbQq", s[i + 1]) || s[i + 2] != '?')
		return false;
	t = i + 3;
	i = t;
	while (i < n && s[i] != '?' && s[i] > 0x20 && s[i] < 0x7F)
		i++;
	if (i + 1 >= n || s[i] != '?' || s[i + 1] != '=')
		return false;
	memcpy(w->charset, s + 2, cs);
	w->charset[cs] = '\0';
	w->charset[strcspn(w->charset, "*")] = '\0'; /* RFC 2231 language */
	w->enc = (char)(s[t - 2] & ~0x20);
	w->text = s + t;
	w->tlen = i - t;
	w->len = i + 2;
	return true;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 without demanding padding; stray characters are skipped. */
static int b_decode(const char *s, size_t n, buf_t *dst)
{
	uint32_t acc = 0;
	int bits = 0, v, rc = 0;
	size_t i;

	for (i = 0; i < n && s[i] != '=' && rc == 0; i++) {
		if ((v = b64val((unsigned char)s[i])) < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			rc = buf_putc(dst, (int)((acc >> bits) & 0xFF));
		}
	}
	return rc;
}

static int q_decode(const char *s, size_t n, buf_t *dst)
{
	size_t i;
	int rc = 0, h, l;

	for (i = 0; i < n && rc == 0; i++) {
		if (s[i] == '_') {
			rc = buf_putc(dst, ' ');
		} else if (s[i] == '=' && i + 2 < n &&
			   (h = hexval((unsigned char)s[i + 1])) >= 0 &&
			   (l = hexval((unsigned char)s[i + 2])) >= 0) {
			rc = buf_putc(dst, h * 16 + l);
			i += 2;
		} else {
			rc = buf_putc(dst, s[i]);
		}
	}
	return rc;
}

static int ew_bytes(const ew_t *w, buf_t *dst)
{
	return w->enc == 'B' ? b_decode(w->text, w->tlen, dst)
			     : q_decode(w->text, w->tlen, dst);
}

/* Decode the run of adjacent encoded-words at s[0] (known to start one)
 * into text; returns the bytes consumed (trailing blanks excluded). */
typedef struct run {
	buf_t bytes;        /* pending bytes of one charset */
	char charset[EW_CHARSET_MAX + 1];
} run_t;

static int run_flush(run_t *r, buf_t *text, charset_stats_t *st)
{
	int rc = 0;

	if (r->bytes.len)
		rc = charset_decode(r->charset, r->bytes.data, r->bytes.len, text, st);
	buf_reset(&r->bytes);
	return rc;
}

static int ew_run(const char *s, size_t n, buf_t *text, charset_stats_t *st,
		  size_t *used)
{
	run_t r;
	ew_t w;
	size_t i = 0, j;
	int rc = -1;

	scratch_init(&r.bytes, text, n);
	r.charset[0] = '\0';
	while (ew_parse(s + i, n - i, &w)) {
		if (strcasecmp(w.charset, r.charset) != 0) {
			if (run_flush(&r, text, st) < 0)
				goto out;
			memcpy(r.charset, w.charset, sizeof(r.charset));
		}
		if (ew_bytes(&w, &r.bytes) < 0)
			goto out;
		i += w.len;
		for (j = i; j < n && is_wsp(s[j]); j++)
			;
		if (j >= n || !ew_parse(s + j, n - j, &w))
			break;
		i = j;
	}
	if (run_flush(&r, text, st) < 0)
		goto out;
	*used = i;
	rc = 0;
out:
	buf_free(&r.bytes);
	return rc;
}

/* ------------------------------------------------------ unstructured */

static int decode_literal(const char *s, size_t n, const char *label,
			  buf_t *text, charset_stats_t *st)
{
	if (n == 0)
		return 0;
	return charset_decode(label, s, n, text, st);
}

/* Decode unfolded u into text (controls not yet cleaned). */
static int decode_words(const char *u, size_t n, buf_t *text, charset_stats_t *st)
{
	const char *label = charset_sniff(u, n);
	size_t i = 0, lit = 0, used;
	ew_t w;
	int rc = -1;

	while (i < n) {
		if (u[i] != '=' || !ew_parse(u + i, n - i, &w)) {
			i++;
			continue;
		}
		if (decode_literal(u + lit, i - lit, label, text, st) < 0 ||
		    ew_run(u + i, n - i, text, st, &used) < 0)
			goto out;
		i += used;
		lit = i;
	}
	if (decode_literal(u + lit, n - lit, label, text, st) < 0)
		goto out;
	rc = 0;
out:
	return rc;
}

int hdr_decode_text(const char *raw, size_t len, buf_t *out, charset_stats_t *st)
{
	buf_t u, text;
	size_t a = 0, z;
	int rc = -1;

	scratch_init(&u, out, len);
	scratch_init(&text, out, len);
	if (unfold(raw, len, &u) < 0 || decode_words(u.data, u.len, &text, st) < 0)
		goto out;
	z = text.len;
	while (a < z && ((unsigned char)text.data[a] <= 0x20 || text.data[a] == 0x7F))
		a++;
	while (z > a && ((unsigned char)text.data[z - 1] <= 0x20 ||
			 text.data[z - 1] == 0x7F))
		z--;
	if (put_clean(out, text.data ? text.data + a : "", z - a, false) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&u);
	buf_free(&text);
	return rc;
}

/* --------------------------------------------------------- structured */

typedef struct lex {
	const char *s;
	size_t n, i;
	bool cp932;      /* raw 8-bit lexed as CP932 pairs */
	const char *raw_label;
	int depth;       /* comment nesting */
	bool quoted, angle;
	buf_t *out;
	charset_stats_t *st;
} lex_t;

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_b64_word(buf_t *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char q[4];
	size_t i;
	int rc = buf_puts(out, "=?UTF-8?B?");

	for (i = 0; i < n && rc == 0; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		v |= i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0;
		v |= i + 2 < n ? p[i + 2] : 0;
		q[0] = b64chars[(v >> 18) & 63];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64chars[v & 63] : '=';
		rc = buf_append(out, q, 4);
	}
	return rc == 0 ? buf_puts(out, "?=") : -1;
}

#define ENCODE_CHUNK 39 /* bytes of text per encoded-word: 52 base64 characters */

int hdr_encode_text(buf_t *out, const char *s, size_t n)
{
	size_t i = 0;
	int rc = 0;

	while (rc == 0 && i < n) {
		size_t k = n - i < ENCODE_CHUNK ? n - i : ENCODE_CHUNK;

		/* back to a character boundary (a lead byte or ASCII follows) */
		while (k > 1 && i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
			k--;
		if (i > 0)
			rc = buf_puts(out, "\r\n ");
		if (rc == 0)
			rc = put_b64_word(out, s + i, k);
		i += k;
	}
	return rc;
}

/* Emit decoded text at the lexer's position: inside quotes as escaped raw
 * UTF-8; elsewhere raw when it is all non-ASCII (cannot be structure), else
 * as one encoded-word. */
static int emit_decoded(lex_t *lx, buf_t *text, bool force_word)
{
	buf_t clean;
	size_t i;
	bool ascii = false;
	int rc = -1;

	if (lx->quoted)
		return put_clean(lx->out, text->data ? text->data : "", text->len, true);
	scratch_init(&clean, lx->out, text->len);
	if (put_clean(&clean, text->data ? text->data : "", text->len, false) < 0)
		goto out;
	for (i = 0; i < clean.len; i++)
		ascii |= (unsigned char)clean.data[i] < 0x80;
	if (clean.len == 0)
		rc = 0;
	else if (force_word || ascii)
		rc = put_b64_word(lx->out, clean.data, clean.len);
	else
		rc = buf_append(lx->out, clean.data, clean.len);
out:
	buf_free(&clean);
	return rc;
}

/* Length of the raw 8-bit (or ISO-2022-JP) run at s[0]. */
static size_t raw_run_len(const lex_t *lx, const char *s, size_t n)
{
	size_t i = 0;

	if (s[0] == 0x1B) {
		for (i = 1; i < n; i++)
			if (s[i - 1] == 0x1B && i + 1 < n && s[i] == '(' &&
			    (s[i + 1] == 'B' || s[i + 1] == 'J'))
				return i + 2;
		return n;
	}
	while (i < n && (unsigned char)s[i] >= 0x80) {
		if (lx->cp932 && sj_lead((unsigned char)s[i]) && i + 1 < n &&
		    (unsigned char)s[i + 1] >= 0x40 && s[i + 1] != 0x7F)
			i += 2;
		else
			i++;
	}
	return i;
}

static int lex_encoded(lex_t *lx, bool raw)
{
	const char *s = lx->s + lx->i;
	size_t n = lx->n - lx->i, used;
	buf_t text;
	int rc = -1;

	scratch_init(&text, lx->out, n);
	if (raw) {
		used = raw_run_len(lx, s, n);
		if (charset_decode(s[0] == 0x1B ? "ISO-2022-JP" : lx->raw_label,
				   s, used, &text, lx->st) < 0)
			goto out;
	} else if (ew_run(s, n, &text, lx->st, &used) < 0) {
		goto out;
	}
	if (emit_decoded(lx, &text, !raw) < 0)
		goto out;
	lx->i += used;
	rc = 0;
out:
	buf_free(&text);
	return rc;
}

/* Track quotes, comments and angle brackets for one ASCII byte; returns
 * how many bytes to copy (2 for a quoted-pair of ASCII). */
static size_t lex_struct(lex_t *lx, unsigned char c, unsigned char next)
{
	if ((lx->quoted || lx->depth) && c == '\\')
		return next && next < 0x80 && next != 0x1B ? 2 : 1;
	if (lx->quoted) {
		lx->quoted = c != '"';
	} else if (lx->depth) {
		lx->depth += c == '(' ? 1 : c == ')' ? -1 : 0;
	} else if (c == '"') {
		lx->quoted = true;
	} else if (c == '(') {
		lx->depth = 1;
	} else if (c == '<') {
		lx->angle = true;
	} else if (c == '>') {
		lx->angle = false;
	}
	return 1;
}

static int lex_step(lex_t *lx)
{
	unsigned char c = (unsigned char)lx->s[lx->i];
	unsigned char next = lx->i + 1 < lx->n ? (unsigned char)lx->s[lx->i + 1] : 0;
	ew_t w;
	size_t k;

	if (c >= 0x80 || c == 0x1B)
		return lex_encoded(lx, true);
	if (c == '=' && !lx->angle &&
	    ew_parse(lx->s + lx->i, lx->n - lx->i, &w))
		return lex_encoded(lx, false);
	k = lex_struct(lx, c, next);
	if (put_clean(lx->out, lx->s + lx->i, k, false) < 0)
		return -1;
	lx->i += k;
	return 0;
}

int hdr_normalize_structured(const char *raw, size_t len, buf_t *out,
			     charset_stats_t *st)
{
	buf_t u;
	lex_t lx;
	int rc = -1;

	scratch_init(&u, out, len);
	if (unfold(raw, len, &u) < 0)
		goto out;
	memset(&lx, 0, sizeof(lx));
	lx.s = u.data ? u.data : "";
	lx.n = u.len;
	lx.raw_label = charset_sniff(lx.s, lx.n);
	lx.cp932 = strcmp(lx.raw_label, "CP932") == 0;
	lx.out = out;
	lx.st = st;
	while (lx.i < lx.n)
		if (lex_step(&lx) < 0)
			goto out;
	if (buf_reserve(out, 0) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&u);
	return rc;
}

/* ------------------------------------------------------------ params */

typedef struct section {
	size_t off, len;
	bool present, encoded;
} section_t;

typedef struct params {
	buf_t vals;                    /* unquoted values, back to back */
	section_t plain, ext;
	section_t sec[RFC2231_SECTIONS_MAX];
	bool cp932;
} params_t;

/* Read a value at s[i] (quoted-string or token) into p->vals. */
static size_t read_value(params_t *p, const char *s, size_t n, size_t i,
			 section_t *sec)
{
	bool q = i < n && s[i] == '"';
	unsigned char c;

	sec->off = p->vals.len;
	i += q;
	while (i < n) {
		c = (unsigned char)s[i];
		if (q ? c == '"' : (c == ';' || is_wsp(c)))
			break;
		if (p->cp932 && sj_lead(c) && i + 1 < n) {
			if (buf_append(&p->vals, s + i, 2) < 0)
				return n + 1;
			i += 2;
			continue;
		}
		if (q && c == '\\' && i + 1 < n)
			i++;
		if (buf_putc(&p->vals, s[i++]) < 0)
			return n + 1;
	}
	sec->len = p->vals.len - sec->off;
	return i + (q && i < n);
}

/* Which slot of p an attribute name belongs to, or NULL. */
static section_t *param_slot(params_t *p, const char *a, size_t al,
			     const char *name, bool *encoded)
{
	size_t nl = strlen(name), k = nl;
	unsigned idx = 0;

	*encoded = false;
	if (al < nl || strncasecmp(a, name, nl) != 0)
		return NULL;
	*encoded = al > nl && a[al - 1] == '*';
	if (al == nl)
		return &p->plain;
	if (a[k++] != '*')
		return NULL;
	if (k == al)
		return &p->ext;
	while (k < al && a[k] >= '0' && a[k] <= '9' && idx < RFC2231_SECTIONS_MAX)
		idx = idx * 10 + (unsigned)(a[k++] - '0');
	if (k != al - *encoded || idx >= RFC2231_SECTIONS_MAX)
		return NULL;
	return &p->sec[idx];
}

static size_t skip_wsp(const char *s, size_t n, size_t i)
{
	while (i < n && (is_wsp(s[i]) || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* Skip to just after the next ';' outside quotes (linear). */
static size_t next_param(const params_t *p, const char *s, size_t n, size_t i)
{
	bool q = false;

	for (; i < n; i++) {
		if (p->cp932 && sj_lead((unsigned char)s[i])) {
			i++;
			continue;
		}
		if (q && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == ';')
			return i + 1;
	}
	return n;
}

static int parse_params(params_t *p, const char *s, size_t n, const char *name)
{
	size_t i = next_param(p, s, n, 0), a, al;
	section_t *sec, tmp;
	bool enc;

	while (i < n) {
		i = skip_wsp(s, n, i);
		for (a = i; i < n && s[i] != '=' && s[i] != ';' && !is_wsp(s[i]); i++)
			;
		al = i - a;
		i = skip_wsp(s, n, i);
		if (i >= n || s[i] != '=') {
			i = next_param(p, s, n, i);
			continue;
		}
		i = skip_wsp(s, n, i + 1);
		sec = param_slot(p, s + a, al, name, &enc);
		if (!sec || sec->present)
			sec = &tmp;
		i = read_value(p, s, n, i, sec);
		if (i > n)
			return -1;
		sec->present = true;
		sec->encoded = enc;
		i = next_param(p, s, n, i);
	}
	return 0;
}

static int pct_decode(const char *s, size_t n, buf_t *dst)
{
	size_t i;
	int rc = 0, h, l;

	for (i = 0; i < n && rc == 0; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (h = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)s[i + 2])) >= 0) {
			rc = buf_putc(dst, h * 16 + l);
			i += 2;
		} else {
			rc = buf_putc(dst, s[i]);
		}
	}
	return rc;
}

/* Append one RFC 2231 section; the first encoded one carries
 * charset'lang'. */
static int add_section(const params_t *p, const section_t *sec, bool first,
		       char *charset, buf_t *bytes)
{
	const char *v = p->vals.data ? p->vals.data + sec->off : "", *q1, *q2;
	size_t n = sec->len, cl;

	if (!sec->encoded)
		return buf_append(bytes, v, n);
	if (first && (q1 = memchr(v, '\'', n)) &&
	    (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v)))) {
		cl = (size_t)(q1 - v);
		if (cl <= EW_CHARSET_MAX) {
			memcpy(charset, v, cl);
			charset[cl] = '\0';
		}
		n -= (size_t)(q2 + 1 - v);
		v = q2 + 1;
	}
	return pct_decode(v, n, bytes);
}

static int decode_2231(const params_t *p, buf_t *out, charset_stats_t *st)
{
	char charset[EW_CHARSET_MAX + 1] = "";
	buf_t bytes, text;
	size_t k;
	bool first = true;
	int rc = -1;

	scratch_init(&bytes, out, p->vals.len);
	scratch_init(&text, out, p->vals.len);
	if (p->ext.present) {
		if (add_section(p, &p->ext, true, charset, &bytes) < 0)
			goto out;
	} else {
		for (k = 0; k < RFC2231_SECTIONS_MAX; k++) {
			if (!p->sec[k].present)
				continue;
			if (add_section(p, &p->sec[k], first, charset, &bytes) < 0)
				goto out;
			first = false;
		}
	}
	if (charset_decode(charset[0] ? charset : NULL, bytes.data ? bytes.data : "",
			   bytes.len, &text, st) < 0 ||
	    put_clean(out, text.data ? text.data : "", text.len, false) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&bytes);
	buf_free(&text);
	return rc;
}

static bool any_section(const params_t *p)
{
	size_t k;

	for (k = 0; k < RFC2231_SECTIONS_MAX; k++)
		if (p->sec[k].present)
			return true;
	return false;
}

int hdr_param(const char *raw, size_t len, const char *name, buf_t *out,
	      charset_stats_t *st)
{
	params_t *p = calloc(1, sizeof(*p));
	int rc = -1;

	if (!p)
		return -1;
	scratch_init(&p->vals, out, len);
	p->cp932 = strcmp(charset_sniff(raw, len), "CP932") == 0;
	if (parse_params(p, raw, len, name) < 0)
		goto out;
	if (p->ext.present || any_section(p))
		rc = decode_2231(p, out, st);
	else if (p->plain.present)
		rc = hdr_decode_text(p->vals.data ? p->vals.data + p->plain.off : "", p->plain.len, out,
				     st); /* (an empty value: nothing was kept) */
	else
		rc = 0;
	if (rc == 0)
		rc = p->ext.present || any_section(p) || p->plain.present;
out:
	buf_free(&p->vals);
	free(p);
	return rc;
}
