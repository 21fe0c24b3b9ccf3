/*
 * writer.c — the one text writer (see writer.h for the order of steps).
 *
 * Specs: RFC 3629 (UTF-8), Unicode UAX #9 (bidi controls), UTS #39 §3.4
 * (default-ignorable code points), the output contract of issue #8
 * (rules 1 and 8 here; rules 2–6 in text/link.c).
 * Code points removed: C0 except TAB and LF (so CR, bare or not), DEL, C1,
 * U+00AD, U+061C, U+180E, U+200B, U+200E, U+200F, U+202A–U+202E,
 * U+2060–U+2064, U+2066–U+2069, U+FEFF, U+FFF9–U+FFFB, U+E0000–U+E007F;
 * U+2028/U+2029 become a line end. Invalid UTF-8 becomes U+FFFD.
 *
 * SECURITY: hostile text in; linear time (the marker look-back is bounded
 * by the longest marker); every buffer capped.
 */
#include "text/writer.h"

#include <endian.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"

bool wr_cp_removed(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t' && cp != '\n';
	if (cp < 0x7F)
		return false;
	return cp <= 0x9F || cp == 0xAD || cp == 0x61C || cp == 0x180E || cp == 0x200B ||
	       cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
	       (cp >= 0xE0000 && cp <= 0xE007F);
}

/* ASCII kept as it is: printable but ']' (1), and TAB and LF unless the
 * text is confined to one line (2). */
static const unsigned char ascii_kept[128] = {
	['\t'] = 2, ['\n'] = 2,
	[0x20] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* ']' */, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* DEL */,
};

/* A code point slow_char would copy unchanged. */
static bool cp_kept(uint32_t cp)
{
	if (cp >= 0x3000 && cp < 0xD800) /* kana, CJK, hangul */
		return cp != 0x3011;     /* 】 */
	return cp != 0x2028 && cp != 0x2029 && cp != 0x2501 && !wr_cp_removed(cp);
}

/* Well-formed 3-byte sequences U+3000–U+CFFF but U+3011 "】" from *j on,
 * without decoding; false when none. */
static bool japanese_run(const unsigned char *p, size_t *j, size_t n)
{
	size_t k = *j;

#if defined(__SSE2__)
	/* sixteen bytes loaded, fifteen judged (five characters): leads E3–EC
	 * exactly at every third byte, continuation bytes between, no third
	 * byte 0x91 (a 】 candidate, left to the loops below) */
	for (; n - k >= 16; k += 15) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
		unsigned lead = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8((char)0xE2)),
				      _mm_cmplt_epi8(x, _mm_set1_epi8((char)0xED))));
		unsigned cont = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(x, _mm_set1_epi8((char)0xC0)));
		unsigned x91 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)0x91)));

		if ((lead & 0x7FFF) != 0x1249 || (cont & 0x7FFF) != 0x6DB6 || (x91 & 0x4924))
			break;
	}
#endif
	/* eight bytes loaded, six judged (two characters), then four loaded,
	 * three judged: lead E3–EC, two continuation bytes, not E3 80 91
	 * (little-endian: the lead is the low byte) */
	for (uint64_t x; n - k >= 8; k += 6) {
		memcpy(&x, p + k, 8);
		x = le64toh(x);
		if ((x & 0xC0C000C0C000ull) != 0x808000808000ull || (x & 0xFF) - 0xE3u > 9u ||
		    (x >> 24 & 0xFF) - 0xE3u > 9u || (x & 0xFFFFFF) == 0x9180E3 ||
		    (x >> 24 & 0xFFFFFF) == 0x9180E3)
			break;
	}
	for (uint32_t x; n - k >= 4; k += 3) {
		memcpy(&x, p + k, 4);
		x = le32toh(x) & 0xFFFFFF;
		if ((x & 0xC0C000) != 0x808000 || (x & 0xFF) - 0xE3u > 9u || x == 0x9180E3)
			break;
	}
	while (n - k >= 3) {
		unsigned a = p[k], b = p[k + 1], d = p[k + 2];

		if (a - 0xE3u > 9u || ((b ^ 0x80u) | (d ^ 0x80u)) >= 0x40u ||
		    (a == 0xE3 && b == 0x80 && d == 0x91))
			break;
		k += 3;
	}
	if (k == *j)
		return false;
	*j = k;
	return true;
}

