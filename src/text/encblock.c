/*
 * encblock.c — cut uuencode, BinHex 4.0 and yEnc blocks out of text (see
 * encblock.h). Specs: POSIX uuencode/uudecode (historical and -m base64
 * forms), RFC 1741 (BinHex 4.0), yEnc 1.3 (www.yenc.org/yenc-draft.1.3.txt).
 *
 * Lines are read once, left to right; a block start is a line whose first
 * non-blank characters are "begin <octal> ", "begin-base64 <octal> ",
 * "(This file must be converted with BinHex" or "=ybegin" (ASCII case
 * ignored). The block then runs:
 *   uuencode   over the following data lines (characters 0x20–0x60, or the
 *              base64 alphabet for begin-base64) and an "end" / "====" line;
 *   BinHex     over blank lines, then from a line starting with ':' to the
 *              line holding the closing ':' (or up to a blank line);
 *   yEnc       to the "=yend" line, else to the end of the text.
 *
 * SECURITY: sanitizer worker, hostile text; linear, no allocation except
 * the caller's capped buffer.
 */
#include "text/encblock.h"

#include <string.h>
#include <strings.h>

typedef struct line {
	const char *p;   /* first byte of the line */
	size_t n;        /* bytes before LF (a trailing CR is not counted) */
	size_t next;     /* offset of the next line */
} line_t;

static line_t line_at(const char *s, size_t len, size_t off)
{
	const char *nl = memchr(s + off, '\n', len - off);
	line_t l = { s + off, (nl ? (size_t)(nl - s) : len) - off, nl ? (size_t)(nl - s) + 1 : len };

	if (l.n && l.p[l.n - 1] == '\r')
		l.n--;
	return l;
}

static size_t skip_blanks(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

static bool blank_line(const line_t *l)
{
	return skip_blanks(l->p, l->n) == l->n;
}

static bool has_prefix(const char *p, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	return n >= k && strncasecmp(p, pre, k) == 0;
}

/* "begin[-base64] <octal> " → offset of the name, 0 when not a begin line. */
static size_t uu_begin(const char *p, size_t n, bool *b64)
{
	size_t i = has_prefix(p, n, "begin-base64 ") ? 13 : has_prefix(p, n, "begin ") ? 6 : 0;
	size_t d = 0;

	if (!i)
		return 0;
	*b64 = i == 13;
	while (i + d < n && p[i + d] >= '0' && p[i + d] <= '7')
		d++;
	if (d == 0 || i + d >= n || p[i + d] != ' ')
		return 0;
	return i + d + 1;
}

#define BINHEX_HEAD "(This file must be converted with BinHex"

const char *encblock_type(encblock_kind_t k)
{
	static const char *const t[] = { "text/x-uuencode", "application/mac-binhex40",
					 "text/x-yenc" };

	return t[k];
}

/* Bytes of the UTF-8 sequence that starts with byte c (1 for others). */
static size_t seq_len(unsigned char c)
{
	return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Copy a name, without NULs and trailing blanks, cut on a UTF-8 boundary. */
static void set_name(encblock_t *b, const char *p, size_t n)
{
	size_t o = 0, j;

	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n && o < ENCBLOCK_NAME_MAX; i++)
		if (p[i] != '\0')
			b->name[o++] = p[i];
	for (j = o; j > 0 && ((unsigned char)b->name[j - 1] & 0xC0) == 0x80; j--)
		;
	if (j > 0 && (unsigned char)b->name[j - 1] >= 0xC0 &&
	    o - (j - 1) < seq_len((unsigned char)b->name[j - 1]))
		o = j - 1; /* the last character was cut */
	b->name[o] = '\0';
}

/* --- uuencode ------------------------------------------------------- */

static bool uu_data(const line_t *l, bool b64)
{
	if (l->n == 0)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		unsigned char c = (unsigned char)l->p[i];

		if (b64 ? !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')
			: (c < 0x20 || c > 0x60))
			return false;
	}
	return true;
}