/* Eight bytes of printable ASCII (0x20-0x7E) without ']': kept as they
 * are. Bit tricks on one 64-bit load: a byte < 0x20 borrows or a byte
 * >= 0x80 has its high bit; DEL and ']' are found as zero bytes of x ^ c. */
static bool printable8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t x, d, b;

	memcpy(&x, p, 8);
	d = x ^ (0x7F * ones);
	b = x ^ (']' * ones);
	return !((((x - 0x20 * ones) | x) & highs) | ((d - ones) & ~d & highs) |
		 ((b - ones) & ~b & highs));
}

#if defined(__SSE2__)
/* How many of the sixteen bytes at p, from the first, are printable ASCII
 * other than ']' (0 to 16; signed > 0x1F is 0x20..0x7F, then not DEL). */
static size_t printable16(const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i bad = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
				   _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F)),
						_mm_cmpeq_epi8(x, _mm_set1_epi8(']'))));
	unsigned m = (unsigned)_mm_movemask_epi8(bad);

	return m ? (size_t)__builtin_ctz(m) : 16;
}
#endif

/* Bytes [i, j) that are kept as they are (slow_char would copy each one
 * unchanged): ASCII per ascii_kept (and ']' not after 'd'), well-formed 3-byte sequences
 * U+3000–U+CFFF but U+3011 "】" without decoding (the bulk of Japanese
 * text), and any other well-formed character cp_kept accepts. */
static size_t fast_run(const unsigned char *p, size_t i, size_t n, bool oneline)
{
	unsigned char lim = oneline ? 1 : 2;
	size_t j = i;

	while (j < n) {
		unsigned char c = p[j];
		uint32_t cp;
		size_t k;

#if defined(__SSE2__)
		if (c >= 0x20 && c < 0x7f && n - j >= 16) {
			size_t m = printable16(p + j);

			if (m) {
				j += m;
				continue;
			}
		}
#endif
		if (c >= 0x20 && c < 0x7f && n - j >= 8 && printable8(p + j)) {
			j += 8;
			continue;
		}
		if (c < 0x80) {
			/* ']' after anything but 'd' in this run closes no marker
			 * ("[SANITIZED", "[QUARANTINED"): the output ends with p[j-1] */
			if (c == ']' && j > i && (p[j - 1] | 0x20) != 'd') {
				j++;
				continue;
			}
			if (!ascii_kept[c] || ascii_kept[c] > lim)
				break;
			j++;
		} else if (c >= 0xE3 && c <= 0xEC && japanese_run(p, &j, n)) {
			continue;
		} else {
			k = utf8_decode_one(p + j, n - j, &cp);
			if (cp == UTF8_INVALID || !cp_kept(cp))
				break;
			j += k;
		}
	}
	return j - i;
}

static bool tail_is(const buf_t *o, const char *m, bool icase)
{
	size_t ml = strlen(m);

	if (!o->data || o->len < ml)
		return false;
	return icase ? strncasecmp(o->data + o->len - ml, m, ml) == 0
		     : memcmp(o->data + o->len - ml, m, ml) == 0;
}

/* A closing bracket: if the output ends in a notice marker's opening,
 * rewrite the marker so it no longer looks like ours (contract rule 8). */
static int close_bracket(buf_t *o, bool full)
{
	static const char *const ascii[] = { "[SANITIZED", "[QUARANTINED" };
	static const char *const ja[] = { "【無害化済み", "【隔離" };

	for (size_t k = 0; !full && k < MUGAI_ARRAY_LEN(ascii); k++) {
		if (tail_is(o, ascii[k], true)) {
			o->data[o->len - strlen(ascii[k])] = '(';
			return buf_putc(o, ')');
		}
	}
	for (size_t k = 0; full && k < MUGAI_ARRAY_LEN(ja); k++) {
		if (tail_is(o, ja[k], false)) {
			memcpy(o->data + o->len - strlen(ja[k]), "\xEF\xBC\xBB", 3); /* ［ */
			return buf_puts(o, "\xEF\xBC\xBD");                         /* ］ */
		}
	}
	return buf_puts(o, full ? "\xE3\x80\x91" : "]");
}

/* One character that left the fast path. Returns bytes consumed, 0 on
 * failure. */
static size_t slow_char(buf_t *out, const unsigned char *p, size_t n, unsigned flags)
{
	bool oneline = flags & WR_ONELINE, trusted = flags & WR_TRUSTED;
	uint32_t cp = p[0];
	size_t used = 1;
	int rc = 0;

	if (p[0] >= 0x80)
		used = utf8_decode_one(p, n, &cp);
	if (cp == UTF8_INVALID)
		rc = buf_puts(out, "\xEF\xBF\xBD");
	else if (cp == '\t' || cp == '\n' || cp == 0x2028 || cp == 0x2029)
		rc = buf_putc(out, oneline ? ' ' : cp == '\t' ? '\t' : '\n');
	else if (wr_cp_removed(cp))
		rc = 0;
	else if (!trusted && cp == ']')
		rc = close_bracket(out, false);
	else if (!trusted && cp == 0x3011)
		rc = close_bracket(out, true);
	else if (!trusted && cp == 0x2501)
		rc = buf_puts(out, "\xE2\x94\x80"); /* ━ → ─ */
	else
		rc = buf_append(out, p, used);
	return rc < 0 ? 0 : used;
}

int wr_clean(buf_t *out, const char *s, size_t n, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t fast = fast_run(p, i, n, flags & WR_ONELINE), used;

		if (fast) {
			if (buf_append(out, s + i, fast) < 0)
				return -1;
			i += fast;
			continue;
		}
		used = slow_char(out, p + i, n - i, flags);
		if (used == 0)
			return -1;
		i += used;
	}
	return 0;
}

/* Room for text after cleaning: each invalid byte may become 3 bytes. */
static size_t clean_cap(size_t n)
{
	return n > (SIZE_MAX - 64) / 3 ? SIZE_MAX : n * 3 + 64;
}

/* Does s[0..n) come out of wr_clean(flags 0) unchanged? (Most text does:
 * then the link scan reads it in place, without a copy.) */
static bool already_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t fast = fast_run(p, i, n, false), used;
		uint32_t cp = p[i];

		if (fast) {
			i += fast;
			continue;
		}
		used = p[i] < 0x80 ? 1 : utf8_decode_one(p + i, n - i, &cp);
		if (cp == UTF8_INVALID || wr_cp_removed(cp) || cp == 0x2028 || cp == 0x2029 ||
		    cp == 0x2501 || cp == 0x3011)
			return false;
		if (cp == ']' && ((i >= 10 && strncasecmp(s + i - 10, "[SANITIZED", 10) == 0) ||
				  (i >= 12 && strncasecmp(s + i - 12, "[QUARANTINED", 12) == 0)))
			return false;
		i += used;
	}
	return true;
}

int wr_text(buf_t *out, const char *s, size_t n, link_style_t style, link_counts_t *c)
{
	buf_t t;
	int rc;

	if (already_clean(s, n))
		return link_rewrite_text(s, n, style, out, c);
	buf_init(&t, clean_cap(n));
	rc = wr_clean(&t, s, n, 0);
	if (rc == 0)
		rc = link_rewrite_text(t.data ? t.data : "", t.len, style, out, c);
	buf_free(&t);
	return rc;
}