static bool is_word(const line_t *l, const char *w)
{
	size_t k = strlen(w), e = l->n;

	while (e > k && (l->p[e - 1] == ' ' || l->p[e - 1] == '\t'))
		e--;
	return e == k && strncasecmp(l->p, w, k) == 0;
}

static size_t uu_block(const char *s, size_t len, size_t off, bool b64, encblock_t *b)
{
	const char *end = b64 ? "====" : "end";

	while (off < len) {
		line_t l = line_at(s, len, off);

		if (is_word(&l, end)) {
			b->complete = true;
			return l.next;
		}
		if (!uu_data(&l, b64))
			break;
		b->size += b64 ? l.n / 4 * 3 : (size_t)((l.p[0] - 0x20) & 0x3F);
		off = l.next;
	}
	return off;
}

/* --- BinHex 4.0 ----------------------------------------------------- */

static const char hqx_alpha[] =
	"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

typedef struct hqx {
	unsigned acc, bits;
	unsigned char out[96];  /* the first decoded (RLE-expanded) bytes */
	size_t n;
	int last;               /* previous byte for RLE, -1 none */
	bool marker;            /* 0x90 seen, count follows */
	size_t chars;           /* data characters seen */
} hqx_t;

static void hqx_put(hqx_t *h, unsigned char byte)
{
	if (h->marker) {
		h->marker = false;
		if (byte == 0) {
			if (h->n < sizeof(h->out))
				h->out[h->n++] = 0x90;
			h->last = 0x90;
			return;
		}
		for (unsigned k = 1; k < byte && h->last >= 0 && h->n < sizeof(h->out); k++)
			h->out[h->n++] = (unsigned char)h->last;
		return;
	}
	if (byte == 0x90) {
		h->marker = true;
		return;
	}
	if (h->n < sizeof(h->out))
		h->out[h->n++] = byte;
	h->last = byte;
}

static void hqx_char(hqx_t *h, const char *pos)
{
	h->chars++;
	if (h->n >= sizeof(h->out))
		return;
	h->acc = (h->acc << 6) | (unsigned)(pos - hqx_alpha);
	h->bits += 6;
	if (h->bits >= 8) {
		h->bits -= 8;
		hqx_put(h, (unsigned char)((h->acc >> h->bits) & 0xFF));
	}
}

static unsigned long be32(const unsigned char *p)
{
	return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) |
	       ((unsigned long)p[2] << 8) | p[3];
}

/* Header: name length, name, version, type[4], creator[4], flags[2],
 * data length[4], resource length[4], CRC[2]. */
static void hqx_finish(const hqx_t *h, encblock_t *b)
{
	size_t nl = h->n ? h->out[0] : 0;

	b->size = h->chars * 6 / 8;
	if (nl == 0 || nl > 63 || h->n < 1 + nl)
		return;
	set_name(b, (const char *)h->out + 1, nl);
	if (h->n >= 1 + nl + 1 + 10 + 8)
		b->size = be32(h->out + 1 + nl + 11) + be32(h->out + 1 + nl + 15);
}

/* From the line after the header: blank lines, then ':' data ':'. */
static size_t binhex_block(const char *s, size_t len, size_t off, encblock_t *b)
{
	hqx_t h;
	bool open = false;

	memset(&h, 0, sizeof(h));
	h.last = -1;
	while (off < len) {
		line_t l = line_at(s, len, off);
		size_t i = 0;

		if (blank_line(&l)) {
			if (open)
				break; /* malformed: no closing ':' before a blank line */
			off = l.next;
			continue;
		}
		if (!open) {
			if (l.p[0] != ':')
				break;
			open = true;
			i = 1;
		}
		off = l.next;
		for (; i < l.n; i++) {
			const char *pos;

			if (l.p[i] == ':') {
				b->complete = true;
				hqx_finish(&h, b);
				return off;
			}
			pos = l.p[i] ? strchr(hqx_alpha, l.p[i]) : NULL;
			if (pos)
				hqx_char(&h, pos);
		}
	}
	hqx_finish(&h, b);
	return off;
}

/* --- yEnc ----------------------------------------------------------- */

/* "size=" and "name=" of the =ybegin line (name runs to the line end). */
static void yenc_header(const line_t *l, encblock_t *b)
{
	for (size_t i = 0; i + 5 <= l->n; i++) {
		if (i > 0 && l->p[i - 1] != ' ')
			continue;
		if (strncasecmp(l->p + i, "name=", 5) == 0) {
			set_name(b, l->p + i + 5, l->n - i - 5);
			return;
		}
		if (strncasecmp(l->p + i, "size=", 5) == 0) {
			size_t v = 0;

			for (size_t k = i + 5; k < l->n && l->p[k] >= '0' && l->p[k] <= '9' &&
					       v < ((size_t)-1) / 10 - 9; k++)
				v = v * 10 + (size_t)(l->p[k] - '0');
			b->size = v;
		}
	}
}

static size_t yenc_block(const char *s, size_t len, size_t off, encblock_t *b)
{
	size_t data = 0;

	while (off < len) {
		line_t l = line_at(s, len, off);
		size_t k = skip_blanks(l.p, l.n);

		off = l.next;
		if (has_prefix(l.p + k, l.n - k, "=yend")) {
			b->complete = true;
			break;
		}
		if (!has_prefix(l.p + k, l.n - k, "=ypart"))
			data += l.n;
	}
	if (!b->size)
		b->size = data;
	return off;
}

/* --- driver --------------------------------------------------------- */

static bool opens_block(const line_t *l)
{
	size_t k = skip_blanks(l->p, l->n);
	bool b64;

	return uu_begin(l->p + k, l->n - k, &b64) || has_prefix(l->p + k, l->n - k, BINHEX_HEAD) ||
	       has_prefix(l->p + k, l->n - k, "=ybegin");
}

bool encblock_has_start(const char *s, size_t n)
{
	for (size_t off = 0; off < n;) {
		line_t l = line_at(s, n, off);

		if (opens_block(&l))
			return true;
		off = l.next;
	}
	return false;
}

/* If the line at off opens a block, fill b and return the offset after it. */
static size_t block_at(const char *s, size_t len, size_t off, encblock_t *b)
{
	line_t l = line_at(s, len, off);
	size_t k = skip_blanks(l.p, l.n), name;
	bool b64 = false;

	memset(b, 0, sizeof(*b));
	if ((name = uu_begin(l.p + k, l.n - k, &b64)) != 0) {
		b->kind = ENCBLOCK_UU;
		set_name(b, l.p + k + name, l.n - k - name);
		return uu_block(s, len, l.next, b64, b);
	}
	if (has_prefix(l.p + k, l.n - k, BINHEX_HEAD)) {
		b->kind = ENCBLOCK_BINHEX;
		return binhex_block(s, len, l.next, b);
	}
	if (has_prefix(l.p + k, l.n - k, "=ybegin")) {
		b->kind = ENCBLOCK_YENC;
		yenc_header(&l, b);
		return yenc_block(s, len, l.next, b);
	}
	return 0;
}

int encblock_strip(const char *in, size_t len, buf_t *out, encblock_fn fn, void *arg)
{
	size_t off = 0, kept = 0;
	int count = 0;
	encblock_t b;

	while (off < len) {
		size_t after = block_at(in, len, off, &b);

		if (!after) {
			off = line_at(in, len, off).next;
			continue;
		}
		if (buf_append(out, in + kept, off - kept) < 0)
			return -1;
		if (fn && fn(arg, &b) < 0)
			return -1;
		count++;
		off = kept = after;
	}
	if (buf_append(out, in + kept, len - kept) < 0)
		return -1;
	return count;
}