size_t wr_prefix(const char *s, size_t n, size_t max_chars)
{
	size_t i = 0;

	for (size_t k = 0; k < max_chars && i < n; k++) {
		uint32_t cp;

		i += utf8_decode_one((const unsigned char *)s + i, n - i, &cp);
	}
	return i;
}

int wr_line(buf_t *out, const char *s, size_t n, size_t max_chars)
{
	link_counts_t scratch = { 0, 0 };
	size_t cut;
	buf_t t;
	int rc;

	buf_init(&t, clean_cap(n));
	rc = wr_clean(&t, s, n, WR_ONELINE);
	cut = max_chars ? wr_prefix(t.data ? t.data : "", t.len, max_chars) : t.len;
	if (rc == 0)
		rc = link_rewrite_text(t.data ? t.data : "", cut, LINK_DEFANG, out, &scratch);
	if (rc == 0 && cut < t.len)
		rc = buf_puts(out, "…");
	buf_free(&t);
	return rc;
}

int wr_quoted(buf_t *out, const char *s, size_t n)
{
	if (buf_puts(out, "「") < 0 || wr_line(out, s, n, WR_FIELD_MAX) < 0)
		return -1;
	return buf_puts(out, "」");
}

/* "=?" or "?=" in a decoded header value would reach the rebuilt header as
 * ASCII text that a reader may take for (part of) an RFC 2047 encoded-word,
 * showing what this writer never saw, and GMime's own encoder mishandles a
 * phrase ending in "?=": write each pair with a space between ("= ?",
 * "? ="). Rebuilt into a second buffer (at most one byte more per byte). */
static bool ew_pair(char a, char b)
{
	return (a == '=' && b == '?') || (a == '?' && b == '=');
}

static int no_encoded_word(buf_t *b)
{
	buf_t o;
	size_t i, from = 0;

	if (!b->data || (!memmem(b->data, b->len, "=?", 2) && !memmem(b->data, b->len, "?=", 2)))
		return 0;
	buf_init(&o, b->len * 2 + 1);
	for (i = 0; i + 1 < b->len; i++) {
		if (!ew_pair(b->data[i], b->data[i + 1]))
			continue;
		if (buf_append(&o, b->data + from, i + 1 - from) < 0 || buf_putc(&o, ' ') < 0)
			goto fail;
		from = i + 1;
	}
	if (buf_append(&o, b->data + from, b->len - from) < 0)
		goto fail;
	buf_free(b);
	*b = o;
	return 0;
fail:
	buf_free(&o);
	return -1;
}

char *wr_header(const char *s, size_t n, size_t max_chars)
{
	buf_t b;

	/* cleaning at most triples, defanging at most triples again */
	buf_init(&b, clean_cap(clean_cap(n)));
	if (wr_line(&b, s, n, max_chars) < 0 || no_encoded_word(&b) < 0) {
		buf_free(&b);
		return NULL;
	}
	if (!b.data && buf_puts(&b, "") < 0)
		return NULL;
	return buf_steal(&b, NULL);
}

int wr_trusted(buf_t *out, const char *s)
{
	return wr_clean(out, s, strlen(s), WR_TRUSTED);
}

static bool is_local(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("._%+-", c));
}

static bool is_host(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

bool wr_has_address(const char *s, size_t n)
{
	for (size_t i = 1; i + 1 < n; i++) {
		size_t j = i + 1;
		bool dot = false;

		if (s[i] != '@' || !is_local((unsigned char)s[i - 1]))
			continue;
		while (j < n && is_host((unsigned char)s[j])) {
			dot |= s[j] == '.' && j > i + 1 && j + 1 < n && is_host((unsigned char)s[j + 1]) &&
			       s[j + 1] != '.';
			j++;
		}
		if (dot)
			return true;
	}
	return false;
}
